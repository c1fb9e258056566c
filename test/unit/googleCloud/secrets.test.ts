/**
 * The shared secret in a push endpoint (?token=<secret>) never reaches the set-up's problems nor
 * the set-up check's text: the plain lines and the editor's panel.
 */
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../../nodes/GmailPushTrigger/googleCloud/iam';
import { subscriptionProblems, type WantedSubscription } from '../../../nodes/GmailPushTrigger/googleCloud/subscription';
import { checkSetUp } from '../../../nodes/GmailPushTrigger/googleCloud/check';
import { formatCheck, problemText } from '../../../nodes/GmailPushTrigger/googleCloud/renderText';
import { panelDescription, panelMessage } from '../../../nodes/GmailPushTrigger/googleCloud/renderPanel';
import type { PubSubAdminPort, PubSubSubscription } from '../../../nodes/GmailPushTrigger/transport/pubsubAdminPort';

import { at, leaks, NEW, OLD, URL_ } from '../../support/secretForms';

describe('the set-up names no secret', () => {
	const name = 'projects/p/subscriptions/gmail-push-n8n';
	const topic = 'projects/p/topics/gmail-push';
	const wanted: WantedSubscription = { name, topic, kind: 'push', pushEndpoint: at(NEW), ackDeadlineSeconds: 60 };
	const pushingTo = (pushEndpoint: string): PubSubSubscription => ({ topic, pushConfig: { pushEndpoint } });

	it('a subscription still pushing with the old secret is a mismatch that says the token differs, naming neither secret', () => {
		const problems = subscriptionProblems(pushingTo(at(OLD)), wanted);
		expect(problems.map((p) => p.severity)).toEqual(['blocks']);
		expect(problemText(problems[0])).toBe(
			`Subscription ${name} pushes to this node's Production URL, but its token=… differs from the node's shared secret (was the secret changed?): ` +
				"set its endpoint to the Production URL followed by ?token= and the node's current secret (Pub/Sub > Subscriptions > gmail-push-n8n > Edit), " +
				'or delete the subscription and activate again: the set-up makes it anew',
		);
		expect(leaks(problemText(problems[0]))).toEqual([]);
		// The comparison is of the real endpoints: the same secret is no problem.
		expect(subscriptionProblems(pushingTo(at(NEW)), wanted)).toEqual([]);
	});

	it('an endpoint without the token, another endpoint, a pull subscription and a push one for pull: no secret in any line', () => {
		expect(problemText(subscriptionProblems(pushingTo(URL_), wanted)[0])).toContain("pushes to this node's Production URL, but without the token the node's shared secret requires");
		const elsewhere = problemText(subscriptionProblems(pushingTo(`https://old.example.com/hook?token=${encodeURIComponent(OLD)}`), wanted)[0]);
		expect(elsewhere).toContain(`pushes to https://old.example.com/hook?token=…, not to this node's Production URL ${URL_}?token=…: edit its endpoint`);
		const lines = [
			elsewhere,
			problemText(subscriptionProblems({ topic }, wanted)[0]),
			problemText(subscriptionProblems(pushingTo(at(OLD)), { ...wanted, kind: 'pull', pushEndpoint: undefined })[0]),
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
	/** Every text the check makes: the plain lines, and the panel's message and description. */
	const check = async (subscription: PubSubSubscription | Error | undefined, setUpOn: boolean) => {
		const lines = await checkSetUp({ gmail, admin: admin(subscription) }, { delivery: 'push', topic, subscription: wanted, setUpOn });
		return [formatCheck(lines), panelMessage(lines), panelDescription(lines)].join('\n');
	};

	it('the old secret on the subscription: the push endpoint line fails without either secret', async () => {
		const text = await check({ topic, pushConfig: { pushEndpoint: at(OLD) } }, true);
		expect(text).toContain("✗ Push endpoint: Subscription projects/p/subscriptions/gmail-push-n8n pushes to this node's Production URL, but its token=… differs");
		expect(leaks(text)).toEqual([]);
		expect(text).toContain('Set-up check failed: Shared secret differs');
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
		// The panel names the missing subscription, and says where the secret goes instead of showing it.
		expect(texts[1]).toContain(`--push-endpoint=${URL_}?token=… --expiration-period=never`);
		expect(texts[1]).toContain("Replace the … after token= with the node's shared secret.");
	});
});

