/**
 * Recovery from a stale cursor. history.list answers 404 when the cursor is older than the
 * history Gmail keeps (about a week, sometimes only hours). Peers either crash-loop on it or
 * skip ahead and lose the mail in between. We restart the cursor from users.getProfile and
 * catch up with messages.list over a bounded window that starts at the last emitted email,
 * emitting only what the dedupe record has not seen.
 */
import type { GmailMessageRef, GmailPort } from './port';
import { eventKey, resolveEvents, type HistoryEvent, type SyncOptions, type SyncOutcome, type SyncState } from './sync';

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
	/** True when maxMessages cut the listing: older mail in the window was not looked at. */
	truncated: boolean;
}

export interface CatchUpState extends SyncState {
	lastEmittedAt?: number;
}

/** Gmail's search operator for "after this instant" (seconds; one second of slack). */
export function afterQuery(sinceMs: number): string {
	return `after:${Math.max(0, Math.floor(sinceMs / 1000) - 1)}`;
}

export async function catchUpFromStaleCursor(
	port: GmailPort,
	state: CatchUpState,
	options: SyncOptions,
	catchUp: CatchUpOptions,
	now: number,
): Promise<SyncOutcome & { report: CatchUpReport }> {
	// The new cursor is read first: whatever arrives during the catch-up is expanded from history
	// later, and the dedupe record keeps the overlap from being emitted twice.
	const profile = await port.getProfile();
	const since = Math.max(state.lastEmittedAt ?? 0, now - catchUp.maxWindowMs);
	const single = options.labelFilterBehavior === 'include' && options.labelIds.length === 1;
	const refs: GmailMessageRef[] = [];
	let pageToken: string | undefined;
	let truncated = false;
	do {
		const page = await port.listMessages({
			q: afterQuery(since),
			maxResults: Math.min(500, catchUp.maxMessages - refs.length),
			...(single && { labelIds: options.labelIds }),
			...(pageToken !== undefined && { pageToken }),
		});
		refs.push(...page.messages);
		pageToken = page.nextPageToken || undefined;
		if (refs.length >= catchUp.maxMessages && pageToken !== undefined) {
			truncated = true;
			break;
		}
	} while (pageToken !== undefined);

	const wanted = options.events.includes('messageAdded');
	// messages.list is newest first; emit oldest first, as history would have.
	const events: HistoryEvent[] = wanted
		? refs.reverse().map((ref) => ({ key: eventKey('messageAdded', '', ref.id), event: 'messageAdded', historyId: profile.historyId, ref: { id: ref.id, threadId: ref.threadId } }))
		: [];
	const resolved = await resolveEvents(port, events, state.recent, options);
	const ordered = resolved.events.sort((a, b) => Number(a.message.internalDate ?? 0) - Number(b.message.internalDate ?? 0));
	return {
		events: ordered,
		cursor: profile.historyId,
		keys: ordered.map((e) => e.key),
		more: false,
		stats: { pages: 0, records: 0, ...resolved.stats },
		searchMissed: resolved.searchMissed,
		report: { since, listed: refs.length, truncated },
	};
}
