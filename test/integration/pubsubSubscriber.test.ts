/**
 * The pull transport (real @google-cloud/pubsub StreamingPull) against Google's Pub/Sub emulator:
 * a notification is handed over and acked; a subscription deleted after start-up (a fatal stream
 * error) is reported once through onFatal with what to fix, instead of vanishing without a log line.
 */
import { PubSubSubscriber } from '../../nodes/GmailPushTrigger/transport/pubsub';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { waitFor } from '../support/n8n';

jest.setTimeout(90_000);

const TOPIC = 'projects/test-project/topics/subscriber-it';
const SUBSCRIPTION = 'projects/test-project/subscriptions/subscriber-it';

let emulator: PubSubEmulator;
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

it('hands over a notification, then reports a subscription deleted after start-up once, with what to fix', async () => {
	const received: string[] = [];
	const fatal: Array<Error & { code?: number }> = [];
	const lines: string[] = [];
	const log = (message: string) => lines.push(message);
	const subscriber = new PubSubSubscriber({
		subscriptionName: SUBSCRIPTION,
		auth: { kind: 'serviceAccount', clientEmail: 'sa@test-project.iam.gserviceaccount.com', privateKey: 'unused by the emulator' },
		logger: { debug: log, info: log, warn: log, error: log },
		onMessage: async (data) => {
			received.push(data.toString('utf8'));
		},
		onFatal: (error) => fatal.push(error),
	});
	try {
		await subscriber.start(1000);
		await emulator.publish(TOPIC, { emailAddress: 'user@example.com', historyId: '42' });
		await waitFor('the notification', () => received.length > 0, 30_000);
		expect(JSON.parse(received[0])).toEqual({ emailAddress: 'user@example.com', historyId: '42' });

		await emulator.deleteSubscription(SUBSCRIPTION);
		await waitFor('the fatal stream error reported', () => fatal.length > 0, 60_000);
		expect(fatal[0].message).toMatch(/subscription .*subscriber-it does not exist: create it/);
		expect(lines.some((l) => /Pub\/Sub stream for .* broke/.test(l))).toBe(true);
		await new Promise((resolve) => setTimeout(resolve, 3000));
		expect(fatal).toHaveLength(1);
	} finally {
		await subscriber.close();
	}
});
