/** The Pub/Sub emulator helper: topic, push subscription to a local server, pull, clean stop. */
import http from 'http';
import type { AddressInfo } from 'net';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';

jest.setTimeout(90_000);


describe('Pub/Sub emulator helper', () => {
	let emu: PubSubEmulator;
	let server: http.Server;
	const pushed: Array<{ body: unknown; headers: http.IncomingHttpHeaders }> = [];
	let pushUrl: string;

	beforeAll(async () => {
		server = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				pushed.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: req.headers });
				res.writeHead(204).end();
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		pushUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
		emu = await startPubSubEmulator();
	});

	afterAll(async () => {
		await emu?.stop();
		await new Promise((resolve) => {
			server?.close(resolve);
			server?.closeAllConnections();
		});
	});

	it('delivers a published Gmail notification to a push endpoint and to a pull subscription', async () => {
		const topic = 'projects/test-project/topics/gmail-push';
		await emu.createTopic(topic);
		await emu.createPushSubscription(topic, 'projects/test-project/subscriptions/push-sub', pushUrl);
		await emu.createPullSubscription(topic, 'pull-sub');
		const notification = { emailAddress: 'user@example.com', historyId: '1234' };
		const id = await emu.publish(topic, notification);

		const deadline = Date.now() + 20_000;
		while (pushed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
		expect(pushed).toHaveLength(1);
		const body = pushed[0].body as { message: { data: string; messageId: string; publishTime: string }; subscription: string };
		expect(body.subscription).toBe('projects/test-project/subscriptions/push-sub');
		expect(body.message.messageId).toBe(id);
		expect(JSON.parse(Buffer.from(body.message.data, 'base64').toString('utf8'))).toEqual(notification);
		expect(typeof body.message.publishTime).toBe('string');

		const pulled = await emu.pull('pull-sub');
		expect(pulled).toHaveLength(1);
		expect(JSON.parse(Buffer.from(pulled[0].message.data ?? '', 'base64').toString('utf8'))).toEqual(notification);
		await emu.acknowledge('pull-sub', [pulled[0].ackId]);
	});

	it('stops the JVM by its PID', async () => {
		const pid = emu.pid;
		await emu.stop();
		expect(() => process.kill(pid, 0)).toThrow();
	});
});
