/**
 * Expands Gmail history after the cursor into events, in history order, each once. Every page
 * is read and every message fetched before the new cursor is reported: a failure throws before
 * anything is emitted, so Pub/Sub's redelivery retries the same span.
 */
import { advance } from './cursor';
import { resolveEvents, type ResolveStats } from './fetchEvents';
import type { SearchMiss } from './filters';
import type { SyncedEvent } from './historyEvent';
import { GmailApiError, type GmailPort } from './port';
import { readHistory } from './readHistory';
import type { SyncOptions } from './syncOptions';

export interface SyncState {
	cursor?: string;
	recent?: string[];
}

export interface SyncStats extends ResolveStats {
	pages: number;
	records: number;
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
