import { MAX_EMISSIONS } from '../../nodes/GmailPushTrigger/core/outcome';
import type { HistoryEvent } from '../../nodes/GmailPushTrigger/core/historyEvent';
import {
	UNSETTLED_MAX_AGE_MS,
	UNSETTLED_MAX_CHARS,
	asPossibleDuplicates,
	eventCount,
	eventsOf,
	nextAt,
	readUnsettled,
	recordEmission,
	restartPlan,
	settle,
	toUnsettled,
	type KnownOutcome,
	type UnsettledEmission,
} from '../../nodes/GmailPushTrigger/core/unsettled';
import { catchUpState, recordUnsettled, settleInState, type TriggerState } from '../../nodes/GmailPushTrigger/engine/triggerState';

/** Gmail-shaped ids: 16 hex digits. */
const gmailIds = (count: number, from = 0) => Array.from({ length: count }, (_, i) => (0x18c2f0a1b2c3d000n + BigInt(from + i)).toString(16).padStart(16, '0'));
const added = (id: string): HistoryEvent => ({ key: `added:${id}`, event: 'messageAdded', historyId: '', ref: { id } });
const NOW = Date.UTC(2026, 0, 5, 12);

describe('an unsettled emission as kept in the static data', () => {
	it('keeps new emails as 8 bytes each and gives back the same events in the same order, label changes and deletions in their place', () => {
		const [a, b, c] = gmailIds(3);
		const labelled: HistoryEvent = { key: `labelAdded:900:${b}`, event: 'labelAdded', historyId: '900', ref: { id: b, threadId: 't1' }, changedLabelIds: ['STARRED'] };
		const deleted: HistoryEvent = { key: 'deleted:not-gmail-shaped', event: 'messageDeleted', historyId: '901', ref: { id: 'not-gmail-shaped', labelIds: ['INBOX'] } };
		const odd = added('another-shape');
		const events = [added(a), labelled, added(b), deleted, odd, added(c)];

		const entry = toUnsettled(events, 2, NOW);

		expect(Buffer.from(entry.ids ?? '', 'base64url')).toHaveLength(3 * 8);
		expect(entry.other?.map((e) => e.i)).toEqual([1, 3, 4]);
		expect(eventsOf(entry)).toEqual(events);
		expect(eventCount(entry)).toBe(6);
		expect(entry).toMatchObject({ at: NOW, n: 2 });
		expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
	});

	it('a damaged list keeps its whole entries only; a place out of range loses no email', () => {
		const good = toUnsettled(gmailIds(2).map(added), 1, NOW);
		expect(readUnsettled(undefined)).toEqual([]);
		expect(readUnsettled('x')).toEqual([]);
		expect(readUnsettled([good, null, { at: 'x', n: 1 }, { at: 1, n: 0 }, { at: 1, n: 1, ids: 5 }, { at: 1, n: 1, other: [{ i: 0 }] }])).toEqual([good]);
		const shifted: UnsettledEmission = { ...good, other: [{ ...added('x-1'), i: 9 }] };
		expect(eventsOf(shifted).map((e) => e.ref.id)).toEqual([...gmailIds(2), 'x-1']);
	});
});

describe('the list of unsettled emissions', () => {
	const entry = (at: number, count = 1, n = 1) => toUnsettled(gmailIds(count, at % 1000).map(added), n, at);

	it('names each emission with a time later than every listed one, so two in one millisecond differ', () => {
		expect(nextAt([], NOW)).toBe(NOW);
		expect(nextAt([entry(NOW)], NOW)).toBe(NOW + 1);
		expect(nextAt([entry(NOW - 5)], NOW)).toBe(NOW);
	});

	it('an emission again takes the place of the one it repeats; one whose outcome came leaves', () => {
		const first = entry(NOW - 20);
		const second = entry(NOW - 10);
		const { list } = recordEmission([first, second], entry(NOW, 1, 2), first.at, NOW);
		expect(list.map((e) => [e.at, e.n])).toEqual([[NOW - 10, 1], [NOW, 2]]);
		expect(settle(list, NOW - 10).map((e) => e.at)).toEqual([NOW]);
	});

	it(`entries older than ${UNSETTLED_MAX_AGE_MS / 60_000} min leave quietly; beyond ${UNSETTLED_MAX_CHARS} characters the oldest are dropped, and said`, () => {
		const old = entry(NOW - UNSETTLED_MAX_AGE_MS - 1);
		const recent = entry(NOW - UNSETTLED_MAX_AGE_MS);
		expect(recordEmission([old, recent], entry(NOW), undefined, NOW)).toEqual({ list: [recent, entry(NOW)], dropped: [] });

		// 500 new emails (one execution of the largest size) fit; two such do not.
		const big = (at: number) => entry(at, 500);
		const one = recordEmission([], big(NOW - 1), undefined, NOW);
		expect(one.dropped).toEqual([]);
		const two = recordEmission(one.list, big(NOW), undefined, NOW);
		expect(two.list.map((e) => e.at)).toEqual([NOW]);
		expect(two.dropped.map((e) => e.at)).toEqual([NOW - 1]);
		expect(JSON.stringify(two.list).length).toBeLessThanOrEqual(UNSETTLED_MAX_CHARS);
		// One alone beyond the bound is not kept either.
		expect(recordEmission([], entry(NOW, 800), undefined, NOW)).toMatchObject({ list: [], dropped: [{ at: NOW }] });
	});
});

describe('restartPlan: a trigger starts on the saved list', () => {
	const entry = (at: number, n = 1) => toUnsettled([added(gmailIds(1, at % 1000)[0])], n, at);
	const nothingKnown = (): KnownOutcome => undefined;

	it('emits again, once, every emission a process that is gone emitted, within the age bound, below the crash bound', () => {
		const list = [entry(NOW - 60_000), entry(NOW - 1000, 2)];
		expect(restartPlan(list, NOW, nothingKnown)).toEqual({ again: list, awaited: [], expired: [], exhausted: [], settled: [] });
	});

	it('keeps what this process still waits for, drops what it saw settle, lets the too old and the exhausted go', () => {
		const settled = entry(NOW - 4);
		const awaited = entry(NOW - 3);
		const expired = entry(NOW - UNSETTLED_MAX_AGE_MS - 1);
		const exhausted = entry(NOW - 2, MAX_EMISSIONS);
		const again = entry(NOW - 1, MAX_EMISSIONS - 1);
		const known = new Map<number, KnownOutcome>([
			[settled.at, 'settled'],
			[awaited.at, 'pending'],
		]);
		expect(restartPlan([expired, settled, awaited, exhausted, again], NOW, (at) => known.get(at))).toEqual({
			again: [again],
			awaited: [awaited],
			expired: [expired],
			exhausted: [exhausted],
			settled: [settled],
		});
	});
});

describe('the list in the state', () => {
	it('marks items as possible duplicates without changing the originals', () => {
		const items = [{ json: { id: 'a' } }, { json: { id: 'b' }, binary: { file: {} } }];
		expect(asPossibleDuplicates(items)).toEqual([{ json: { id: 'a', possibleDuplicate: true } }, { json: { id: 'b', possibleDuplicate: true }, binary: { file: {} } }]);
		expect(items[0].json).toEqual({ id: 'a' });
	});

	it('records before the emit, settles after, and leaves no empty list behind', () => {
		const state: TriggerState = { cursor: '100' };
		const first = recordUnsettled(state, gmailIds(2).map(added), 1, NOW);
		const second = recordUnsettled(state, gmailIds(1, 5).map(added), 1, NOW);
		expect([first.at, second.at]).toEqual([NOW, NOW + 1]);
		expect(readUnsettled(state.unsettled).map(eventCount)).toEqual([2, 1]);
		settleInState(state, first.at);
		settleInState(state, second.at);
		expect(state).toEqual({ cursor: '100' });
	});

	it('goes with the cursor when delete() brings an older copy up to the engine, and is never rolled back', () => {
		const listed = [toUnsettled([added(gmailIds(1)[0])], 1, NOW)];
		const behind: TriggerState = { cursor: '100', unsettled: [toUnsettled([added(gmailIds(1, 9)[0])], 1, NOW - 5)] };
		catchUpState(behind, { cursor: '200', unsettled: listed });
		expect(behind.unsettled).toEqual(listed);

		const settledSince: TriggerState = { cursor: '100', unsettled: listed };
		catchUpState(settledSince, { cursor: '200' });
		expect(settledSince.unsettled).toBeUndefined();

		const ahead: TriggerState = { cursor: '300', unsettled: listed };
		catchUpState(ahead, { cursor: '200' });
		expect(ahead.unsettled).toEqual(listed);
	});
});
