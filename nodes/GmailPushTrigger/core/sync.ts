/**
 * Expands Gmail history into events, in history order, each once.
 *
 * The cursor is the last historyId whose changes we have emitted. `history.list` from the
 * cursor returns every record after it (historyIds increase but are not contiguous). We read
 * every page, turn records into events, drop the ones already emitted, fetch each message once
 * with bounded parallelism, and only then report the new cursor: a failure anywhere throws
 * before anything is emitted or the cursor moves, so Pub/Sub's redelivery retries the same span.
 */
import { advance, compareHistoryIds } from './cursor';
import {
	GmailApiError,
	type GmailHistoryRecord,
	type GmailMessage,
	type GmailMessageRef,
	type GmailPort,
	type HistoryType,
	type MessageFormat,
} from './port';

export type LabelFilterBehavior = 'include' | 'exclude';

export interface SyncOptions {
	events: HistoryType[];
	/** Filtered again on our side: the watch's own label filter is not always honoured. */
	labelIds: string[];
	labelFilterBehavior: LabelFilterBehavior;
	includeDrafts: boolean;
	/**
	 * New emails in Spam or Trash are skipped unless this is set (as in n8n's Gmail Trigger), or
	 * the label filter asks for SPAM or TRASH. Also passed to the search below.
	 */
	includeSpamTrash?: boolean;
	/**
	 * Gmail search syntax (Search, Sender, Read Status): an email is emitted only when Gmail's
	 * own search finds it when the node sees it, or for a new email it missed then, once more
	 * within a minute (core/recheck). One messages.list per sync that has emails to check (see
	 * matchSearch), not one per email.
	 */
	search?: string;
	format: MessageFormat;
	metadataHeaders?: string[];
	/** history.list page size (Gmail allows up to 500). */
	pageSize?: number;
	fetchConcurrency?: number;
	/** Bound on events per run; the cursor then stops at the last record taken and `more` is set. */
	maxEvents?: number;
}

export interface SyncState {
	cursor?: string;
	recent?: string[];
}

export interface HistoryEvent {
	/** Dedupe key: one per email for messageAdded/messageDeleted, one per record for label changes. */
	key: string;
	event: HistoryType;
	/** The id of the history record the event came from. */
	historyId: string;
	ref: GmailMessageRef;
	/** For labelAdded / labelRemoved: the labels that changed. */
	changedLabelIds?: string[];
}

export interface SyncedEvent extends HistoryEvent {
	/** The fetched message; for messageDeleted only the reference from history. */
	message: GmailMessage;
}

export interface SyncStats {
	pages: number;
	records: number;
	duplicates: number;
	filtered: number;
	gone: number;
}

/** A new email that passed every other filter but Search: core/recheck asks about it again. */
export interface SearchMiss {
	id: string;
	/** Epoch ms as a string, as Gmail gives it. */
	internalDate?: string;
}

export interface SyncOutcome {
	events: SyncedEvent[];
	/** Where the cursor goes once `events` are emitted (never behind the old one). */
	cursor: string | undefined;
	/** Keys to remember as emitted. */
	keys: string[];
	/** True when maxEvents cut the run short: run again from the new cursor. */
	more: boolean;
	stats: SyncStats;
	searchMissed?: SearchMiss[];
}

export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_FETCH_CONCURRENCY = 5;
export const DEFAULT_MAX_EVENTS = 500;

export function eventKey(event: HistoryType, recordId: string, messageId: string): string {
	switch (event) {
		case 'messageAdded':
			return `added:${messageId}`;
		case 'messageDeleted':
			return `deleted:${messageId}`;
		default:
			return `${event}:${recordId}:${messageId}`;
	}
}

/** Turns one history record into the events the user asked for, in the record's order. */
export function eventsOfRecord(record: GmailHistoryRecord, wanted: readonly HistoryType[]): HistoryEvent[] {
	const out: HistoryEvent[] = [];
	const push = (event: HistoryType, ref: GmailMessageRef | undefined, changedLabelIds?: string[]) => {
		if (!ref?.id || !wanted.includes(event)) return;
		out.push({
			key: eventKey(event, record.id, ref.id),
			event,
			historyId: record.id,
			ref,
			...(changedLabelIds && { changedLabelIds }),
		});
	};
	for (const entry of record.messagesAdded ?? []) push('messageAdded', entry.message);
	for (const entry of record.messagesDeleted ?? []) push('messageDeleted', entry.message);
	for (const entry of record.labelsAdded ?? []) push('labelAdded', entry.message, entry.labelIds ?? []);
	for (const entry of record.labelsRemoved ?? []) push('labelRemoved', entry.message, entry.labelIds ?? []);
	return out;
}

/**
 * Whether an event passes the label filter. For label changes the filter looks at the labels
 * that changed ("when label X is added"); for messages at the message's labels.
 */
export function passesLabelFilter(
	event: HistoryEvent,
	messageLabelIds: readonly string[] | undefined,
	options: Pick<SyncOptions, 'labelIds' | 'labelFilterBehavior' | 'includeDrafts' | 'includeSpamTrash'>,
): boolean {
	if (!options.includeDrafts && messageLabelIds?.includes('DRAFT')) return false;
	if (event.event === 'messageAdded' && inSpamOrTrash(messageLabelIds) && !spamTrashWanted(options)) return false;
	if (options.labelIds.length === 0) return true;
	const labels = event.changedLabelIds ?? messageLabelIds;
	if (labels === undefined) return true; // unknown yet: decide after the fetch
	const hit = labels.some((id) => options.labelIds.includes(id));
	return options.labelFilterBehavior === 'include' ? hit : !hit;
}

function inSpamOrTrash(labelIds: readonly string[] | undefined): boolean {
	return labelIds?.some((id) => id === 'SPAM' || id === 'TRASH') ?? false;
}

/** Spam and Trash count when asked for: by the option, or by naming them in an include filter. */
export function spamTrashWanted(options: Pick<SyncOptions, 'labelIds' | 'labelFilterBehavior' | 'includeSpamTrash'>): boolean {
	return options.includeSpamTrash === true || (options.labelFilterBehavior === 'include' && inSpamOrTrash(options.labelIds));
}

/** A page of messages.list holds at most 500; 20 pages bound one sync's search to 100 quota units. */
export const SEARCH_PAGE_SIZE = 500;
export const MAX_SEARCH_PAGES = 20;

/**
 * Which of `messages` Gmail's search `query` finds now. One messages.list for all of them,
 * narrowed with after: to the oldest one's second, so its pages hold only mail since then
 * (newest first): it stops as soon as every message is found.
 */
export async function matchSearch(
	port: GmailPort,
	query: string,
	messages: readonly GmailMessage[],
	includeSpamTrash: boolean,
): Promise<Set<string>> {
	const wanted = new Set(messages.map((m) => m.id));
	const found = new Set<string>();
	if (wanted.size === 0) return found;
	const dates = messages.map((m) => Number(m.internalDate));
	const oldestSecond = dates.every((d) => Number.isFinite(d) && d > 0) ? Math.floor(Math.min(...dates) / 1000) - 1 : undefined;
	// Gmail reads "a OR b after:x" as "(a OR b) after:x"; grouping is only needed for braces.
	const grouped = /[{}]/.test(query) ? `(${query})` : query;
	const q = oldestSecond === undefined ? grouped : `${grouped} after:${oldestSecond}`;
	let pageToken: string | undefined;
	for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
		const result = await port.listMessages({
			q,
			maxResults: SEARCH_PAGE_SIZE,
			...(includeSpamTrash && { includeSpamTrash }),
			...(pageToken !== undefined && { pageToken }),
		});
		for (const ref of result.messages) if (wanted.has(ref.id)) found.add(ref.id);
		pageToken = result.nextPageToken || undefined;
		if (found.size === wanted.size || pageToken === undefined) break;
	}
	return found;
}

/** The one label to pass to history.list, when it narrows the result without losing events. */
export function historyLabelId(options: Pick<SyncOptions, 'labelIds' | 'labelFilterBehavior'>): string | undefined {
	return options.labelFilterBehavior === 'include' && options.labelIds.length === 1 ? options.labelIds[0] : undefined;
}

export interface HistorySpan {
	events: HistoryEvent[];
	/** The mailbox's historyId after the last page, or the last record taken when cut short. */
	historyId: string | undefined;
	more: boolean;
	pages: number;
	records: number;
}

/** Reads every page of history after `startHistoryId`. A stale start throws GmailApiError 404. */
export async function readHistory(port: GmailPort, startHistoryId: string, options: SyncOptions): Promise<HistorySpan> {
	const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
	const labelId = historyLabelId(options);
	const events: HistoryEvent[] = [];
	let historyId: string | undefined;
	let pageToken: string | undefined;
	let pages = 0;
	let records = 0;
	do {
		const page = await port.listHistory({
			startHistoryId,
			historyTypes: options.events,
			maxResults: options.pageSize ?? DEFAULT_PAGE_SIZE,
			...(labelId !== undefined && { labelId }),
			...(pageToken !== undefined && { pageToken }),
		});
		pages++;
		// Records come oldest first; sort anyway so a reordering server cannot move the cursor back.
		const sorted = [...(page.history ?? [])].sort((a, b) => compareHistoryIds(a.id, b.id));
		for (const record of sorted) {
			records++;
			events.push(...eventsOfRecord(record, options.events));
			historyId = advance(historyId, record.id);
			if (events.length >= maxEvents) {
				const cutAfterLastRecord = record !== sorted[sorted.length - 1] || page.nextPageToken !== undefined;
				if (cutAfterLastRecord) return { events, historyId, more: true, pages, records };
			}
		}
		pageToken = page.nextPageToken || undefined;
		// The mailbox's historyId covers the span only once the last page is read: taken from an
		// earlier page it would carry the cursor past records a maxEvents cut leaves for later.
		if (pageToken === undefined) historyId = advance(historyId, page.historyId);
	} while (pageToken !== undefined);
	return { events, historyId, more: false, pages, records };
}

/** Runs `worker` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
		while (next < items.length) {
			const index = next++;
			results[index] = await worker(items[index]);
		}
	});
	await Promise.all(lanes);
	return results;
}

/**
 * Fetches the messages behind `events` (each id once), drops the ones already emitted, gone
 * (404: deleted between notification and fetch) or filtered out, and returns the rest in order.
 */
export async function resolveEvents(
	port: GmailPort,
	events: readonly HistoryEvent[],
	recent: readonly string[] | undefined,
	options: SyncOptions,
): Promise<{ events: SyncedEvent[]; stats: Pick<SyncStats, 'duplicates' | 'filtered' | 'gone'>; searchMissed: SearchMiss[] }> {
	const seen = new Set(recent ?? []);
	const stats = { duplicates: 0, filtered: 0, gone: 0 };
	const candidates: HistoryEvent[] = [];
	for (const event of events) {
		if (seen.has(event.key)) {
			stats.duplicates++;
			continue;
		}
		seen.add(event.key);
		if (!passesLabelFilter(event, event.ref.labelIds, options)) {
			stats.filtered++;
			continue;
		}
		candidates.push(event);
	}

	const toFetch = [...new Set(candidates.filter((e) => e.event !== 'messageDeleted').map((e) => e.ref.id))];
	const fetched = await mapBounded(toFetch, options.fetchConcurrency ?? DEFAULT_FETCH_CONCURRENCY, async (id) =>
		port.getMessage(id, options.format, options.metadataHeaders),
	);
	const messages = new Map(toFetch.map((id, i) => [id, fetched[i]]));

	const out: SyncedEvent[] = [];
	for (const event of candidates) {
		if (event.event === 'messageDeleted') {
			out.push({ ...event, message: { ...event.ref } });
			continue;
		}
		const message = messages.get(event.ref.id);
		if (message === undefined) {
			stats.gone++;
			continue;
		}
		// History may not carry labels; judge again with the fetched ones.
		if (!passesLabelFilter(event, event.ref.labelIds ?? message.labelIds, options)) {
			stats.filtered++;
			continue;
		}
		out.push({ ...event, message });
	}
	if (options.search === undefined || options.search.trim() === '') return { events: out, stats, searchMissed: [] };
	const searched = out.filter((e) => e.event !== 'messageDeleted').map((e) => e.message);
	const matching = await matchSearch(port, options.search, [...new Map(searched.map((m) => [m.id, m])).values()], spamTrashWanted(options));
	// A deletion cannot be searched (the email is gone): it passes on the label filter alone.
	const kept = out.filter((e) => e.event === 'messageDeleted' || matching.has(e.message.id));
	stats.filtered += out.length - kept.length;
	// Only new emails are asked again: the index may not know them yet (a label change is of a known one).
	const searchMissed = out.filter((e) => e.event === 'messageAdded' && !matching.has(e.message.id)).map(({ message }) => ({ id: message.id, ...(message.internalDate !== undefined && { internalDate: message.internalDate }) }));
	return { events: kept, stats, searchMissed };
}

/**
 * The events of an emission whose execution crashed, with their messages fetched again (each
 * id once; held only by id meanwhile, so a large email is not kept in memory while its
 * execution runs). No filter is applied again: they passed when first emitted. An email deleted
 * since is dropped and counted.
 */
export async function refetchEvents(
	port: GmailPort,
	events: readonly HistoryEvent[],
	options: Pick<SyncOptions, 'format' | 'metadataHeaders' | 'fetchConcurrency'>,
): Promise<{ events: SyncedEvent[]; gone: number }> {
	const ids = [...new Set(events.filter((e) => e.event !== 'messageDeleted').map((e) => e.ref.id))];
	const fetched = await mapBounded(ids, options.fetchConcurrency ?? DEFAULT_FETCH_CONCURRENCY, async (id) => port.getMessage(id, options.format, options.metadataHeaders));
	const messages = new Map(ids.map((id, i) => [id, fetched[i]]));
	const out: SyncedEvent[] = [];
	let gone = 0;
	for (const event of events) {
		const message = event.event === 'messageDeleted' ? { ...event.ref } : messages.get(event.ref.id);
		if (message === undefined) gone++;
		else out.push({ ...event, message });
	}
	return { events: out, gone };
}

/** The part of an event that names it (what refetchEvents needs), without the fetched message. */
export function withoutMessage(event: SyncedEvent): HistoryEvent {
	const { message: _message, ...rest } = event;
	return rest;
}

/** One sync run from the state's cursor. Throws GmailApiError (404 = stale cursor) untouched. */
export async function syncFromCursor(port: GmailPort, state: SyncState, options: SyncOptions): Promise<SyncOutcome> {
	if (state.cursor === undefined) throw new Error('No history cursor yet: activate the trigger first');
	const span = await readHistory(port, state.cursor, options);
	const { events, stats, searchMissed } = await resolveEvents(port, span.events, state.recent, options);
	return {
		events,
		cursor: advance(state.cursor, span.historyId),
		keys: events.map((e) => e.key),
		more: span.more,
		stats: { pages: span.pages, records: span.records, ...stats },
		searchMissed,
	};
}

export function isStaleCursorError(error: unknown): boolean {
	return error instanceof GmailApiError && error.status === 404;
}
