/**
 * Pull delivery during a lasting-failure back-off, through the real StreamingPull subscriber
 * (@google-cloud/pubsub) against Google's Pub/Sub emulator, the trigger's own message handler
 * (engine/pulledMessage.ts), and an engine over the fake Gmail with an injected clock.
 *
 * While the engine backs off it asks Google nothing; a nacked notification would come straight
 * back from Pub/Sub, again and again. Each delivery is counted here: every notification, the one
 * whose sync started the back-off included, is delivered once and acked; none is lost, as the
 * email comes out exactly once at the first tick after the back-off.
 */
import { PubSubSubscriber } from '../../nodes/GmailPushTrigger/transport/pubsub';
import { pulledMessageHandler } from '../../nodes/GmailPushTrigger/engine/pulledMessage';
import { lastingFailureBackoffMs } from '../../nodes/GmailPushTrigger/core/failure';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { sleep, waitFor } from '../support/n8n';
import type { FakeGoogle } from '../support/fakeGoogle';
import { activeEngine, ids, startFake } from './harness';

jest.setTimeout(90_000);

const TOPIC = 'projects/test-project/topics/pull-back-off';
const SUBSCRIPTION = 'projects/test-project/subscriptions/pull-back-off';
const HOUR = 60 * 60 * 1000;
/** Real time the held notifications get to come back: a nacked one comes back within milliseconds. */
const WATCH_MS = 3000;

let emulator: PubSubEmulator;
let fake: FakeGoogle;
const saved = process.env.PUBSUB_EMULATOR_HOST;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
	process.env.PUBSUB_EMULATOR_HOST = emulator.host;
	await emulator.createTopic(TOPIC);
	await emulator.createPullSubscription(TOPIC, SUBSCRIPTION, 10);
}, 90_000);

afterAll(async () => {
	if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
	else process.env.PUBSUB_EMULATOR_HOST = saved;
	await emulator?.stop();
});

beforeEach(async () => {
	fake = await startFake();
});
afterEach(async () => {
	await fake.close();
});

it('neither spins nor loses mail: each notification is delivered once, and the email comes out once after the back-off', async () => {
	const reports: string[] = [];
	const h = await activeEngine(fake, { onLastingFailure: (error) => reports.push((error as Error).message) });
	await h.engine.tick({ syncAfterMs: HOUR }); // the first tick at start: the engine has synced
	const deliveries = new Map<string, number>();
	const handle = pulledMessageHandler(h.engine, h.logger);
	const subscriber = new PubSubSubscriber({
		subscriptionName: SUBSCRIPTION,
		auth: { kind: 'serviceAccount', clientEmail: 'sa@test-project.iam.gserviceaccount.com', privateKey: 'unused by the emulator' },
		logger: h.logger,
		onMessage: async (data, meta) => {
			deliveries.set(meta.id, (deliveries.get(meta.id) ?? 0) + 1);
			await handle(data, meta);
		},
	});
	try {
		await subscriber.start(1000);
		fake.resetCalls();
		const mail = fake.mailbox.deliver({ subject: 'while the scope is gone' });
		// A lasting failure (the Gmail scope revoked) on the first sync; Gmail answers again after it.
		fake.faults.failNext('history.list', 403, 1, { reason: 'insufficientPermissions', message: 'Request had insufficient authentication scopes.' });
		const published = [await emulator.publish(TOPIC, fake.mailbox.notificationData())];
		await waitFor('the lasting failure reported', () => reports.length > 0, 30_000, 20);
		// More notifications while the back-off lasts (Gmail's, or Pub/Sub's own duplicates).
		published.push(await emulator.publish(TOPIC, fake.mailbox.notificationData()), await emulator.publish(TOPIC, fake.mailbox.notificationData()));
		await waitFor('every notification delivered', () => published.every((id) => deliveries.has(id)), 30_000, 20);
		await sleep(WATCH_MS);

		expect([...deliveries.keys()].sort()).toEqual([...published].sort());
		expect([...deliveries.values()]).toEqual([1, 1, 1]);
		expect(fake.calls.map((c) => `${c.method} ${c.status}`)).toEqual(['history.list 403']);
		expect(reports).toHaveLength(1);
		expect(h.batches).toEqual([]);
		// A tick during the back-off asks Google nothing either.
		await h.engine.tick({ syncAfterMs: HOUR });
		expect(fake.calls).toHaveLength(1);

		// The back-off is over: the next tick syncs, although the last sync is not an hour old.
		h.clock.now += lastingFailureBackoffMs(1);
		await h.engine.tick({ syncAfterMs: HOUR });
		expect(ids(h.items())).toEqual([mail.id]);
		await sleep(WATCH_MS);
		await h.engine.tick({ syncAfterMs: HOUR });
		expect(ids(h.items())).toEqual([mail.id]);
		expect([...deliveries.values()]).toEqual([1, 1, 1]);
		expect(reports).toHaveLength(1);
	} finally {
		await subscriber.close();
	}
	// Nothing is left in the subscription to come back later.
	expect(await emulator.pull(SUBSCRIPTION)).toEqual([]);
});
