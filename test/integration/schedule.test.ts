/**
 * The trigger's timer duties over simulated days: MailboxEngine.tick({watchKey, syncAfterMs})
 * every simulated hour, our GmailPort (Gmail REST through google-auth-library), the fake Google on
 * loopback. The engine's injected clock and the fake's clock (Date, faked alone: timers, sockets
 * and the HTTP server stay real) move together, so the fake's watch expires exactly when Gmail's
 * would.
 *
 * An idle mailbox for 8 days: the watch is renewed about daily and never gets near its 7-day
 * expiry; an email whose notification Gmail dropped is emitted by the next tick's safety-net
 * sync, within the hour; the late notification for it is then covered, with no Gmail call.
 */
import { OAuth2Client } from 'google-auth-library';
import { decodeNotificationData, type GmailNotification } from '../../nodes/GmailPushTrigger/core/notification';
import type { GmailPort } from '../../nodes/GmailPushTrigger/core/port';
import type { RequestingAuth } from '../../nodes/GmailPushTrigger/transport/auth';
import { createGmailPort } from '../../nodes/GmailPushTrigger/transport/gmail';
import { SCOPES, type FakeGoogle, type MailboxChange } from '../support/fakeGoogle';
import { engineFor, ids, startFake, uniqueKey, type EngineHarness } from './harness';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** Monday 2026-03-02 09:00 UTC: a fixed start, so the run is the same every time. */
const START = Date.UTC(2026, 2, 2, 9, 0, 0);

/** Only Date is faked: the HTTP server, sockets and gaxios keep real timers. */
const REAL_TIMERS = ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] as const;

/** The port over a real OAuth2Client whose token outlives the simulated days (no refresh needed). */
function longLivedPort(fake: FakeGoogle): GmailPort {
	const client = new OAuth2Client({ transporterOptions: { fetchImplementation: fake.fetch } });
	client.setCredentials({ access_token: fake.issueToken({ scopes: [SCOPES.readonly], ttlSeconds: 30 * 24 * 3600 }), expiry_date: Date.now() + 30 * DAY });
	return createGmailPort(client as unknown as RequestingAuth, { rootUrl: `${fake.baseUrl}/` });
}

function notificationOf(fake: FakeGoogle, historyId: string): GmailNotification {
	const decoded = decodeNotificationData(Buffer.from(fake.mailbox.notificationData(historyId)).toString('base64'));
	if (!decoded.ok) throw new Error(decoded.reason);
	return decoded.notification;
}

describe('the trigger timer over simulated days (watch renewal and safety-net sync)', () => {
	let fake: FakeGoogle;
	let h: EngineHarness;
	const key = uniqueKey('schedule');
	const duties = { watchKey: key, syncAfterMs: HOUR };
	/** The simulated clock of the engine and the fake, moved together. */
	const advance = (ms: number) => {
		h.clock.now += ms;
		jest.setSystemTime(h.clock.now);
	};
	const watchCalls = () => fake.calls.filter((c) => c.method === 'users.watch');

	beforeAll(async () => {
		jest.useFakeTimers({ doNotFake: [...REAL_TIMERS], now: START });
		fake = await startFake();
		h = engineFor(fake, { port: longLivedPort(fake) });
		expect(h.clock.now).toBe(START);
	});

	afterAll(async () => {
		await fake?.close();
		jest.useRealTimers();
	});

	it('an idle mailbox for 8 days: the watch is renewed about daily and never expires; the safety net syncs hourly', async () => {
		// Activation as trigger() does it: watch, then the first tick at once.
		await h.engine.ensureWatch(key);
		await h.engine.tick(duties);
		const hours = 8 * 24;
		for (let hour = 1; hour <= hours; hour++) {
			advance(HOUR);
			await h.engine.tick(duties);
			// Gmail would still publish: the watch is alive, with days to spare.
			expect(fake.mailbox.watch).toBeDefined();
			expect(Number(fake.mailbox.watch!.expiration) - Date.now()).toBeGreaterThan(5 * DAY);
		}
		expect(Date.now() - START).toBe(8 * DAY);

		const watches = watchCalls().map((c) => c.at);
		// The activation's watch and one renewal per simulated day.
		expect(watches).toHaveLength(1 + 8);
		expect(watches[0]).toBe(START);
		for (let i = 1; i < watches.length; i++) {
			const gap = watches[i] - watches[i - 1];
			expect(gap).toBeGreaterThanOrEqual(23 * HOUR);
			expect(gap).toBeLessThanOrEqual(25 * HOUR);
		}
		expect(Date.now() - watches[watches.length - 1]).toBeLessThan(WEEK);
		// Renewals never moved the cursor (nothing happened) and emitted nothing.
		expect(h.state.cursor).toBe(fake.mailbox.historyId);
		expect(h.batches).toEqual([]);
		// The safety net: one history.list per idle hour (2 quota units each), no more.
		expect(fake.count('history.list')).toBe(1 + hours);
		expect(fake.count('messages.get')).toBe(0);
		expect(fake.count('users.stop')).toBe(0);
		expect(h.logger.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
	});

	it('an email whose notification was dropped is emitted by the next tick, within the hour; the late notification is covered with no Gmail call', async () => {
		const changes: MailboxChange[] = [];
		const unsubscribe = fake.mailbox.subscribe((change) => changes.push(change));
		advance(20 * MINUTE);
		const mail = fake.mailbox.deliver({ subject: 'its notification was lost' });
		unsubscribe();
		// Gmail would have published one (the watch covers it); we drop it, as Pub/Sub sometimes does.
		expect(changes).toHaveLength(1);
		expect(changes[0].notifies).toBe(true);
		const deliveredAt = Date.now();

		// The ticks of the next simulated hour (the timer looks every minute).
		let emittedAt: number | undefined;
		for (let minute = 1; minute <= 60 && emittedAt === undefined; minute++) {
			advance(MINUTE);
			await h.engine.tick(duties);
			if (h.batches.length > 0) emittedAt = Date.now();
		}
		expect(emittedAt).toBeDefined();
		expect(emittedAt! - deliveredAt).toBeLessThanOrEqual(HOUR);
		expect(ids(h.items())).toEqual([mail.id]);
		expect(h.state.cursor).toBe(changes[0].historyId);

		// The notification arrives after all: already covered by the cursor.
		const calls = fake.calls.length;
		await expect(h.engine.handle(notificationOf(fake, changes[0].historyId))).resolves.toEqual({ status: 'covered', cursor: changes[0].historyId });
		expect(fake.calls.length).toBe(calls);
		expect(ids(h.items())).toEqual([mail.id]);
	});
});
