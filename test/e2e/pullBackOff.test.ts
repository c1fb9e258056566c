/**
 * Pull delivery through a lasting-failure back-off, in a real n8n (1.123 and 2.41;
 * E2E_N8N_VERSIONS=1,2) against Google's Pub/Sub emulator and the fake Gmail.
 *
 * Gmail refuses a sync for good (403 insufficientPermissions, once): the node reports it
 * (n8n logs "Will try to reactivate" and closes the trigger) and backs off for 5 minutes. The
 * notification is acked, not nacked: nothing is left in the subscription to come back. n8n's
 * re-activations (1 s doubling) fail during the back-off with the same error and ask Google
 * nothing; the first one after it (at 511 s) starts the trigger, whose first sync emits the email
 * once. Slow by nature: about 9 minutes per n8n version, none of it a configurable wait.
 */
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../nodes/GmailPushTrigger/core/setup';
import { lastingFailureBackoffMs } from '../../nodes/GmailPushTrigger/core/failure';
import { startFakeIam, type FakeIam } from '../support/fakeIam';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { selectedMajors, sleep } from '../support/n8n';
import { PROJECT, SETTLE_MS, activateAndWait, startE2e, triggerWorkflow, type E2eContext } from './deliveryHarness';

/** n8n re-adds a trigger that reported an error after 1 s, doubling: 1 + 2 + … + 256 s. */
const N8N_RETRY_AFTER_BACK_OFF_MS = 511_000;
jest.setTimeout(15 * 60_000);

let emulator: PubSubEmulator;
let iam: FakeIam;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
	iam = await startFakeIam(emulator.baseUrl);
}, 90_000);

afterAll(async () => {
	await iam?.close();
	await emulator?.stop();
});

describe.each(selectedMajors())('pull delivery through a lasting-failure back-off, in n8n %i.x', (major) => {
	const topic = `projects/${PROJECT}/topics/gmail-back-off-v${major}`;
	const subscription = `projects/${PROJECT}/subscriptions/n8n-back-off-v${major}`;
	const workflow = triggerWorkflow({ name: `Gmail pull back-off v${major}`, delivery: 'pull', topicName: topic, subscriptionName: subscription });
	let ctx: E2eContext;
	let workflowId: string;
	const publishing: Array<Promise<unknown>> = [];

	beforeAll(async () => {
		await emulator.createTopic(topic);
		await emulator.createPullSubscription(topic, subscription, 10);
		iam.setPolicy(topic, { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
		ctx = await startE2e(major, { PUBSUB_EMULATOR_HOST: emulator.host });
		// Gmail's side: each change its watch covers is published to the topic.
		ctx.fake.mailbox.subscribe((change) => {
			if (change.notifies) publishing.push(emulator.publish(ctx.fake.mailbox.watch?.topicName ?? topic, change.notificationData));
		});
		workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
		await activateAndWait(ctx, workflowId, workflow.name);
		await sleep(SETTLE_MS);
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(publishing);
		await ctx?.close();
	});

	it('reported once, nothing redelivered nor asked of Google during the back-off, the email once after it', async () => {
		await ctx.step(async () => {
			const from = ctx.session.n8n.logOffset();
			ctx.fake.faults.failNext('history.list', 403, 1, { reason: 'insufficientPermissions', message: 'Request had insufficient authentication scopes.' });
			const failedAt = Date.now();
			const mail = ctx.deliver('while the scope is gone');
			await ctx.session.n8n.waitForLog(/failed with the error: .*insufficient authentication scopes.*Will try to reactivate/, 60_000, from);
			// n8n's first re-activation (after 1 s) fails with the same error, without a Google call.
			await ctx.session.n8n.waitForLog(/Activation of workflow .* did fail with error: .*insufficient authentication scopes/, 30_000, from);
			await sleep(SETTLE_MS);
			// Acked: nothing left in the subscription (a nacked one would wait there for the next reader).
			expect(await emulator.pull(subscription)).toEqual([]);
			const calls = ctx.fake.calls.length;

			await sleep(failedAt + lastingFailureBackoffMs(1) - 10_000 - Date.now());
			expect(ctx.fake.calls.slice(calls).map((c) => c.method)).toEqual([]);
			expect((await ctx.triggerItems(workflowId)).items).toEqual([]);
			expect(ctx.session.n8n.grep(/Will try to reactivate/, from)).toHaveLength(1);

			const { items } = await ctx.waitForItems(workflowId, 1, failedAt + N8N_RETRY_AFTER_BACK_OFF_MS + 90_000 - Date.now());
			expect(items.map((i) => i.id)).toEqual([mail.id]);
			await sleep(SETTLE_MS);
			expect((await ctx.triggerItems(workflowId)).items.map((i) => i.id)).toEqual([mail.id]);
			expect(ctx.session.n8n.grep(/Will try to reactivate/, from)).toHaveLength(1);
		});
	});
});
