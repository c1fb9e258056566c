/**
 * The stale-cursor catch-up over plain data: `MemoryMailbox` below lists and serves messages
 * and records every call. The catch-up through the real Gmail client and the engine is in
 * test/integration/engine.test.ts.
 */
import type { GmailMessage, GmailPort, ListMessagesRequest, MessageFormat } from '../../nodes/GmailPushTrigger/core/port';
import {
	catchUpFromStaleCursor,
	continueCatchUp,
	DEFAULT_CATCH_UP,
	pendingIds,
	readPending,
	toPending,
	type CatchUpOutcome,
	type PendingCatchUp,
} from '../../nodes/GmailPushTrigger/core/recovery';
import type { SyncOptions } from '../../nodes/GmailPushTrigger/core/syncOptions';
import { catchUpState, recordCatchUpBatch, type TriggerState } from '../../nodes/GmailPushTrigger/engine/triggerState';

const NOW = Date.UTC(2026, 5, 1);
const PROFILE_HISTORY_ID = '18446744073709551000';

/** Gmail-shaped ids (16 hex digits), one a second, oldest first. */
function mailbox(count: number, labelIds: (i: number) => string[] = () => ['INBOX']): GmailMessage[] {
	return Array.from({ length: count }, (_, i) => ({
		id: (0x18c0000000000000n + BigInt(i)).toString(16),
		threadId: `t${i}`,
		labelIds: labelIds(i),
		internalDate: String(NOW - (count - i) * 1000),
	}));
}

class MemoryMailbox implements GmailPort {
	readonly calls: string[] = [];
	constructor(private readonly messages: GmailMessage[]) {}

	count(method: string): number {
		return this.calls.filter((c) => c === method).length;
	}

	/** Newest first, as Gmail lists. */
	async listMessages(request: ListMessagesRequest): Promise<{ messages: Array<{ id: string; threadId?: string }>; nextPageToken?: string }> {
		this.calls.push('listMessages');
		const newestFirst = [...this.messages].reverse();
		const offset = Number(request.pageToken ?? 0);
		const size = request.maxResults ?? 100;
		const next = offset + size < newestFirst.length ? String(offset + size) : undefined;
		return { messages: newestFirst.slice(offset, offset + size).map(({ id, threadId }) => ({ id, threadId })), ...(next && { nextPageToken: next }) };
	}

	async getMessage(id: string, _format: MessageFormat): Promise<GmailMessage | undefined> {
		this.calls.push('getMessage');
		const found = this.messages.find((m) => m.id === id);
		return found && structuredClone(found);
	}

	async getProfile(): Promise<{ emailAddress: string; historyId: string }> {
		this.calls.push('getProfile');
		return { emailAddress: 'user@example.com', historyId: PROFILE_HISTORY_ID };
	}

	async listHistory(): Promise<never> {
		throw new Error('not used by the catch-up');
	}

	async listLabels(): Promise<never> {
		throw new Error('not used by the catch-up');
	}

	async watch(): Promise<never> {
		throw new Error('not used by the catch-up');
	}

	async stop(): Promise<never> {
		throw new Error('not used by the catch-up');
	}
}

/** Whole Email's sync options: raw, ten per run (shell/config's WHOLE_EMAIL_MAX_EVENTS). */
function wholeEmail(overrides: Partial<SyncOptions> = {}): SyncOptions {
	return { events: ['messageAdded'], labelIds: [], labelFilterBehavior: 'include', includeDrafts: false, format: 'raw', maxEvents: 10, ...overrides };
}

const emittedIds = (outcome: CatchUpOutcome) => outcome.events.map((e) => e.message.id);

/** Runs a catch-up to its end the way the engine does, one batch per step, with the record in JSON between steps. */
async function runToEnd(port: MemoryMailbox, options: SyncOptions, recent: string[] = []): Promise<{ steps: CatchUpOutcome[]; fetchesPerStep: number[] }> {
	const steps: CatchUpOutcome[] = [];
	const fetchesPerStep: number[] = [];
	let fetched = 0;
	const seen = [...recent];
	let outcome: CatchUpOutcome = await catchUpFromStaleCursor(port, { cursor: '5', recent: seen }, options, DEFAULT_CATCH_UP, NOW);
	for (;;) {
		steps.push(outcome);
		fetchesPerStep.push(port.count('getMessage') - fetched);
		fetched = port.count('getMessage');
		seen.push(...outcome.keys);
		if (outcome.pending === undefined) return { steps, fetchesPerStep };
		const saved = JSON.parse(JSON.stringify(outcome.pending)) as unknown;
		const read = readPending(saved);
		if (!('pending' in read)) throw new Error(read.problem);
		outcome = await continueCatchUp(port, read.pending, { cursor: '5', recent: seen }, options);
	}
}

describe('the stale-cursor catch-up', () => {
	it('goes out in batches of the live bound, oldest first, fetching one batch at a time, listing once', async () => {
		const messages = mailbox(35);
		const port = new MemoryMailbox(messages);

		const { steps, fetchesPerStep } = await runToEnd(port, wholeEmail());

		expect(steps.map((s) => s.events.length)).toEqual([10, 10, 10, 5]);
		expect(fetchesPerStep).toEqual([10, 10, 10, 5]);
		expect(steps.flatMap(emittedIds)).toEqual(messages.map((m) => m.id));
		expect(port.count('listMessages')).toBe(1);
		expect(port.count('getProfile')).toBe(1);
		// The stale cursor is replaced only by the last batch; the ones before leave the rest pending.
		expect(steps.map((s) => [s.cursor, s.more])).toEqual([
			[undefined, true],
			[undefined, true],
			[undefined, true],
			[PROFILE_HISTORY_ID, false],
		]);
		expect(steps.map((s) => (s.pending ? pendingIds(s.pending).length : 0))).toEqual([25, 15, 5, 0]);
		expect(steps[0].pending?.cursor).toBe(PROFILE_HISTORY_ID);
	});

	it('reports the listing: window start, listed, not yet emitted', async () => {
		const port = new MemoryMailbox(mailbox(35));
		const recent = mailbox(3).map((m) => `added:${m.id}`);

		const first = await catchUpFromStaleCursor(port, { cursor: '5', recent, lastEmittedAt: NOW - 3600_000 }, wholeEmail(), DEFAULT_CATCH_UP, NOW);

		expect(first.report).toEqual({ since: NOW - 3600_000, listed: 35, unseen: 32, truncated: false });
	});

	it('leaves what was emitted before out of the batches: no fetch for it, and the batches stay full', async () => {
		const messages = mailbox(25);
		const port = new MemoryMailbox(messages);
		const recent = messages.slice(0, 5).map((m) => `added:${m.id}`);

		const { steps, fetchesPerStep } = await runToEnd(port, wholeEmail(), recent);

		expect(steps.flatMap(emittedIds)).toEqual(messages.slice(5).map((m) => m.id));
		expect(fetchesPerStep).toEqual([10, 10]);
	});

	it('a batch whose emails are all filtered out still moves on: nothing is taken twice', async () => {
		const messages = mailbox(25, (i) => (i < 12 ? ['SPAM'] : ['INBOX']));
		const port = new MemoryMailbox(messages);

		const { steps, fetchesPerStep } = await runToEnd(port, wholeEmail());

		expect(steps.map((s) => s.events.length)).toEqual([0, 8, 5]);
		expect(steps[0].stats.filtered).toBe(10);
		expect(fetchesPerStep).toEqual([10, 10, 5]);
		expect(steps.flatMap(emittedIds)).toEqual(messages.slice(12).map((m) => m.id));
	});

	it('keeps the live path\'s larger bound for the other outputs: 35 emails are one batch', async () => {
		const port = new MemoryMailbox(mailbox(35));

		const { steps } = await runToEnd(port, wholeEmail({ format: 'full', maxEvents: undefined }));

		expect(steps).toHaveLength(1);
		expect(steps[0]).toMatchObject({ cursor: PROFILE_HISTORY_ID, more: false });
		expect(steps[0].pending).toBeUndefined();
	});

	it('lists at most maxMessages (the newest), says so, and batches those', async () => {
		const messages = mailbox(35);
		const port = new MemoryMailbox(messages);

		const first = await catchUpFromStaleCursor(port, { cursor: '5' }, wholeEmail(), { ...DEFAULT_CATCH_UP, maxMessages: 20 }, NOW);

		expect(first.report).toMatchObject({ listed: 20, unseen: 20, truncated: true });
		expect(emittedIds(first)).toEqual(messages.slice(15, 25).map((m) => m.id));
		expect(pendingIds(first.pending!)).toEqual(messages.slice(25).map((m) => m.id));
	});
});

describe('the pending catch-up record', () => {
	it('keeps Gmail ids in 8 bytes each and other ids as text, in order within each', () => {
		const gmail = mailbox(3).map((m) => m.id);
		const pending = toPending('42', [gmail[0], 'not-a-gmail-id', gmail[1], gmail[2]]);

		expect(pending?.ids).toHaveLength(32); // 24 bytes, base64url
		expect(pendingIds(pending!)).toEqual([...gmail, 'not-a-gmail-id']);
		expect(toPending('42', [])).toBeUndefined();
	});

	it('reads back what JSON kept, and refuses a damaged one with the reason', () => {
		const pending = toPending('42', mailbox(2).map((m) => m.id))!;
		expect(readPending(JSON.parse(JSON.stringify(pending)))).toEqual({ pending });

		expect(readPending(undefined)).toEqual({ problem: 'it has no valid cursor' });
		expect(readPending({ cursor: 'abc', ids: pending.ids })).toEqual({ problem: 'it has no valid cursor' });
		expect(readPending({ cursor: '42', ids: 7 })).toEqual({ problem: 'its ids are not a string' });
		expect(readPending({ cursor: '42', otherIds: [1] })).toEqual({ problem: 'its other ids are not a list of strings' });
	});
});

describe('the state between catch-up batches', () => {
	const stale = '100';
	const pendingOf = (n: number): PendingCatchUp => toPending('900', mailbox(n).map((m) => m.id))!;

	it('keeps the stale cursor while batches are pending, and takes the new one with the last', () => {
		const state: TriggerState = { cursor: stale };
		const base = { events: [], keys: [], stats: { pages: 0, records: 0, duplicates: 0, filtered: 0, gone: 0 } };

		recordCatchUpBatch(state, { ...base, cursor: undefined, more: true, pending: pendingOf(5) });
		expect(state).toEqual({ cursor: stale, pendingCatchUp: pendingOf(5) });

		recordCatchUpBatch(state, { ...base, cursor: '900', more: false });
		expect(state).toEqual({ cursor: '900' });
	});

	it('an older copy of the state (delete()) is brought up to a catch-up further along, never rolled back', () => {
		const engine: TriggerState = { cursor: stale, seen: 'AAAAAAAAAAE', lastEmittedAt: 5, pendingCatchUp: pendingOf(5) };

		const before: TriggerState = { cursor: stale };
		catchUpState(before, engine);
		expect(before).toEqual(engine);

		const fewerTaken: TriggerState = { cursor: stale, pendingCatchUp: pendingOf(15) };
		catchUpState(fewerTaken, engine);
		expect(fewerTaken).toEqual(engine);

		const further: TriggerState = { cursor: stale, seen: 'AAAAAAAAAAI', pendingCatchUp: pendingOf(2) };
		catchUpState(further, engine);
		expect(further.pendingCatchUp).toEqual(pendingOf(2));

		const done: TriggerState = { cursor: '900' };
		catchUpState(done, engine);
		expect(done).toEqual({ cursor: '900' });

		// The engine's catch-up ended: the copy takes the new cursor and drops its pending record.
		const mid: TriggerState = { cursor: stale, pendingCatchUp: pendingOf(5) };
		catchUpState(mid, { cursor: '900', seen: 'AAAAAAAAAAE' });
		expect(mid).toEqual({ cursor: '900', seen: 'AAAAAAAAAAE' });
	});

	it('a damaged catch-up record in either copy neither throws (deactivation must succeed) nor wins', () => {
		const damaged: TriggerState = { cursor: stale, seen: 'AAAAAAAAAAE', pendingCatchUp: { cursor: '900', ids: 7 } as never };
		const target: TriggerState = { cursor: stale };
		catchUpState(target, damaged);
		expect(target).toEqual({ cursor: stale });

		const engine: TriggerState = { cursor: stale, seen: 'AAAAAAAAAAE', pendingCatchUp: pendingOf(5) };
		const damagedCopy: TriggerState = { cursor: stale, pendingCatchUp: { cursor: 'x' } as never };
		catchUpState(damagedCopy, engine);
		expect(damagedCopy).toEqual(engine);
	});
});
