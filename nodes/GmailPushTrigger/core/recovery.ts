/**
 * A stale cursor (history.list answers 404 past the history Gmail keeps): restart it from
 * users.getProfile and catch up with messages.list from the last emitted email, emitting only
 * what the dedupe record has not seen, in batches of the live path's bound. Until the last batch
 * the state keeps the stale cursor and a PendingCatchUp, so a crash resumes after the last batch.
 */
import { isHistoryId } from './cursor';
import type { GmailPort } from './port';
import { decodeIds, encodeIds, isCompactId } from './seen';
import { resolveEvents } from './fetchEvents';
import { eventKey, type HistoryEvent } from './historyEvent';
import type { SyncOutcome, SyncState } from './sync';
import { DEFAULT_MAX_EVENTS, type SyncOptions } from './syncOptions';

export interface CatchUpOptions {
	/** How far back the catch-up may look at most. */
	maxWindowMs: number;
	/** How many messages it lists at most (newest first; older ones are left out). */
	maxMessages: number;
}

export const DEFAULT_CATCH_UP: CatchUpOptions = { maxWindowMs: 7 * 24 * 60 * 60 * 1000, maxMessages: 500 };

export interface CatchUpReport {
	/** Epoch ms the catch-up looked back to. */
	since: number;
	listed: number;
	/** Listed emails the dedupe record has not seen: what the batches take. */
	unseen: number;
	/** True when maxMessages cut the listing: older mail in the window was not looked at. */
	truncated: boolean;
}

export interface CatchUpState extends SyncState {
	lastEmittedAt?: number;
}

/** A catch-up whose listed emails are not all taken yet, kept in the state between batches. */
export interface PendingCatchUp {
	/** The mailbox's historyId read before the listing: the cursor once the last batch is out. */
	cursor: string;
	/** Listed ids not taken yet, oldest first, 8 bytes each (core/seen's encoding). */
	ids?: string;
	/** Listed ids of another shape than Gmail's 16 hex digits (never seen from Gmail), taken last. */
	otherIds?: string[];
}

export interface CatchUpOutcome extends SyncOutcome {
	/** What the next batches take; undefined after the last one (then `cursor` is the new cursor). */
	pending?: PendingCatchUp;
}

/** Gmail's search operator for "after this instant" (seconds; one second of slack). */
export function afterQuery(sinceMs: number): string {
	return `after:${Math.max(0, Math.floor(sinceMs / 1000) - 1)}`;
}

/** The ids a pending catch-up still holds, in the order they go out. */
export function pendingIds(pending: PendingCatchUp): string[] {
	return [...decodeIds(pending.ids), ...(pending.otherIds ?? [])];
}

/** The pending record of `ids` left after a batch; undefined when none are left. */
export function toPending(cursor: string, ids: readonly string[]): PendingCatchUp | undefined {
	if (ids.length === 0) return undefined;
	const compact = ids.filter(isCompactId);
	const other = ids.filter((id) => !isCompactId(id));
	return { cursor, ...(compact.length > 0 && { ids: encodeIds(compact) }), ...(other.length > 0 && { otherIds: other }) };
}

/**
 * A pending catch-up as read from the static data, or why it cannot be used. Damaged, it is
 * dropped: the stale cursor then starts a new catch-up from the last emitted email.
 */
export function readPending(value: unknown): { pending: PendingCatchUp } | { problem: string } {
	const record = value as Partial<PendingCatchUp> | null;
	if (typeof record !== 'object' || record === null || !isHistoryId(record.cursor)) return { problem: 'it has no valid cursor' };
	if (record.ids !== undefined && typeof record.ids !== 'string') return { problem: 'its ids are not a string' };
	const otherIds = record.otherIds;
	if (otherIds !== undefined && !(Array.isArray(otherIds) && otherIds.every((id) => typeof id === 'string'))) return { problem: 'its other ids are not a list of strings' };
	return { pending: { cursor: record.cursor, ...(record.ids !== undefined && { ids: record.ids }), ...(otherIds !== undefined && { otherIds }) } };
}

/**
 * Starts a catch-up: reads the new cursor, lists the window (oldest first, without what was
 * emitted already) and takes the first batch. The rest, if any, is in `pending`.
 */
export async function catchUpFromStaleCursor(
	port: GmailPort,
	state: CatchUpState,
	options: SyncOptions,
	catchUp: CatchUpOptions,
	now: number,
): Promise<CatchUpOutcome & { report: CatchUpReport }> {
	// The new cursor is read first: whatever arrives during the catch-up is expanded from history
	// later, and the dedupe record keeps the overlap from being emitted twice.
	const profile = await port.getProfile();
	const since = Math.max(state.lastEmittedAt ?? 0, now - catchUp.maxWindowMs);
	const listing = options.events.includes('messageAdded') ? await listWindow(port, since, options, catchUp.maxMessages) : { ids: [], truncated: false };
	const seen = new Set(state.recent ?? []);
	// messages.list is newest first; emit oldest first, as history would have.
	const unseen = listing.ids.reverse().filter((id) => !seen.has(eventKey('messageAdded', '', id)));
	const outcome = await takeBatch(port, profile.historyId, unseen, state.recent, options);
	return { ...outcome, report: { since, listed: listing.ids.length, unseen: unseen.length, truncated: listing.truncated } };
}

/** The next batch of a pending catch-up (no listing: the ids are in the record). */
export async function continueCatchUp(port: GmailPort, pending: PendingCatchUp, state: SyncState, options: SyncOptions): Promise<CatchUpOutcome> {
	return await takeBatch(port, pending.cursor, pendingIds(pending), state.recent, options);
}

/** Ids of the mail since `since`, newest first, at most `maxMessages`. */
async function listWindow(port: GmailPort, since: number, options: SyncOptions, maxMessages: number): Promise<{ ids: string[]; truncated: boolean }> {
	const single = options.labelFilterBehavior === 'include' && options.labelIds.length === 1;
	const ids: string[] = [];
	let pageToken: string | undefined;
	do {
		const page = await port.listMessages({
			q: afterQuery(since),
			maxResults: Math.min(500, maxMessages - ids.length),
			...(single && { labelIds: options.labelIds }),
			...(pageToken !== undefined && { pageToken }),
		});
		ids.push(...page.messages.map((ref) => ref.id));
		pageToken = page.nextPageToken || undefined;
		if (ids.length >= maxMessages && pageToken !== undefined) return { ids, truncated: true };
	} while (pageToken !== undefined);
	return { ids, truncated: false };
}

/**
 * Fetches and filters the first batch of `ids` (the live path's bound) and leaves the rest
 * pending. Every id taken leaves the record, emitted or filtered out, so a batch that emits
 * nothing cannot stall the catch-up.
 */
async function takeBatch(port: GmailPort, cursor: string, ids: readonly string[], recent: readonly string[] | undefined, options: SyncOptions): Promise<CatchUpOutcome> {
	const size = Math.max(1, options.maxEvents ?? DEFAULT_MAX_EVENTS);
	const events: HistoryEvent[] = ids.slice(0, size).map((id) => ({ key: eventKey('messageAdded', '', id), event: 'messageAdded', historyId: cursor, ref: { id } }));
	const resolved = await resolveEvents(port, events, recent, options);
	const ordered = resolved.events.sort((a, b) => Number(a.message.internalDate ?? 0) - Number(b.message.internalDate ?? 0));
	const pending = toPending(cursor, ids.slice(size));
	return {
		events: ordered,
		cursor: pending === undefined ? cursor : undefined,
		keys: ordered.map((e) => e.key),
		more: pending !== undefined,
		stats: { pages: 0, records: 0, ...resolved.stats },
		...(pending && { pending }),
		searchMissed: resolved.searchMissed,
	};
}
