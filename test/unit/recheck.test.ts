/**
 * Search asked again about the new emails it missed (core/recheck), over plain data. `SearchIndex`
 * below is a GmailPort whose search knows only the ids it is told; the integration tests drive
 * the same code through the real Gmail client against the fake Gmail with an index lag.
 */
import type { GmailMessage, GmailMessageRef, GmailPort, ListMessagesRequest } from '../../nodes/GmailPushTrigger/core/port';
import { dueForRecheck, holdMisses, nextRecheckAt, readHeld, RECHECK_CAP, RECHECK_DELAY_MS, recheckSearch, type HeldForSearch } from '../../nodes/GmailPushTrigger/core/recheck';
import { resolveEvents } from '../../nodes/GmailPushTrigger/core/fetchEvents';
import { eventKey, type HistoryEvent } from '../../nodes/GmailPushTrigger/core/historyEvent';
import type { SyncOptions } from '../../nodes/GmailPushTrigger/core/syncOptions';

const T = 1_800_000_000_000;
const id = (n: number): string => n.toString(16).padStart(16, '0');

function options(overrides: Partial<SyncOptions> = {}): SyncOptions {
	return { events: ['messageAdded', 'labelAdded'], labelIds: [], labelFilterBehavior: 'include', includeDrafts: false, format: 'metadata', search: 'subject:invoice', ...overrides };
}

/** A mailbox whose search finds the `indexed` ids only (newest first, as Gmail lists). */
class SearchIndex implements GmailPort {
	readonly lists: ListMessagesRequest[] = [];
	readonly gets: string[] = [];
	indexed = new Set<string>();

	constructor(readonly messages: Map<string, GmailMessage>) {}

	async listMessages(request: ListMessagesRequest): Promise<{ messages: GmailMessageRef[] }> {
		this.lists.push(request);
		return { messages: [...this.indexed].reverse().map((m) => ({ id: m, threadId: `t-${m}` })) };
	}

	async getMessage(messageId: string): Promise<GmailMessage | undefined> {
		this.gets.push(messageId);
		return this.messages.get(messageId);
	}

	async listHistory(): Promise<never> {
		throw new Error('not used');
	}

	async listLabels(): Promise<never> {
		throw new Error('not used');
	}

	async getProfile(): Promise<never> {
		throw new Error('not used');
	}

	async watch(): Promise<never> {
		throw new Error('not used');
	}

	async stop(): Promise<never> {
		throw new Error('not used');
	}
}

function mailbox(...ns: number[]): SearchIndex {
	return new SearchIndex(new Map(ns.map((n) => [id(n), { id: id(n), threadId: `t-${id(n)}`, historyId: String(100 + n), internalDate: String(T + n * 1000), labelIds: ['INBOX'] }])));
}

describe('resolveEvents reports what only Search turned away', () => {
	const added = (n: number): HistoryEvent => ({ key: eventKey('messageAdded', '', id(n)), event: 'messageAdded', historyId: String(100 + n), ref: { id: id(n) } });

	it('new emails that passed every other filter and that Search did not find, with their internalDate', async () => {
		const port = mailbox(1, 2, 3);
		port.indexed.add(id(2));
		const labelChange: HistoryEvent = { key: eventKey('labelAdded', '103', id(3)), event: 'labelAdded', historyId: '103', ref: { id: id(3) }, changedLabelIds: ['STARRED'] };
		const result = await resolveEvents(port, [added(1), added(2), labelChange], [], options());
		expect(result.events.map((e) => e.message.id)).toEqual([id(2)]);
		// The label change is of an email the index already knows: not held.
		expect(result.searchMissed).toEqual([{ id: id(1), internalDate: String(T + 1000) }]);
	});

	it('nothing without a search, nor for an email another filter dropped', async () => {
		const port = mailbox(1, 2);
		port.messages.set(id(2), { ...port.messages.get(id(2)), id: id(2), labelIds: ['DRAFT'] });
		expect((await resolveEvents(port, [added(1)], [], options({ search: undefined }))).searchMissed).toEqual([]);
		expect((await resolveEvents(port, [added(2)], [], options())).searchMissed).toEqual([]);
	});
});

describe('holding missed emails', () => {
	it('keeps each sync\'s misses as one entry, with when and the oldest internalDate', () => {
		const { held, dropped } = holdMisses([], [{ id: id(1), internalDate: String(T + 5000) }, { id: id(2), internalDate: String(T) }], T + 9000);
		expect(held).toEqual([{ at: T + 9000, since: T, ids: [id(1), id(2)] }]);
		expect(dropped).toBe(0);
		expect(holdMisses(held, [], T + 10_000).held).toEqual(held);
	});

	it('without a usable internalDate the entry has no since (the re-ask is then not narrowed)', () => {
		expect(holdMisses([], [{ id: id(1) }, { id: id(2), internalDate: String(T) }], T).held).toEqual([{ at: T, ids: [id(1), id(2)] }]);
	});

	it('is bounded: beyond the cap the oldest held are let go, and counted', () => {
		const old: HeldForSearch[] = [{ at: T, ids: [id(1), id(2)] }, { at: T + 1, ids: [id(3)] }];
		const { held, dropped } = holdMisses(old, [{ id: id(4) }, { id: id(5) }], T + 2, 3);
		expect(held).toEqual([{ at: T + 1, ids: [id(3)] }, { at: T + 2, ids: [id(4), id(5)] }]);
		expect(dropped).toBe(2);
		const many = Array.from({ length: RECHECK_CAP + 10 }, (_, n) => ({ id: id(n) }));
		const bounded = holdMisses([], many, T);
		expect(bounded.held[0].ids).toHaveLength(RECHECK_CAP);
		expect(bounded.held[0].ids[0]).toBe(id(10));
		expect(JSON.stringify(bounded.held).length).toBeLessThan(5000);
	});

	it('reads a damaged or missing saved list as what is usable of it', () => {
		expect(readHeld(undefined)).toEqual([]);
		expect(readHeld('x')).toEqual([]);
		const good = { at: T, ids: [id(1)] };
		expect(readHeld([good, null, { at: 'soon', ids: [] }, { at: T, ids: [1] }, { at: T, since: 'x', ids: [] }, { at: T }])).toEqual([good]);
	});
});

describe('when to ask again', () => {
	const held: HeldForSearch[] = [
		{ at: T, ids: [id(1)] },
		{ at: T + 20_000, ids: [id(2)] },
		{ at: T + 40_000, ids: [id(3)] },
	];

	it('not before the oldest has waited the delay', () => {
		expect(dueForRecheck(held, T + RECHECK_DELAY_MS - 1)).toEqual({ due: [], later: held });
		expect(nextRecheckAt(held)).toBe(T + RECHECK_DELAY_MS);
		expect(nextRecheckAt([])).toBeUndefined();
	});

	it('then together with every one that has waited half of it: one messages.list for many syncs', () => {
		expect(dueForRecheck(held, T + RECHECK_DELAY_MS)).toEqual({ due: held.slice(0, 2), later: held.slice(2) });
		// The rest waits at least half a delay more, so re-asks are at least half a delay apart.
		expect(nextRecheckAt(held.slice(2))).toBe(T + 40_000 + RECHECK_DELAY_MS);
	});

	it('a custom delay', () => {
		expect(dueForRecheck(held, T + 1000, 1000).due).toEqual([held[0]]);
	});
});

describe('recheckSearch', () => {
	it('asks once for all due emails, narrowed to the oldest one\'s second, and fetches only those found', async () => {
		const port = mailbox(1, 2, 3);
		port.indexed = new Set([id(1), id(3)]);
		const due: HeldForSearch[] = [{ at: T, since: T + 2000, ids: [id(2), id(3)] }, { at: T + 1, since: T + 1000, ids: [id(1)] }];
		const result = await recheckSearch(port, due, [], options());
		expect(port.lists).toHaveLength(1);
		expect(port.lists[0].q).toBe(`subject:invoice after:${Math.floor((T + 1000) / 1000) - 1}`);
		expect(port.gets).toEqual([id(3), id(1)]);
		expect(result.events.map((e) => [e.key, e.event, e.historyId, e.ref, e.message.id])).toEqual([
			[`added:${id(3)}`, 'messageAdded', '103', { id: id(3), threadId: `t-${id(3)}` }, id(3)],
			[`added:${id(1)}`, 'messageAdded', '101', { id: id(1), threadId: `t-${id(1)}` }, id(1)],
		]);
		expect(result).toMatchObject({ asked: 3, dropped: 1 });
	});

	it('an email emitted meanwhile is neither asked about nor emitted; with nothing left, Gmail is not asked', async () => {
		const port = mailbox(1, 2);
		port.indexed = new Set([id(1), id(2)]);
		const due: HeldForSearch[] = [{ at: T, ids: [id(1), id(2)] }];
		expect((await recheckSearch(port, due, [`added:${id(1)}`], options())).events.map((e) => e.message.id)).toEqual([id(2)]);
		expect(port.lists[0].q).toBe('subject:invoice');
		port.lists.length = 0;
		expect(await recheckSearch(port, due, [`added:${id(1)}`, `added:${id(2)}`], options())).toEqual({ events: [], asked: 0, dropped: 0 });
		expect(port.lists).toHaveLength(0);
	});

	it('an email held twice is asked about and emitted once; one deleted since is dropped', async () => {
		const port = mailbox(1);
		port.indexed = new Set([id(1), id(9)]);
		const due: HeldForSearch[] = [{ at: T, ids: [id(1), id(9)] }, { at: T + 1, ids: [id(1)] }];
		const result = await recheckSearch(port, due, [], options());
		expect(result.events.map((e) => e.message.id)).toEqual([id(1)]);
		expect(result).toMatchObject({ asked: 2, dropped: 1 });
	});

	it('asks with Include Spam and Trash when the filters want them', async () => {
		const port = mailbox(1);
		await recheckSearch(port, [{ at: T, ids: [id(1)] }], [], options({ includeSpamTrash: true }));
		expect(port.lists[0].includeSpamTrash).toBe(true);
	});

	it('a Gmail failure propagates (the engine keeps the emails held)', async () => {
		const port = mailbox(1);
		port.listMessages = async () => {
			throw new Error('503 backend error');
		};
		await expect(recheckSearch(port, [{ at: T, ids: [id(1)] }], [], options())).rejects.toThrow('503');
	});
});
