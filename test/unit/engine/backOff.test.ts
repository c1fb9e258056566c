/**
 * The lasting-failure back-off on the engine's clock: while it lasts Google is asked nothing,
 * notifications are owed; it doubles from 5 minutes, and the first tick after it pays what is owed.
 */
import { lastingFailureBackoffMs } from '../../../nodes/GmailPushTrigger/core/failure';
import { HOUR, MINUTE, memoryEngine } from './engineHarness';
import { scopeRevoked } from '../../support/memoryGmail';

const duties = { syncAfterMs: HOUR };

describe('the lasting-failure back-off', () => {
	it('asks Google nothing while it lasts, doubles on the next failure, and ends with the owed sync', async () => {
		const m = memoryEngine();
		await m.engine.ensureWatch('wf:node');
		await m.engine.tick(duties); // the first tick syncs
		const mail = m.gmail.deliver();
		m.gmail.failNext('listHistory', scopeRevoked(), 2);

		await expect(m.engine.handle(m.notification(), { oweDuringBackOff: true })).resolves.toMatchObject({ status: 'owed', until: m.clock.now() + 5 * MINUTE });
		expect(m.reports).toEqual([{ message: expect.stringMatching(/insufficient authentication scopes/), during: 'sync' }]);
		const asked = m.gmail.calls.length;

		// Redelivered notifications and ticks during the back-off: owed, no Gmail call.
		await m.clock.advance(5 * MINUTE - 1);
		await expect(m.engine.handle(m.notification(), { oweDuringBackOff: true })).resolves.toMatchObject({ status: 'owed' });
		await expect(m.engine.handle(m.notification())).rejects.toThrow(/insufficient/);
		await m.engine.tick(duties);
		expect(m.gmail.calls.length).toBe(asked);

		// Its end: the tick pays the owed sync at once (not an hour after the last), which fails
		// again: the back-off doubles to 10 minutes.
		await m.clock.advance(1);
		await m.engine.tick(duties);
		expect(m.gmail.calls.length).toBe(asked + 1);
		expect(m.reports).toHaveLength(2);
		expect(m.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
			expect.stringMatching(/next try in 5 min\)$/),
			expect.stringMatching(/next try in 10 min\)$/),
		]);
		await m.clock.advance(lastingFailureBackoffMs(2) - 1);
		await m.engine.tick(duties);
		expect(m.gmail.calls.length).toBe(asked + 1);

		await m.clock.advance(1);
		await m.engine.tick(duties);
		expect(m.batches).toEqual([[mail]]);
		expect(m.reports).toHaveLength(2);
		// Over: the episode is gone, and the next tick has nothing owed.
		const after = m.gmail.calls.length;
		await m.clock.advance(HOUR - 1);
		await m.engine.tick(duties);
		expect(m.gmail.calls.length).toBe(after);
	});

	it('a transient failure starts no back-off: the next notification asks Google again', async () => {
		const m = memoryEngine();
		await m.engine.ensureWatch('wf:node');
		const mail = m.gmail.deliver();
		m.gmail.failNext('listHistory', new Error('socket hang up'));
		await expect(m.engine.handle(m.notification(), { oweDuringBackOff: true })).rejects.toThrow(/socket hang up/);
		await expect(m.engine.handle(m.notification(), { oweDuringBackOff: true })).resolves.toMatchObject({ status: 'synced', emitted: 1 });
		expect(m.batches).toEqual([[mail]]);
		expect(m.reports).toEqual([]);
	});
});
