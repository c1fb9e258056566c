/**
 * Watch renewal over days of the engine's clock, ticked every minute as the trigger's timer
 * does: renewed daily, so Gmail's 7-day watch never lapses; renewals that keep failing are
 * retried 5, 10, 20, 40, 60 minutes apart and reported once the watch is a day from lapsing.
 */
import { RENEW_AFTER_MS } from '../../../nodes/GmailPushTrigger/core/watch';
import { unavailable } from '../../support/memoryGmail';
import { DAY, HOUR, MINUTE, memoryEngine, type MemoryEngine } from './engineHarness';

const KEY = 'wf:node';
const duties = { watchKey: KEY, syncAfterMs: HOUR };

/** The trigger's timer: a tick every minute for `ms`; `each` sees the state after every tick. */
async function tickFor(m: MemoryEngine, ms: number, each: () => void = () => undefined): Promise<void> {
	for (let t = 0; t < ms; t += MINUTE) {
		await m.clock.advance(MINUTE);
		await m.engine.tick(duties);
		each();
	}
}

describe('watch renewal on the trigger timer', () => {
	it('renews once a day before Gmail lets the watch lapse, without moving the cursor', async () => {
		const m = memoryEngine();
		await m.engine.ensureWatch(KEY);
		const started = m.clock.now();
		let lapsed = 0;
		await tickFor(m, 8 * DAY, () => {
			if (!m.gmail.watching()) lapsed += 1;
		});
		expect(lapsed).toBe(0);
		const renewals = m.gmail.calls.filter((c) => c.method === 'watch').map((c) => c.at - started);
		expect(renewals).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((d) => d * RENEW_AFTER_MS));
		expect(m.state.watch?.expiration).toBe(m.gmail.activeWatch?.expiration);
		// The safety net syncs hourly meanwhile (the first tick syncs).
		expect(m.gmail.count('listHistory')).toBe(8 * 24);
		expect(m.reports).toEqual([]);
	});

	it('failing renewals back off to hourly, are reported once when the watch is a day from lapsing, and recover', async () => {
		const m = memoryEngine();
		await m.engine.ensureWatch(KEY);
		const started = m.clock.now();
		m.gmail.failNext('watch', unavailable(), Infinity);
		await tickFor(m, 6 * DAY - MINUTE);
		expect(m.reports).toEqual([]);
		const tries = m.gmail.calls.filter((c) => c.method === 'watch').map((c) => c.at);
		const gaps = tries.slice(2).map((at, i) => (at - tries[i + 1]) / MINUTE);
		expect(tries[1] - started).toBe(DAY);
		expect(gaps.slice(0, 6)).toEqual([5, 10, 20, 40, 60, 60]);
		expect(new Set(gaps.slice(4))).toEqual(new Set([60]));

		// A day before the lapse: said once (the next failures say nothing new).
		await tickFor(m, HOUR);
		expect(m.reports).toEqual([{ message: expect.stringMatching(/503/), during: 'watch' }]);
		await tickFor(m, DAY + 12 * HOUR);
		expect(m.gmail.watching()).toBe(false);
		expect(m.reports).toHaveLength(1);

		// Gmail answers again: the next try (within the hour) watches anew.
		m.gmail.heal('watch');
		await tickFor(m, HOUR);
		expect(m.gmail.watching()).toBe(true);
		expect(m.state.watch?.renewedAt).toBeGreaterThan(started + 7 * DAY);
	});
});
