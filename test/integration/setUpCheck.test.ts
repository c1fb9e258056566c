/**
 * The set-up check (googleCloud/check.ts) through our real transports: the Gmail port against the fake
 * Gmail, the Pub/Sub admin against Google's real Pub/Sub emulator behind the fake IAM (which
 * also plays a disabled API and an organisation policy). Every wrong prerequisite gives its own
 * line saying what to do; the check itself changes nothing.
 */
import { checkSetUp, type SetUpCheckInput } from '../../nodes/GmailPushTrigger/googleCloud/check';
import { codesOf, failingLines, unverifiedLines, type CheckLine, type SetUpRefusal } from '../../nodes/GmailPushTrigger/googleCloud/findings';
import { GMAIL_PUBLISHER } from '../../nodes/GmailPushTrigger/googleCloud/iam';
import { formatCheck, lineText } from '../../nodes/GmailPushTrigger/googleCloud/renderText';
import { ensureGoogleCloud } from '../../nodes/GmailPushTrigger/googleCloud/setUp';
import type { WantedSubscription } from '../../nodes/GmailPushTrigger/googleCloud/subscription';
import { PubSubAdminError } from '../../nodes/GmailPushTrigger/transport/pubsubAdminPort';
import type { RequestingAuth } from '../../nodes/GmailPushTrigger/transport/auth';
import { createPubSubAdmin } from '../../nodes/GmailPushTrigger/transport/pubsubAdmin';
import { SCOPES, type FakeGoogle } from '../support/fakeGoogle';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { plainAuth, plainRequest, startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { EMAIL, oauthClientFor, portFor, startFake } from './harness';

const PUBSUB = 'https://www.googleapis.com/auth/pubsub';
let emulator: PubSubEmulator;
let iam: FakeIam;
let fake: FakeGoogle;
let projects = 0;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
	iam = await startFakeIam(emulator.baseUrl);
	fake = await startFake();
	for (const route of pubSubAdminRoutes(iam)) fake.addRoute(route);
}, 60_000);
afterAll(async () => {
	await fake?.close();
	await iam?.close();
	await emulator?.stop();
});
afterEach(() => {
	fake.faults.clear();
	iam.allowedMemberDomains = undefined;
});


function project() {
	const id = `check-project-${++projects}`;
	return { id, topic: `projects/${id}/topics/gmail-push`, subscription: `projects/${id}/subscriptions/gmail-push-n8n` };
}

const URL_ = 'https://n8n.example.com/webhook/abc/webhook';
const SIGNER = 'push@check.iam.gserviceaccount.com';
const pull = (topic: string, name: string): WantedSubscription => ({ name, topic, kind: 'pull', ackDeadlineSeconds: 60 });
const push = (topic: string, name: string, endpoint = URL_): WantedSubscription => ({ name, topic, kind: 'push', pushEndpoint: endpoint, oidc: { serviceAccountEmail: SIGNER }, ackDeadlineSeconds: 60 });

/** Admin calls as the node makes them: straight to the IAM proxy, or through the fake Google with a token's scopes. */
const directAdmin = () => createPubSubAdmin(plainAuth, { rootUrl: iam.baseUrl });
const adminWithScopes = (scopes: string[]) => createPubSubAdmin(oauthClientFor(fake, scopes) as unknown as RequestingAuth, { rootUrl: `${fake.baseUrl}/` });

async function check(input: Partial<SetUpCheckInput> & Pick<SetUpCheckInput, 'topic'>, ports: { gmailScopes?: string[]; adminScopes?: string[] } = {}): Promise<CheckLine[]> {
	const admin = ports.adminScopes ? adminWithScopes(ports.adminScopes) : directAdmin();
	return await checkSetUp({ gmail: portFor(fake, ports.gmailScopes), admin }, { delivery: 'pull', setUpOn: false, ...input });
}

const statusOf = (lines: CheckLine[]) => Object.fromEntries(lines.map((l) => [l.prerequisite, l.status]));
/** A line in words, as the log and an activation error show it. */
const lineOf = (lines: CheckLine[], prerequisite: CheckLine['prerequisite']) => {
	const line = lines.find((l) => l.prerequisite === prerequisite);
	return line ? lineText(line) : '';
};
const codeOf = (lines: CheckLine[], prerequisite: CheckLine['prerequisite']) => codesOf(lines.find((l) => l.prerequisite === prerequisite));

describe('the set-up check', () => {
	it('everything in place (pull): every prerequisite holds, one line each, and nothing is written', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription));
		const writes = () => iam.calls.filter((c) => c.startsWith('PUT ') || c === 'topics.setIamPolicy').length;
		const before = writes();

		const lines = await check({ topic, subscription: pull(topic, subscription) });

		expect(statusOf(lines)).toEqual({
			'Gmail API': 'ok',
			'Pub/Sub API': 'ok',
			'Credential scopes': 'ok',
			Topic: 'ok',
			"Gmail's publisher grant": 'ok',
			'Organisation policy': 'ok',
			Subscription: 'ok',
		});
		expect(lineOf(lines, 'Gmail API')).toContain(EMAIL);
		expect(writes()).toBe(before);
		expect(formatCheck(lines).split('\n')).toHaveLength(7);
	});

	it('an empty project with Set Up Google Cloud off: topic, grant and subscription each fail, with the command that makes them', async () => {
		const { id, topic, subscription } = project();
		const lines = await check({ topic, subscription: pull(topic, subscription) });

		expect(failingLines(lines).map((l) => l.prerequisite)).toEqual(['Topic', "Gmail's publisher grant", 'Subscription']);
		expect([...codeOf(lines, 'Topic'), ...codeOf(lines, "Gmail's publisher grant"), ...codeOf(lines, 'Subscription')]).toEqual(['topic-missing', 'publisher-grant-missing', 'subscription-missing']);
		expect(lineOf(lines, 'Topic')).toContain(`gcloud pubsub topics create gmail-push --project=${id}`);
		expect(lineOf(lines, "Gmail's publisher grant")).toContain(`--member=${GMAIL_PUBLISHER} --role=roles/pubsub.publisher`);
		expect(lineOf(lines, 'Subscription')).toContain(`gcloud pubsub subscriptions create gmail-push-n8n --topic=${topic} --expiration-period=never`);
		expect(statusOf(lines)['Organisation policy']).toBe('unknown');
		expect((await plainRequest(`${emulator.baseUrl}/v1/${topic}`, 'GET')).status).toBe(404); // the check made nothing
	});

	it('the same project with Set Up Google Cloud on: nothing fails, what is missing is made at activation', async () => {
		const { topic, subscription } = project();
		const lines = await check({ topic, subscription: pull(topic, subscription), setUpOn: true });

		expect(failingLines(lines)).toEqual([]);
		expect(statusOf(lines)).toMatchObject({ Topic: 'at-activation', "Gmail's publisher grant": 'at-activation', Subscription: 'at-activation' });
	});

	it('the Gmail API not enabled: its line fails with the console link that enables it', async () => {
		const { id, topic, subscription } = project();
		await ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription));
		fake.faults.failNext('users.getProfile', 403, 1, {
			reason: 'accessNotConfigured',
			message: `Gmail API has not been used in project ${id} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=${id} then retry.`,
		});

		const lines = await check({ topic, subscription: pull(topic, subscription) });

		expect(failingLines(lines).map((l) => l.prerequisite)).toEqual(['Gmail API']);
		expect(codeOf(lines, 'Gmail API')).toEqual(['api-disabled']);
		expect(lineOf(lines, 'Gmail API')).toContain(`https://console.cloud.google.com/apis/library/gmail.googleapis.com?project=${id}`);
	});

	it('the Pub/Sub API not enabled: its line fails with the link; what depends on it is not checked', async () => {
		const { id, topic, subscription } = project();
		iam.disabledProjects.add(id);

		const lines = await check({ topic, subscription: pull(topic, subscription) });

		expect(failingLines(lines).map((l) => l.prerequisite)).toEqual(['Pub/Sub API']);
		expect(lineOf(lines, 'Pub/Sub API')).toContain(`https://console.cloud.google.com/apis/library/pubsub.googleapis.com?project=${id}`);
		expect(statusOf(lines)).toMatchObject({ Topic: 'unknown', "Gmail's publisher grant": 'unknown' });
	});

	it('a credential without the Gmail or the Pub/Sub scope: the scopes line names the missing scope', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription));

		const noGmail = await check({ topic, subscription: pull(topic, subscription) }, { gmailScopes: [SCOPES.labels] });
		expect(failingLines(noGmail).map((l) => l.prerequisite)).toEqual(['Credential scopes']);
		expect(codeOf(noGmail, 'Credential scopes')).toEqual(['scope-missing']);
		expect(lineOf(noGmail, 'Credential scopes')).toContain(SCOPES.readonly);

		const noPubSub = await check({ topic, subscription: pull(topic, subscription) }, { adminScopes: [SCOPES.readonly] });
		expect(failingLines(noPubSub).map((l) => l.prerequisite)).toEqual(['Credential scopes']);
		expect(lineOf(noPubSub, 'Credential scopes')).toContain(PUBSUB);

		const both = await check({ topic, subscription: pull(topic, subscription) }, { adminScopes: [SCOPES.readonly, PUBSUB] });
		expect(failingLines(both)).toEqual([]);
	});

	it('an organisation policy that refuses Gmail in IAM policies: the set-up is refused, and the check names the policy', async () => {
		const { topic, subscription } = project();
		iam.allowedMemberDomains = ['example.com'];
		const refused = await ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription)).then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(refused).toBeInstanceOf(PubSubAdminError);
		expect(refused).toMatchObject({ status: 400, reason: 'FAILED_PRECONDITION' });

		const lines = await check({ topic, subscription: pull(topic, subscription), setUpOn: true, grantRefusal: (refused as Error).message });

		expect(failingLines(lines).map((l) => l.prerequisite)).toEqual(['Organisation policy']);
		expect(codeOf(lines, 'Organisation policy')).toEqual(['org-policy-refused']);
		expect(lineOf(lines, 'Organisation policy')).toMatch(/permitted customer.*iam\.allowedPolicyMemberDomains/);
		expect(statusOf(lines)[`Gmail's publisher grant`]).toBe('at-activation');
	});

	it('a subscription attached to another topic fails its line, and is left as it is', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(directAdmin(), topic);
		const other = topic.replace('gmail-push', 'someone-elses');
		await emulator.createTopic(other);
		await emulator.createPullSubscription(other, subscription);

		const lines = await check({ topic, subscription: pull(topic, subscription), setUpOn: true });

		expect(failingLines(lines).map((l) => l.prerequisite)).toEqual(['Subscription']);
		expect(codeOf(lines, 'Subscription')).toEqual(['subscription-wrong-topic']);
		expect(lineOf(lines, 'Subscription')).toContain(`is attached to ${other}, not to ${topic}`);
	});

	it('push: the endpoint and the push authentication each have their line', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(directAdmin(), topic, push(topic, subscription));

		const right = await check({ delivery: 'push', topic, subscription: push(topic, subscription) });
		expect(statusOf(right)).toMatchObject({ Subscription: 'ok', 'Push endpoint': 'ok', 'Push authentication': 'ok' });
		expect(lineOf(right, 'Push authentication')).toContain(SIGNER);

		const moved = await check({ delivery: 'push', topic, subscription: push(topic, subscription, 'https://n8n.example.org/webhook/abc/webhook') });
		expect(failingLines(moved).map((l) => l.prerequisite)).toEqual(['Push endpoint']);
		expect(codeOf(moved, 'Push endpoint')).toEqual(['push-endpoint-differs']);
		expect(lineOf(moved, 'Push endpoint')).toContain(`pushes to ${URL_}, not to this node's Production URL https://n8n.example.org/webhook/abc/webhook`);

		const otherSigner = await check({ delivery: 'push', topic, subscription: { ...push(topic, subscription), oidc: { serviceAccountEmail: 'someone@else.iam.gserviceaccount.com' } } });
		expect(failingLines(otherSigner).map((l) => l.prerequisite)).toEqual(['Push authentication']);
		expect(lineOf(otherSigner, 'Push authentication')).toContain(`signs as ${SIGNER}`);
	});

	it('poll: only Gmail is checked (no Pub/Sub call)', async () => {
		const { topic } = project();
		const calls = iam.calls.length;
		const lines = await checkSetUp({ gmail: portFor(fake) }, { delivery: 'poll', topic, setUpOn: false });
		expect(lines.map((l) => l.prerequisite)).toEqual(['Gmail API', 'Credential scopes']);
		expect(failingLines(lines)).toEqual([]);
		expect(iam.calls.length).toBe(calls);
	});
});

/**
 * After Google refused part of the set-up, activation goes on only when the check, read-only,
 * finds everything the delivery needs (unverifiedLines empty); what is missing fails with what
 * to grant, instead of "made at activation" or "turn on Set Up Google Cloud".
 */
describe('the set-up check after a refused set-up', () => {
	const SERVICE_ACCOUNT = 'n8n-gmail@check.iam.gserviceaccount.com';
	afterEach(() => {
		iam.callerMayOnlyRead = false;
		iam.callerMayActAs = undefined;
	});

	/** What ensureGoogleCloud threw, as the set-up hands it to the check. */
	async function refusalOf(work: Promise<unknown>): Promise<SetUpRefusal> {
		const error = await work.then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(PubSubAdminError);
		const { message, call } = error as PubSubAdminError;
		return { message, ...(call && { call }), serviceAccount: SERVICE_ACCOUNT };
	}

	it('a signed push subscription refused for want of actAs: the subscription line names Service Account User on the signer', async () => {
		const { topic, subscription } = project();
		iam.callerMayActAs = [];
		const setUpRefusal = await refusalOf(ensureGoogleCloud(directAdmin(), topic, push(topic, subscription)));
		expect(setUpRefusal).toMatchObject({ call: 'subscriptions.create', message: expect.stringContaining('User not authorized to perform this action.') });

		const lines = await check({ delivery: 'push', topic, subscription: push(topic, subscription), setUpOn: true, setUpRefusal });

		expect(unverifiedLines(lines).map((l) => l.prerequisite)).toEqual(['Subscription', 'Push endpoint', 'Push authentication']);
		expect(lineOf(lines, 'Subscription')).toBe(
			`${subscription} does not exist, and Set Up Google Cloud may not make it: grant the service account ${SERVICE_ACCOUNT} Service Account User (roles/iam.serviceAccountUser) on ${SIGNER} ` +
				`(IAM & Admin > Service Accounts > ${SIGNER} > Permissions > Grant access): a push subscription that signs as ${SIGNER} needs iam.serviceAccounts.actAs on it, which Pub/Sub Admin does not include; ` +
				`or create a push subscription to ${URL_} on ${topic}`,
		);
		expect(statusOf(lines)).toMatchObject({ Topic: 'ok', "Gmail's publisher grant": 'ok' });
	});

	it('a credential that may only read: with everything in place nothing keeps the delivery from working (the grant it cannot read is left to the watch)', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription));
		iam.callerMayOnlyRead = true;
		const setUpRefusal = await refusalOf(ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription)));
		expect(setUpRefusal.call).toBe('topics.getIamPolicy');

		const lines = await check({ topic, subscription: pull(topic, subscription), setUpOn: true, setUpRefusal });

		expect(unverifiedLines(lines)).toEqual([]);
		expect(statusOf(lines)).toMatchObject({ Topic: 'ok', "Gmail's publisher grant": 'unknown', Subscription: 'ok' });
	});

	it('a credential that may only read, in an empty project: topic, grant and subscription fail, each saying to give Pub/Sub Admin', async () => {
		const { id, topic, subscription } = project();
		iam.callerMayOnlyRead = true;
		const setUpRefusal = await refusalOf(ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription)));

		const lines = await check({ topic, subscription: pull(topic, subscription), setUpOn: true, setUpRefusal });

		expect(unverifiedLines(lines).map((l) => l.prerequisite)).toEqual(['Topic', "Gmail's publisher grant", 'Subscription']);
		for (const prerequisite of ['Topic', "Gmail's publisher grant", 'Subscription'] as const) {
			expect(lineOf(lines, prerequisite)).toContain(`Set Up Google Cloud may not make it: give the service account ${SERVICE_ACCOUNT} Pub/Sub Admin (roles/pubsub.admin) in project ${id}`);
		}
		expect(lineOf(lines, 'Topic')).not.toContain('turn on Set Up Google Cloud');
	});

	it('a token without the Pub/Sub scope: the scopes line fails, and what could not be read keeps activation from going on', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(directAdmin(), topic, pull(topic, subscription));
		const setUpRefusal = await refusalOf(ensureGoogleCloud(adminWithScopes([SCOPES.readonly]), topic, pull(topic, subscription)));

		const lines = await check({ topic, subscription: pull(topic, subscription), setUpOn: true, setUpRefusal }, { adminScopes: [SCOPES.readonly] });

		expect(failingLines(lines).map((l) => l.prerequisite)).toEqual(['Credential scopes']);
		expect(lineOf(lines, 'Credential scopes')).toContain(PUBSUB);
		expect(unverifiedLines(lines).map((l) => l.prerequisite)).toEqual(['Credential scopes', 'Topic', 'Subscription']);
	});
});
