/**
 * The follow-up sync on the engine's clock: Gmail drops a notification that comes within a
 * second of the last, so after a notification's sync one more runs FOLLOW_UP_MS later.
 */
import { LATE_READ_MS } from '../../../nodes/GmailPushTrigger/engine/followUp';
import { DAY, memoryEngine, type MemoryEngine } from './engineHarness';

const FOLLOW_UP_MS = 1500;

async function watching(): Promise<MemoryEngine> {
	const m = memoryEngine({ followUpMs: FOLLOW_UP_MS });
	await m.engine.ensureWatch('wf:node');
	return m;
}

describe('the follow-up sync', () => {
	it('emits the email Gmail did not notify FOLLOW_UP_MS after the notification, then stays quiet', async () => {
		const m = await watching();
		const first = m.gmail.deliver();
		await expect(m.engine.handle(m.notification())).resolves.toMatchObject({ status: 'synced', emitted: 1 });
		// Within the same second: Gmail sends no notification for it.
		const unnotified = m.gmail.deliver();

		await m.clock.advance(FOLLOW_UP_MS - 1);
		expect(m.batches).toEqual([[first]]);
		await m.clock.advance(1);
		expect(m.batches).toEqual([[first], [unnotified]]);
		expect(m.gmail.count('listHistory')).toBe(2);

		// The follow-up arms no other: a day later nothing more was asked.
		await m.clock.advance(DAY);
		expect(m.gmail.count('listHistory')).toBe(2);
		expect(m.clock.pending).toBe(0);
	});

	it('a notification meanwhile moves the follow-up later instead of adding one', async () => {
		const m = await watching();
		m.gmail.deliver();
		await m.engine.handle(m.notification());
		await m.clock.advance(1000);
		m.gmail.deliver();
		await m.engine.handle(m.notification());
		expect(m.gmail.count('listHistory')).toBe(2);

		await m.clock.advance(FOLLOW_UP_MS - 1);
		expect(m.gmail.count('listHistory')).toBe(2);
		await m.clock.advance(1);
		expect(m.gmail.count('listHistory')).toBe(3);
		await m.clock.advance(DAY);
		expect(m.gmail.count('listHistory')).toBe(3);
	});

	it('a notification read LATE_READ_MS after it was published arms none; a covered one neither', async () => {
		const m = await watching();
		m.gmail.deliver();
		await m.engine.handle(m.notification(LATE_READ_MS));
		await expect(m.engine.handle(m.notification())).resolves.toMatchObject({ status: 'covered' });
		await m.clock.advance(DAY);
		expect(m.gmail.count('listHistory')).toBe(1);
		expect(m.clock.pending).toBe(0);
	});

	it('a closed engine runs no follow-up', async () => {
		const m = await watching();
		m.gmail.deliver();
		await m.engine.handle(m.notification());
		const closed = m.engine.close(1000, 0);
		await m.clock.advance(FOLLOW_UP_MS);
		await closed;
		expect(m.gmail.count('listHistory')).toBe(1);
	});
});
