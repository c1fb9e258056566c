/**
 * Search asked again, once, about new emails it missed: Gmail's search index learns an email
 * seconds after history does. Such an email is held by id beside the cursor (which moves on)
 * and asked about once more 30 to 60 s later, then emitted or dropped for good.
 */
import type { GmailMessage, GmailPort } from './port';
import { mapBounded } from './fetchEvents';
import { matchSearch, spamTrashWanted, type SearchMiss } from './filters';
import { eventKey, type SyncedEvent } from './historyEvent';
import { DEFAULT_FETCH_CONCURRENCY, type SyncOptions } from './syncOptions';

/**
 * How long after the first ask Search is asked again at the latest. Gmail's index takes
 * seconds; half a minute at least leaves it ample room, while a missed email still comes out
 * within a minute. Emails missed within half of it are asked together: at most one re-ask per
 * half minute, whatever the mail's rate.
 */
export const RECHECK_DELAY_MS = 60_000;

/**
 * At most this many emails are held (the static data is rewritten on every emit): 250 ids
 * take under 5 KB. Beyond it the oldest held are dropped unasked.
 */
export const RECHECK_CAP = 250;

/** The emails one sync held, as kept in the static data. */
export interface HeldForSearch {
	/** Epoch ms Search first missed them. */
	at: number;
	/** Epoch ms of the oldest one's internalDate, when all were known. */
	since?: number;
	ids: string[];
}

/** The held emails from stored state; entries of another shape (a damaged save) are left out. */
export function readHeld(value: unknown): HeldForSearch[] {
	if (!Array.isArray(value)) return [];
	return value.filter(
		(entry): entry is HeldForSearch =>
			typeof entry === 'object' &&
			entry !== null &&
			Number.isFinite(entry.at) &&
			(entry.since === undefined || Number.isFinite(entry.since)) &&
			Array.isArray(entry.ids) &&
			entry.ids.every((id: unknown) => typeof id === 'string'),
	);
}

/** `held` with the emails one sync missed added; the oldest beyond `cap` are dropped. */
export function holdMisses(held: readonly HeldForSearch[], misses: readonly SearchMiss[], at: number, cap = RECHECK_CAP): { held: HeldForSearch[]; dropped: number } {
	const dates = misses.map((m) => Number(m.internalDate));
	const since = dates.length > 0 && dates.every((d) => Number.isFinite(d) && d > 0) ? Math.min(...dates) : undefined;
	const all = misses.length === 0 ? [...held] : [...held, { at, ...(since !== undefined && { since }), ids: misses.map((m) => m.id) }];
	let excess = all.reduce((n, entry) => n + entry.ids.length, 0) - cap;
	const dropped = Math.max(excess, 0);
	const kept: HeldForSearch[] = [];
	for (const entry of all) {
		const cut = Math.min(Math.max(excess, 0), entry.ids.length);
		excess -= cut;
		if (cut < entry.ids.length) kept.push(cut === 0 ? entry : { ...entry, ids: entry.ids.slice(cut) });
	}
	return { held: kept, dropped };
}

/**
 * Which held emails to ask about now: none until the oldest has waited `delayMs`, then every
 * one that has waited half of it (so that one re-ask serves the emails of many syncs).
 */
export function dueForRecheck(held: readonly HeldForSearch[], now: number, delayMs = RECHECK_DELAY_MS): { due: HeldForSearch[]; later: HeldForSearch[] } {
	if (!held.some((entry) => entry.at + delayMs <= now)) return { due: [], later: [...held] };
	return { due: held.filter((entry) => entry.at + delayMs / 2 <= now), later: held.filter((entry) => entry.at + delayMs / 2 > now) };
}

/** When the next re-ask is due (epoch ms), if any email is held. */
export function nextRecheckAt(held: readonly HeldForSearch[], delayMs = RECHECK_DELAY_MS): number | undefined {
	return held.length === 0 ? undefined : Math.min(...held.map((entry) => entry.at)) + delayMs;
}

export interface RecheckResult {
	/** The held emails Search finds now, fetched, in the order they were held. */
	events: SyncedEvent[];
	/** Emails asked about (held ones emitted meanwhile are not asked again). */
	asked: number;
	/** Asked, not found (or found but deleted since): dropped for good. */
	dropped: number;
}

/**
 * Asks Search once more about `due` with one messages.list (narrowed with after: like the first
 * ask) and fetches those it finds. The other filters are not asked again: they passed when the
 * email was first seen. An email already emitted (`seen`) is neither asked about nor emitted.
 */
export async function recheckSearch(port: GmailPort, due: readonly HeldForSearch[], seen: readonly string[], options: SyncOptions): Promise<RecheckResult> {
	const emitted = new Set(seen);
	const since = new Map<string, number | undefined>();
	for (const entry of due) for (const id of entry.ids) if (!since.has(id) && !emitted.has(eventKey('messageAdded', '', id))) since.set(id, entry.since);
	const asked = [...since.keys()];
	if (asked.length === 0 || !options.search?.trim()) return { events: [], asked: 0, dropped: asked.length };
	const probes: GmailMessage[] = asked.map((id) => ({ id, ...(since.get(id) !== undefined && { internalDate: String(since.get(id)) }) }));
	const found = await matchSearch(port, options.search, probes, spamTrashWanted(options));
	const ids = asked.filter((id) => found.has(id));
	const fetched = await mapBounded(ids, options.fetchConcurrency ?? DEFAULT_FETCH_CONCURRENCY, async (id) => await port.getMessage(id, options.format, options.metadataHeaders));
	const events: SyncedEvent[] = [];
	for (const message of fetched) {
		if (message === undefined) continue;
		const ref = { id: message.id, ...(message.threadId !== undefined && { threadId: message.threadId }) };
		events.push({ key: eventKey('messageAdded', '', message.id), event: 'messageAdded', historyId: message.historyId ?? '', ref, message });
	}
	return { events, asked: asked.length, dropped: asked.length - events.length };
}
