/**
 * The shared secret in a push endpoint (?token=<secret>) never reaches text: the masking itself,
 * the set-up's and the set-up check's lines, and the error n8n receives.
 */
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { redact, tokensOf, withoutTokens } from '../../nodes/GmailPushTrigger/core/redact';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE, subscriptionProblems, type PubSubAdminPort, type PubSubSubscription, type WantedSubscription } from '../../nodes/GmailPushTrigger/core/setup';
import { checkSetUp, formatCheck } from '../../nodes/GmailPushTrigger/core/check';
import { withoutSecrets } from '../../nodes/GmailPushTrigger/shell/errors';

const URL_ = 'https://n8n.example.com/webhook/abc/webhook';
/** Characters encodeURIComponent changes, so the raw, encoded and decoded forms all differ. */
const OLD = 'old secret/with+plus&more=0123';
const NEW = 'new-Secret(2)!~*42/abcdef+xyz';
const at = (secret: string) => `${URL_}?token=${encodeURIComponent(secret)}`;
/** Every form a secret can take in text. */
const forms = (secret: string) => [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')];
const leaks = (text: string) => [OLD, NEW].flatMap(forms).filter((form) => text.includes(form));

describe('redact', () => {
	it('masks the value of every token= parameter, in a URL and in a sentence, and keeps the rest', () => {
		expect(redact(`${URL_}?token=abc123`)).toBe(`${URL_}?token=…`);
		expect(redact(`${URL_}?a=1&token=abc123&b=2#top`)).toBe(`${URL_}?a=1&token=…&b=2#top`);
		// A raw token runs to the next space: punctuation after it goes too, since a secret may end in ) or .
		expect(redact(`pushes to ${URL_}?token=s3cr3t-value, not to ${URL_}?token=other-value).`)).toBe(`pushes to ${URL_}?token=… not to ${URL_}?token=…`);
		expect(redact('{"pushEndpoint":"https://x/hook?token=abc"}')).toBe('{"pushEndpoint":"https://x/hook?token=…"}');
		expect(redact('https%3A%2F%2Fx%2Fhook%3Ftoken%3Dabc123 and more')).toBe('https%3A%2F%2Fx%2Fhook%3Ftoken%3D… and more');
		expect(redact('nothing to hide: token= and ?token=<secret>')).toBe('nothing to hide: token= and ?token=<secret>');
	});

	it('masks a token that is already masked no further, and keeps the punctuation after it', () => {
		const once = redact(`(to ${URL_}?token=…); pull needs more. ${URL_}?token=…, then`);
		expect(once).toBe(`(to ${URL_}?token=…); pull needs more. ${URL_}?token=…, then`);
		expect(redact(once)).toBe(once);
		expect(redact(`${URL_}?token=…tail`)).toBe(`${URL_}?token=…`);
	});

	it('masks the tokens of the endpoints it is given anywhere in the text, as written or decoded', () => {
		const text = `Google said: endpoint ${NEW} (or ${encodeURIComponent(NEW)}) is refused; old: ${OLD}`;
		expect(leaks(redact(text, [at(NEW), at(OLD)]))).toEqual([]);
		expect(redact(text, [at(NEW), at(OLD)])).toBe('Google said: endpoint … (or …) is refused; old: …');
		// A short token is no word to hunt for in free text, only after token=.
		expect(redact('a bc d', ['https://x?token=bc'])).toBe('a bc d');
	});

	it('reads the tokens of an endpoint, and the endpoint without them', () => {
		expect(tokensOf(at(NEW))).toEqual(expect.arrayContaining([NEW, encodeURIComponent(NEW)]));
		expect(tokensOf(URL_)).toEqual([]);
		expect(withoutTokens(at(NEW))).toBe(URL_);
		expect(withoutTokens(`${URL_}?a=1&token=x&b=2`)).toBe(`${URL_}?a=1&b=2`);
	});
});

describe('the set-up names no secret', () => {
	const name = 'projects/p/subscriptions/gmail-push-n8n';
	const topic = 'projects/p/topics/gmail-push';
	const wanted: WantedSubscription = { name, topic, kind: 'push', pushEndpoint: at(NEW), ackDeadlineSeconds: 60 };
	const pushingTo = (pushEndpoint: string): PubSubSubscription => ({ topic, pushConfig: { pushEndpoint } });

	it('a subscription still pushing with the old secret is a mismatch that says the token differs, naming neither secret', () => {
		const problems = subscriptionProblems(pushingTo(at(OLD)), wanted);
		expect(problems.map((p) => p.severity)).toEqual(['blocks']);
		expect(problems[0].line).toBe(
			`Subscription ${name} pushes to this node's Production URL, but its token=… differs from the node's shared secret (was the secret changed?): ` +
				"set its endpoint to the Production URL followed by ?token= and the node's current secret (Pub/Sub > Subscriptions > gmail-push-n8n > Edit), " +
				'or delete the subscription and activate again: the set-up makes it anew',
		);
		expect(leaks(problems[0].line)).toEqual([]);
		// The comparison is of the real endpoints: the same secret is no problem.
		expect(subscriptionProblems(pushingTo(at(NEW)), wanted)).toEqual([]);
	});

	it('an endpoint without the token, another endpoint, a pull subscription and a push one for pull: no secret in any line', () => {
		expect(subscriptionProblems(pushingTo(URL_), wanted)[0].line).toContain("pushes to this node's Production URL, but without the token the node's shared secret requires");
		const elsewhere = subscriptionProblems(pushingTo(`https://old.example.com/hook?token=${encodeURIComponent(OLD)}`), wanted)[0].line;
		expect(elsewhere).toContain(`pushes to https://old.example.com/hook?token=…, not to this node's Production URL ${URL_}?token=…: edit its endpoint`);
		const lines = [
			elsewhere,
			subscriptionProblems({ topic }, wanted)[0].line,
			subscriptionProblems(pushingTo(at(OLD)), { ...wanted, kind: 'pull', pushEndpoint: undefined })[0].line,
		];
		expect(lines.flatMap(leaks)).toEqual([]);
		expect(lines[1]).toContain(`push delivery needs it to push to ${URL_}?token=…: pick another`);
	});
});

describe('the set-up check names no secret', () => {
	const name = 'projects/p/subscriptions/gmail-push-n8n';
	const topic = 'projects/p/topics/gmail-push';
	const wanted: WantedSubscription = { name, topic, kind: 'push', pushEndpoint: at(NEW), ackDeadlineSeconds: 60 };
	/** Pub/Sub as a map of what exists: the check only reads. */
	const admin = (subscription: PubSubSubscription | Error | undefined): Pick<PubSubAdminPort, 'getTopic' | 'getTopicIamPolicy' | 'getSubscription'> => ({
		getTopic: async () => ({ name: topic }),
		getTopicIamPolicy: async () => ({ bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] }),
		getSubscription: async () => {
			if (subscription instanceof Error) throw subscription;
			return subscription;
		},
	});
	const gmail = { getProfile: async () => ({ emailAddress: 'user@example.com' }) };
	const check = async (subscription: PubSubSubscription | Error | undefined, setUpOn: boolean) =>
		formatCheck(await checkSetUp({ gmail, admin: admin(subscription) }, { delivery: 'push', topic, subscription: wanted, setUpOn }));

	it('the old secret on the subscription: the push endpoint line fails without either secret', async () => {
		const text = await check({ topic, pushConfig: { pushEndpoint: at(OLD) } }, true);
		expect(text).toContain("✗ Push endpoint: Subscription projects/p/subscriptions/gmail-push-n8n pushes to this node's Production URL, but its token=… differs");
		expect(leaks(text)).toEqual([]);
	});

	it('a missing subscription, with Set Up Google Cloud on or off, and a Google failure quoting the endpoint', async () => {
		const texts = [
			await check(undefined, true),
			await check(undefined, false),
			await check(Object.assign(new Error(`Pub/Sub subscriptions.get failed (400): bad endpoint ${at(NEW)} (${NEW})`), { status: 400 }), true),
		];
		expect(texts[0]).toContain(`the subscription made at activation pushes to ${URL_}?token=…`);
		expect(texts[1]).toContain(`create a push subscription to ${URL_}?token=… on ${topic}`);
		expect(texts[2]).toContain('? Subscription: not checked: Pub/Sub subscriptions.get failed (400): bad endpoint');
		expect(texts.flatMap(leaks)).toEqual([]);
	});
});

describe('withoutSecrets, the last stop before n8n', () => {
	const node: INode = { id: 'n', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1.1, position: [0, 0], parameters: {} };

	it('masks the message, the description, the stack and the messages of an n8n error, keeping its class', () => {
		const error = new NodeOperationError(node, `Setting up Google Cloud failed: endpoint=${at(NEW)}`, { description: `was ${at(OLD)}` });
		error.messages.push(`also ${at(NEW)}`);
		const masked = withoutSecrets(error, [at(NEW), at(OLD)]);
		expect(masked).toBe(error);
		expect(masked).toBeInstanceOf(NodeOperationError);
		expect(masked.message).toBe(`Setting up Google Cloud failed: endpoint=${URL_}?token=…`);
		expect(masked.description).toBe(`was ${URL_}?token=…`);
		const saved = JSON.stringify({ ...masked, message: masked.message, stack: masked.stack });
		expect(leaks(saved)).toEqual([]);
		expect(masked.stack).toContain('token=…');
	});

	it("masks Google's answer a NodeApiError keeps, and keeps its HTTP code", () => {
		const error = new NodeApiError(node, { message: `Invalid push endpoint given (endpoint=${at(NEW)})` } as JsonObject, { message: `refused: ${at(NEW)}`, httpCode: '400' });
		withoutSecrets(error);
		expect(error.httpCode).toBe('400');
		expect(leaks(JSON.stringify({ ...error, message: error.message, stack: error.stack }))).toEqual([]);
		expect(withoutSecrets(`plain ${at(NEW)}`)).toBe(`plain ${URL_}?token=…`);
	});
});
