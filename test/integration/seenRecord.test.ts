/**
 * The dedupe record in the static data stays small (n8n rewrites it on every emit) without
 * letting anything through twice: 10,000 emails through the engine and the real Gmail client,
 * then the two ways an emitted email can come back (a stale-cursor catch-up listing it again,
 * an older cursor reading its history again).
 */
import { seenIds, seenKeys } from '../../nodes/GmailPushTrigger/core/seen';
import { UNSETTLED_MAX_CHARS } from '../../nodes/GmailPushTrigger/core/unsettled';
import type { TriggerState } from '../../nodes/GmailPushTrigger/engine/triggerState';
import type { FakeGoogle } from '../support/fakeGoogle';
import { activeEngine, engineFor, ids, startFake, uniqueKey } from './harness';

jest.setTimeout(180_000);

/**
 * The static data's size as n8n stores it (JSON), without the list of unsettled emissions: no
 * outcome comes here to settle them, so it stays full (its own bound is checked apart).
 */
const sizeOf = ({ unsettled: _unsettled, ...state }: TriggerState) => Buffer.byteLength(JSON.stringify(state));
const STATIC_DATA_LIMIT = 16 * 1024;

describe('the dedupe record in the static data', () => {
	let fake: FakeGoogle;
	beforeEach(async () => {
		fake = await startFake();
	});
	afterEach(async () => {
		await fake.close();
	});

	it('stays under 16 KB through 10,000 emails, and a stale-cursor catch-up over the newest 500 emits none of them again', async () => {
		const h = await activeEngine(fake);
		const sent: string[] = [];
		for (let batch = 0; batch < 40; batch++) {
			for (let i = 0; i < 250; i++) sent.push(fake.mailbox.deliver({ subject: `mail ${batch}-${i}` }).id);
			await h.engine.sync();
		}
		expect(ids(h.items())).toEqual(sent);
		const largest = Math.max(...h.stateAtDelivery.map(sizeOf));
		expect(largest).toBeLessThanOrEqual(STATIC_DATA_LIMIT);
		expect(sizeOf(h.state)).toBe(largest); // full from the cap on: it does not keep growing
		expect(seenIds(h.state)).toEqual(sent.slice(-seenIds(h.state).length));
		expect(Math.max(...h.stateAtDelivery.map((state) => JSON.stringify(state.unsettled ?? []).length))).toBeLessThanOrEqual(UNSETTLED_MAX_CHARS);

		// History runs out (a week without a sync): the catch-up lists the mail since the last
		// emitted email, newest first, at most 500 of it; every one was emitted already.
		fake.mailbox.expireHistoryBefore(BigInt(fake.mailbox.historyId) + 1n);
		const late = fake.mailbox.deliver({ subject: 'after the gap' });
		fake.resetCalls();
		await h.engine.sync();
		expect(fake.count('messages.list')).toBe(1);
		expect(ids(h.items()).slice(sent.length)).toEqual([late.id]);
		// Only the one new email was fetched: the record answered for the 499 others.
		expect(fake.count('messages.get')).toBe(1);
	});

	it('an older cursor reading history again emits nothing twice (a copy of the static data saved late)', async () => {
		const h = await activeEngine(fake);
		const start = h.state.cursor;
		const first = Array.from({ length: 30 }, (_, i) => fake.mailbox.deliver({ subject: `first ${i}` }).id);
		await h.engine.sync();
		const again = engineFor(fake, { state: { ...structuredClone(h.state), cursor: start } });
		await again.engine.ensureWatch(uniqueKey());
		const next = fake.mailbox.deliver({ subject: 'next' }).id;
		await again.engine.sync();
		expect(ids(h.items())).toEqual(first);
		expect(ids(again.items())).toEqual([next]);
	});

	it('reads the key list of earlier versions, dedupes by it, and rewrites it as the compact record', async () => {
		const h = await activeEngine(fake);
		const start = h.state.cursor;
		const old = [fake.mailbox.deliver({ subject: 'emitted by the earlier version' }).id];
		const legacy: TriggerState = { ...structuredClone(h.state), cursor: start, recent: old.map((id) => `added:${id}`) };
		const upgraded = engineFor(fake, { state: legacy });
		await upgraded.engine.ensureWatch(uniqueKey());
		const fresh = fake.mailbox.deliver({ subject: 'first after the upgrade' }).id;
		await upgraded.engine.sync();
		expect(ids(upgraded.items())).toEqual([fresh]);
		expect(upgraded.state.recent).toBeUndefined();
		expect(seenKeys(upgraded.state)).toEqual([...old, fresh].map((id) => `added:${id}`));
	});
});
