/**
 * The sync core over plain data. Where a GmailPort is needed, `MemoryGmail` below serves fixed
 * history pages and messages and records every call; everything that crosses the real Gmail
 * client is covered by the integration tests.
 */
import {
	GmailApiError,
	type GmailHistoryPage,
	type GmailHistoryRecord,
	type GmailMessage,
	type GmailPort,
	type HistoryType,
	type ListHistoryRequest,
	type MessageFormat,
} from '../../nodes/GmailPushTrigger/core/port';
import { mapBounded, resolveEvents } from '../../nodes/GmailPushTrigger/core/fetchEvents';
import { passesLabelFilter } from '../../nodes/GmailPushTrigger/core/filters';
import { eventKey, eventsOfRecord, type HistoryEvent } from '../../nodes/GmailPushTrigger/core/historyEvent';
import { historyLabelId, readHistory } from '../../nodes/GmailPushTrigger/core/readHistory';
import { isStaleCursorError, syncFromCursor } from '../../nodes/GmailPushTrigger/core/sync';
import type { SyncOptions } from '../../nodes/GmailPushTrigger/core/syncOptions';

const ALL: HistoryType[] = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

function options(overrides: Partial<SyncOptions> = {}): SyncOptions {
	return { events: ['messageAdded'], labelIds: [], labelFilterBehavior: 'include', includeDrafts: false, format: 'metadata', ...overrides };
}

function added(id: string, recordId: string, labelIds?: string[]): GmailHistoryRecord {
	const message = { id, threadId: `t-${id}`, ...(labelIds && { labelIds }) };
	return { id: recordId, messages: [{ id, threadId: `t-${id}` }], messagesAdded: [{ message }] };
}

/** An in-memory GmailPort: history as pages of records (paged by maxResults), messages by id. */
class MemoryGmail implements GmailPort {
	readonly calls: Array<{ method: string; args: unknown[] }> = [];
	/** getMessage resolves after this many ms per id (to reorder completions). */
	delays = new Map<string, number>();
	inFlight = 0;
	maxInFlight = 0;

	constructor(
		public records: GmailHistoryRecord[],
		public messages: Map<string, GmailMessage>,
		public current: string,
	) {}

	count(method: string): number {
		return this.calls.filter((c) => c.method === method).length;
	}

	async listHistory(request: ListHistoryRequest): Promise<GmailHistoryPage> {
		this.calls.push({ method: 'listHistory', args: [request] });
		const after = this.records.filter((r) => BigInt(r.id) > BigInt(request.startHistoryId));
		const offset = request.pageToken ? Number(request.pageToken) : 0;
		const size = request.maxResults ?? 100;
		const page = after.slice(offset, offset + size);
		const next = offset + size < after.length ? String(offset + size) : undefined;
		return { history: page, historyId: this.current, ...(next !== undefined && { nextPageToken: next }) };
	}

	async getMessage(id: string, format: MessageFormat, metadataHeaders?: string[]): Promise<GmailMessage | undefined> {
		this.calls.push({ method: 'getMessage', args: [id, format, metadataHeaders] });
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		try {
			const delay = this.delays.get(id) ?? 0;
			await new Promise((resolve) => setTimeout(resolve, delay));
			const message = this.messages.get(id);
			return message && structuredClone(message);
		} finally {
			this.inFlight--;
		}
	}

	async listMessages(): Promise<{ messages: GmailMessage[] }> {
		throw new Error('not used by sync');
	}

	async listLabels(): Promise<Array<{ id: string; name: string }>> {
		throw new Error('not used by sync');
	}

	async getProfile(): Promise<{ emailAddress: string; historyId: string }> {
		throw new Error('not used by sync');
	}

	async watch(): Promise<{ historyId: string; expiration: string }> {
		throw new Error('not used by sync');
	}

	async stop(): Promise<void> {
		throw new Error('not used by sync');
	}
}

function message(id: string, labelIds: string[] = ['INBOX', 'UNREAD']): GmailMessage {
	return { id, threadId: `t-${id}`, labelIds, snippet: `snippet ${id}`, internalDate: '1714557600000' };
}

function event(overrides: Partial<HistoryEvent> & Pick<HistoryEvent, 'event'>): HistoryEvent {
	const ref = overrides.ref ?? { id: 'm1' };
	const historyId = overrides.historyId ?? '100';
	return { key: eventKey(overrides.event, historyId, ref.id), historyId, ref, ...overrides };
}

describe('eventKey', () => {
	it('is one per email for additions and deletions, whatever the record', () => {
		expect(eventKey('messageAdded', '100', 'm1')).toBe(eventKey('messageAdded', '200', 'm1'));
		expect(eventKey('messageDeleted', '100', 'm1')).toBe(eventKey('messageDeleted', '200', 'm1'));
		expect(eventKey('messageAdded', '100', 'm1')).not.toBe(eventKey('messageDeleted', '100', 'm1'));
		expect(eventKey('messageAdded', '100', 'm1')).not.toBe(eventKey('messageAdded', '100', 'm2'));
	});

	it('is one per record for label changes', () => {
		expect(eventKey('labelAdded', '100', 'm1')).not.toBe(eventKey('labelAdded', '200', 'm1'));
		expect(eventKey('labelAdded', '100', 'm1')).not.toBe(eventKey('labelRemoved', '100', 'm1'));
		expect(eventKey('labelAdded', '100', 'm1')).toBe(eventKey('labelAdded', '100', 'm1'));
	});
});

describe('eventsOfRecord', () => {
	const record: GmailHistoryRecord = {
		id: '500',
		messages: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }],
		messagesAdded: [{ message: { id: 'a', threadId: 'ta', labelIds: ['INBOX'] } }],
		messagesDeleted: [{ message: { id: 'b', threadId: 'tb' } }],
		labelsAdded: [{ message: { id: 'c', threadId: 'tc', labelIds: ['INBOX', 'STARRED'] }, labelIds: ['STARRED'] }],
		labelsRemoved: [{ message: { id: 'd', threadId: 'td', labelIds: ['INBOX'] }, labelIds: ['UNREAD'] }],
	};

	it('emits one event per entry and type, in record order, each with its key', () => {
		expect(eventsOfRecord(record, ALL)).toEqual([
			{ key: 'added:a', event: 'messageAdded', historyId: '500', ref: { id: 'a', threadId: 'ta', labelIds: ['INBOX'] } },
			{ key: 'deleted:b', event: 'messageDeleted', historyId: '500', ref: { id: 'b', threadId: 'tb' } },
			{
				key: eventKey('labelAdded', '500', 'c'),
				event: 'labelAdded',
				historyId: '500',
				ref: { id: 'c', threadId: 'tc', labelIds: ['INBOX', 'STARRED'] },
				changedLabelIds: ['STARRED'],
			},
			{
				key: eventKey('labelRemoved', '500', 'd'),
				event: 'labelRemoved',
				historyId: '500',
				ref: { id: 'd', threadId: 'td', labelIds: ['INBOX'] },
				changedLabelIds: ['UNREAD'],
			},
		]);
	});

	it.each(ALL)('keeps only %s when only that is wanted', (type) => {
		const events = eventsOfRecord(record, [type]);
		expect(events.map((e) => e.event)).toEqual([type]);
	});

	it('ignores the plain `messages` list (it is not an event) and wants nothing by default', () => {
		expect(eventsOfRecord({ id: '1', messages: [{ id: 'x' }] }, ALL)).toEqual([]);
		expect(eventsOfRecord(record, [])).toEqual([]);
	});

	it('skips entries without a message id and label changes without labels get []', () => {
		const odd = {
			id: '9',
			messagesAdded: [{ message: { id: '' } }, { message: undefined as unknown as { id: string } }, { message: { id: 'ok' } }],
			labelsAdded: [{ message: { id: 'ok' } }],
		} as GmailHistoryRecord;
		const events = eventsOfRecord(odd, ALL);
		expect(events.map((e) => [e.event, e.ref.id])).toEqual([
			['messageAdded', 'ok'],
			['labelAdded', 'ok'],
		]);
		expect(events[1].changedLabelIds).toEqual([]);
		expect('changedLabelIds' in events[0]).toBe(false);
	});

	it('expands several messages added in one record', () => {
		const multi: GmailHistoryRecord = { id: '7', messagesAdded: [{ message: { id: 'x' } }, { message: { id: 'y' } }] };
		expect(eventsOfRecord(multi, ['messageAdded']).map((e) => e.key)).toEqual(['added:x', 'added:y']);
	});
});

describe('passesLabelFilter', () => {
	const add = event({ event: 'messageAdded' });
	const starred = event({ event: 'labelAdded', changedLabelIds: ['STARRED'] });

	it('passes everything without a label filter, except drafts', () => {
		const opts = { labelIds: [], labelFilterBehavior: 'include' as const, includeDrafts: false };
		expect(passesLabelFilter(add, ['INBOX'], opts)).toBe(true);
		expect(passesLabelFilter(add, undefined, opts)).toBe(true);
		expect(passesLabelFilter(add, ['DRAFT'], opts)).toBe(false);
		expect(passesLabelFilter(add, ['DRAFT'], { ...opts, includeDrafts: true })).toBe(true);
	});

	it('include: the message must carry one of the labels', () => {
		const opts = { labelIds: ['INBOX', 'Label_1'], labelFilterBehavior: 'include' as const, includeDrafts: false };
		expect(passesLabelFilter(add, ['INBOX', 'UNREAD'], opts)).toBe(true);
		expect(passesLabelFilter(add, ['Label_1'], opts)).toBe(true);
		expect(passesLabelFilter(add, ['SENT'], opts)).toBe(false);
		expect(passesLabelFilter(add, [], opts)).toBe(false);
	});

	it('exclude: the message must carry none of the labels', () => {
		const opts = { labelIds: ['SPAM', 'CATEGORY_PROMOTIONS'], labelFilterBehavior: 'exclude' as const, includeDrafts: false };
		expect(passesLabelFilter(add, ['INBOX'], opts)).toBe(true);
		expect(passesLabelFilter(add, ['INBOX', 'CATEGORY_PROMOTIONS'], opts)).toBe(false);
		expect(passesLabelFilter(add, ['SPAM'], opts)).toBe(false);
	});

	it('a draft is dropped even when it matches an include filter', () => {
		const opts = { labelIds: ['DRAFT'], labelFilterBehavior: 'include' as const, includeDrafts: false };
		expect(passesLabelFilter(add, ['DRAFT'], opts)).toBe(false);
		expect(passesLabelFilter(add, ['DRAFT'], { ...opts, includeDrafts: true })).toBe(true);
	});

	it('leaves unknown labels undecided (passes) until the message is fetched', () => {
		const opts = { labelIds: ['INBOX'], labelFilterBehavior: 'include' as const, includeDrafts: false };
		expect(passesLabelFilter(add, undefined, opts)).toBe(true);
	});

	it('label events are judged by the labels that changed, not the message labels', () => {
		const include = { labelIds: ['STARRED'], labelFilterBehavior: 'include' as const, includeDrafts: false };
		expect(passesLabelFilter(starred, ['INBOX'], include)).toBe(true);
		const inbox = { ...include, labelIds: ['INBOX'] };
		// The message is in INBOX, but the change was STARRED: "when INBOX is added" does not fire.
		expect(passesLabelFilter(starred, ['INBOX', 'STARRED'], inbox)).toBe(false);
		const exclude = { ...include, labelFilterBehavior: 'exclude' as const };
		expect(passesLabelFilter(starred, ['INBOX', 'STARRED'], exclude)).toBe(false);
		expect(passesLabelFilter(starred, ['INBOX', 'STARRED'], { ...exclude, labelIds: ['INBOX'] })).toBe(true);
	});
});

describe('historyLabelId', () => {
	it('narrows history.list only for an include filter of exactly one label', () => {
		expect(historyLabelId({ labelIds: ['INBOX'], labelFilterBehavior: 'include' })).toBe('INBOX');
		expect(historyLabelId({ labelIds: ['INBOX', 'Label_1'], labelFilterBehavior: 'include' })).toBeUndefined();
		expect(historyLabelId({ labelIds: ['INBOX'], labelFilterBehavior: 'exclude' })).toBeUndefined();
		expect(historyLabelId({ labelIds: [], labelFilterBehavior: 'include' })).toBeUndefined();
	});
});

describe('readHistory', () => {
	const records = Array.from({ length: 7 }, (_, i) => added(`m${i + 1}`, String(110 + i * 10)));

	it('reads every page in order and ends at the mailbox historyId', async () => {
		const port = new MemoryGmail(records, new Map(), '195');
		const span = await readHistory(port, '100', options({ pageSize: 3 }));
		expect(span.events.map((e) => e.ref.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
		expect(span).toMatchObject({ historyId: '195', more: false, pages: 3, records: 7 });
		const requests = port.calls.map((c) => c.args[0] as ListHistoryRequest);
		expect(requests.map((r) => r.pageToken)).toEqual([undefined, '3', '6']);
		for (const r of requests) expect(r).toMatchObject({ startHistoryId: '100', historyTypes: ['messageAdded'], maxResults: 3 });
	});

	it('starts after the given historyId', async () => {
		const port = new MemoryGmail(records, new Map(), '195');
		const span = await readHistory(port, '140', options());
		expect(span.events.map((e) => e.ref.id)).toEqual(['m5', 'm6', 'm7']);
		expect(span.pages).toBe(1);
	});

	it('asks history.list for the single include label, and the wanted types', async () => {
		const port = new MemoryGmail(records, new Map(), '195');
		await readHistory(port, '100', options({ events: ['messageAdded', 'labelAdded'], labelIds: ['INBOX'] }));
		expect(port.calls[0].args[0]).toMatchObject({ labelId: 'INBOX', historyTypes: ['messageAdded', 'labelAdded'] });
		const other = new MemoryGmail(records, new Map(), '195');
		await readHistory(other, '100', options({ labelIds: ['INBOX'], labelFilterBehavior: 'exclude' }));
		expect(other.calls[0].args[0]).not.toHaveProperty('labelId');
	});

	it('with no history at all, moves to the mailbox historyId', async () => {
		const port = new MemoryGmail([], new Map(), '4000');
		expect(await readHistory(port, '3000', options())).toEqual({ events: [], historyId: '4000', more: false, pages: 1, records: 0 });
	});

	it('sorts records within a page, so an out-of-order page cannot reorder events', async () => {
		const port = new MemoryGmail([records[2], records[0], records[1]], new Map(), '195');
		const span = await readHistory(port, '100', options());
		expect(span.events.map((e) => e.ref.id)).toEqual(['m1', 'm2', 'm3']);
	});

	it('never reports a historyId behind the last record even if the page says so', async () => {
		const port = new MemoryGmail(records.slice(0, 2), new Map(), '105');
		const span = await readHistory(port, '100', options());
		expect(span.historyId).toBe('120');
	});

	it('maxEvents cuts after the record that reaches it: `more` and the cursor at that record', async () => {
		const port = new MemoryGmail(records, new Map(), '195');
		const span = await readHistory(port, '100', options({ pageSize: 3, maxEvents: 4 }));
		expect(span.events.map((e) => e.ref.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
		expect(span.more).toBe(true);
		expect(span.historyId).toBe('140');
		expect(span.pages).toBe(2);
		// The next run from that cursor picks up exactly the rest.
		const rest = await readHistory(port, span.historyId as string, options({ pageSize: 3, maxEvents: 4 }));
		expect(rest.events.map((e) => e.ref.id)).toEqual(['m5', 'm6', 'm7']);
		expect(rest).toMatchObject({ more: false, historyId: '195' });
	});

	it('maxEvents reached exactly on the very last record is not `more`', async () => {
		const port = new MemoryGmail(records, new Map(), '195');
		const span = await readHistory(port, '100', options({ maxEvents: 7 }));
		expect(span).toMatchObject({ more: false, historyId: '195' });
		expect(span.events).toHaveLength(7);
	});

	it('maxEvents on the last record of a page that has a next page is `more`', async () => {
		const port = new MemoryGmail(records, new Map(), '195');
		const span = await readHistory(port, '100', options({ pageSize: 3, maxEvents: 3 }));
		expect(span).toMatchObject({ more: true, historyId: '130', pages: 1 });
	});

	it('propagates a stale-cursor 404 untouched', async () => {
		const port = new MemoryGmail(records, new Map(), '195');
		port.listHistory = async () => {
			throw new GmailApiError('Requested entity was not found.', 404, 'notFound');
		};
		const error = await readHistory(port, '1', options()).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(GmailApiError);
		expect(isStaleCursorError(error)).toBe(true);
		expect(isStaleCursorError(new GmailApiError('x', 503))).toBe(false);
		expect(isStaleCursorError(new Error('404'))).toBe(false);
	});
});

describe('mapBounded', () => {
	it.each([1, 2, 3, 10])('never has more than %i in flight and keeps input order', async (limit) => {
		let inFlight = 0;
		let max = 0;
		const items = Array.from({ length: 9 }, (_, i) => i);
		const results = await mapBounded(items, limit, async (n) => {
			inFlight++;
			max = Math.max(max, inFlight);
			await new Promise((resolve) => setTimeout(resolve, (9 - n) * 2));
			inFlight--;
			return n * 10;
		});
		expect(results).toEqual(items.map((n) => n * 10));
		expect(max).toBe(Math.min(limit, items.length));
	});

	it('handles no items and a limit below 1', async () => {
		expect(await mapBounded([], 5, async (n: number) => n)).toEqual([]);
		expect(await mapBounded([1, 2], 0, async (n) => n + 1)).toEqual([2, 3]);
	});

	it('rejects when a worker fails', async () => {
		await expect(
			mapBounded([1, 2, 3], 2, async (n) => {
				if (n === 2) throw new Error('boom');
				return n;
			}),
		).rejects.toThrow('boom');
	});
});

describe('resolveEvents', () => {
	const msgs = new Map([
		['m1', message('m1')],
		['m2', message('m2')],
		['m3', message('m3', ['SENT'])],
		['d1', message('d1', ['DRAFT'])],
	]);

	it('fetches each message once even when it appears in several events', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [
			event({ event: 'messageAdded', historyId: '10', ref: { id: 'm1' } }),
			event({ event: 'labelAdded', historyId: '11', ref: { id: 'm1' }, changedLabelIds: ['STARRED'] }),
			event({ event: 'labelRemoved', historyId: '12', ref: { id: 'm1' }, changedLabelIds: ['UNREAD'] }),
			event({ event: 'messageAdded', historyId: '13', ref: { id: 'm2' } }),
		];
		const { events: out } = await resolveEvents(port, events, [], options({ events: ALL }));
		expect(out.map((e) => [e.event, e.message.id])).toEqual([
			['messageAdded', 'm1'],
			['labelAdded', 'm1'],
			['labelRemoved', 'm1'],
			['messageAdded', 'm2'],
		]);
		expect(port.calls.filter((c) => c.method === 'getMessage').map((c) => c.args[0])).toEqual(['m1', 'm2']);
		expect(out[0].message).toEqual(msgs.get('m1'));
	});

	it('passes format and metadata headers to getMessage', async () => {
		const port = new MemoryGmail([], msgs, '1');
		await resolveEvents(port, [event({ event: 'messageAdded', ref: { id: 'm1' } })], [], options({ format: 'metadata', metadataHeaders: ['From', 'Subject'] }));
		expect(port.calls[0].args).toEqual(['m1', 'metadata', ['From', 'Subject']]);
	});

	it('skips a message that is gone (404 → undefined) and counts it', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [
			event({ event: 'messageAdded', historyId: '10', ref: { id: 'gone' } }),
			event({ event: 'messageAdded', historyId: '11', ref: { id: 'm2' } }),
		];
		const result = await resolveEvents(port, events, [], options());
		expect(result.events.map((e) => e.message.id)).toEqual(['m2']);
		expect(result.stats).toEqual({ duplicates: 0, filtered: 0, gone: 1 });
	});

	it('drops events whose key was already emitted, without fetching them', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [event({ event: 'messageAdded', ref: { id: 'm1' } }), event({ event: 'messageAdded', ref: { id: 'm2' } })];
		const result = await resolveEvents(port, events, ['added:m1', 'added:zzz'], options());
		expect(result.events.map((e) => e.message.id)).toEqual(['m2']);
		expect(result.stats.duplicates).toBe(1);
		expect(port.calls.map((c) => c.args[0])).toEqual(['m2']);
	});

	it('drops a duplicate event within the same run', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [
			event({ event: 'messageAdded', historyId: '10', ref: { id: 'm1' } }),
			event({ event: 'messageAdded', historyId: '20', ref: { id: 'm1' } }),
		];
		const result = await resolveEvents(port, events, undefined, options());
		expect(result.events).toHaveLength(1);
		expect(result.stats.duplicates).toBe(1);
	});

	it('filters with the history labels before fetching', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [
			event({ event: 'messageAdded', ref: { id: 'm3', labelIds: ['SENT'] } }),
			event({ event: 'messageAdded', ref: { id: 'm1', labelIds: ['INBOX'] } }),
		];
		const result = await resolveEvents(port, events, [], options({ labelIds: ['INBOX'] }));
		expect(result.events.map((e) => e.message.id)).toEqual(['m1']);
		expect(result.stats.filtered).toBe(1);
		expect(port.calls.map((c) => c.args[0])).toEqual(['m1']);
	});

	it('filters with the fetched labels when history has none', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [
			event({ event: 'messageAdded', historyId: '1', ref: { id: 'm3' } }),
			event({ event: 'messageAdded', historyId: '2', ref: { id: 'm1' } }),
			event({ event: 'messageAdded', historyId: '3', ref: { id: 'd1' } }),
		];
		const result = await resolveEvents(port, events, [], options({ labelIds: ['INBOX'] }));
		expect(result.events.map((e) => e.message.id)).toEqual(['m1']);
		expect(result.stats.filtered).toBe(2);
		expect(port.count('getMessage')).toBe(3);
	});

	it('drops drafts known only after the fetch, unless drafts are wanted', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [event({ event: 'messageAdded', ref: { id: 'd1' } })];
		expect((await resolveEvents(port, events, [], options())).events).toHaveLength(0);
		expect((await resolveEvents(port, events, [], options({ includeDrafts: true }))).events).toHaveLength(1);
	});

	it('does not fetch deleted messages and emits them from the history reference', async () => {
		const port = new MemoryGmail([], msgs, '1');
		const events = [event({ event: 'messageDeleted', ref: { id: 'gone', threadId: 't-gone' } })];
		const result = await resolveEvents(port, events, [], options({ events: ['messageDeleted'] }));
		expect(result.events).toHaveLength(1);
		expect(result.events[0].message).toEqual({ id: 'gone', threadId: 't-gone' });
		expect(port.count('getMessage')).toBe(0);
	});

	it('keeps history order when fetches complete in reverse order, within the concurrency bound', async () => {
		const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
		const port = new MemoryGmail([], new Map(ids.map((id) => [id, message(id)])), '1');
		ids.forEach((id, i) => port.delays.set(id, (ids.length - i) * 5));
		const events = ids.map((id, i) => event({ event: 'messageAdded', historyId: String(100 + i), ref: { id } }));
		const completion: string[] = [];
		const original = port.getMessage.bind(port);
		port.getMessage = async (id, format, headers) => {
			const result = await original(id, format, headers);
			completion.push(id);
			return result;
		};
		const result = await resolveEvents(port, events, [], options({ fetchConcurrency: 3 }));
		expect(result.events.map((e) => e.message.id)).toEqual(ids);
		expect(completion).not.toEqual(ids); // the fetches really did finish out of order
		expect(port.maxInFlight).toBe(3);
	});

	it('propagates a Gmail failure of a fetch (nothing partial is returned)', async () => {
		const port = new MemoryGmail([], msgs, '1');
		port.getMessage = async () => {
			throw new GmailApiError('backend', 503);
		};
		await expect(resolveEvents(port, [event({ event: 'messageAdded' })], [], options())).rejects.toMatchObject({ status: 503 });
	});
});

describe('syncFromCursor', () => {
	it('refuses to run without a cursor', async () => {
		const port = new MemoryGmail([], new Map(), '1');
		await expect(syncFromCursor(port, {}, options())).rejects.toThrow(/cursor/);
		expect(port.calls).toHaveLength(0);
	});

	it('returns the events, their keys, stats and the new cursor', async () => {
		const records = [added('m1', '110'), added('gone', '120'), added('m3', '130', ['SENT']), added('m2', '140')];
		const msgs = new Map([
			['m1', message('m1')],
			['m2', message('m2')],
			['m3', message('m3', ['SENT'])],
		]);
		const port = new MemoryGmail(records, msgs, '150');
		const outcome = await syncFromCursor(port, { cursor: '100', recent: ['added:m2'] }, options({ labelIds: ['INBOX', 'Label_9'], pageSize: 2 }));
		expect(outcome.events.map((e) => e.message.id)).toEqual(['m1']);
		expect(outcome.keys).toEqual(['added:m1']);
		expect(outcome.cursor).toBe('150');
		expect(outcome.more).toBe(false);
		expect(outcome.stats).toEqual({ pages: 2, records: 4, duplicates: 1, filtered: 1, gone: 1 });
	});

	it('never moves the cursor back', async () => {
		const port = new MemoryGmail([], new Map(), '90');
		const outcome = await syncFromCursor(port, { cursor: '100' }, options());
		expect(outcome.cursor).toBe('100');
	});

	it('works with historyIds above 2^53', async () => {
		const base = 9007199254740992n;
		const records = [added('m1', String(base + 1n)), added('m2', String(base + 3n))];
		const msgs = new Map([
			['m1', message('m1')],
			['m2', message('m2')],
		]);
		const port = new MemoryGmail(records, msgs, String(base + 5n));
		const outcome = await syncFromCursor(port, { cursor: String(base + 1n) }, options());
		expect(outcome.events.map((e) => e.message.id)).toEqual(['m2']);
		expect(outcome.cursor).toBe('9007199254740997');
	});
});
