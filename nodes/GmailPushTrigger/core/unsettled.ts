/**
 * Emissions whose outcome the trigger has not learned yet, kept beside the cursor: a restart may
 * lose n8n's report of a crashed execution (docs/n8n-behaviour.md#crashed-executions), so after
 * one the listed emissions go out again, once, marked `possibleDuplicate`.
 */
import { MAX_EMISSIONS } from './outcome';
import type { OutputItem } from './output';
import { decodeIds, encodeIds, isCompactId } from './seen';
import { eventKey, type HistoryEvent } from './historyEvent';

/**
 * How far back a restart looks. Longer covers slower executions (their worker may die late in
 * the run, and n8n needs about 90 s more to notice); shorter spares more restarts a duplicate of
 * the last emission. Entries older than this also leave the list at the next emit.
 */
export const UNSETTLED_MAX_AGE_MS = 10 * 60_000;

/**
 * How much of the static data the list may take (n8n rewrites it on every emit): 500 new
 * emails (one execution of the largest size) take about 5.4 KB; label changes and deletions,
 * kept whole, take more each. The oldest entries go first.
 */
export const UNSETTLED_MAX_CHARS = 6_000;

/** One emission, as kept in the static data. */
export interface UnsettledEmission {
	/** Epoch ms it was handed to n8n; unique in the list (it names the emission). */
	at: number;
	/** Which emission of these emails (1 = the first): the crash bound goes on across restarts. */
	n: number;
	/** Its new emails with Gmail-shaped ids, 8 bytes each (core/seen's encoding), in order. */
	ids?: string;
	/** Its other events (label changes, deletions, other ids), whole, with their place (`i`). */
	other?: Array<HistoryEvent & { i: number }>;
}

export interface UnsettledBounds {
	maxAgeMs: number;
	maxChars: number;
}

export const UNSETTLED_BOUNDS: UnsettledBounds = { maxAgeMs: UNSETTLED_MAX_AGE_MS, maxChars: UNSETTLED_MAX_CHARS };

const isCompactAdded = (event: HistoryEvent) => event.event === 'messageAdded' && isCompactId(event.ref.id);

/** The entry for an emission of `events`, the `n`-th of them, handed over at `at`. */
export function toUnsettled(events: readonly HistoryEvent[], n: number, at: number): UnsettledEmission {
	const compact = events.filter(isCompactAdded).map((event) => event.ref.id);
	const other = events.flatMap((event, i) => (isCompactAdded(event) ? [] : [{ ...event, i }]));
	return { at, n, ...(compact.length > 0 && { ids: encodeIds(compact) }), ...(other.length > 0 && { other }) };
}

/** The events of an entry, in their first order: enough to fetch them again (refetchEvents). */
export function eventsOf(entry: UnsettledEmission): HistoryEvent[] {
	const out = decodeIds(entry.ids).map(addedEvent);
	// Each back in its place; a place beyond the end (a damaged save) puts it last, not away.
	for (const { i, ...event } of [...(entry.other ?? [])].sort((a, b) => a.i - b.i)) out.splice(Math.min(i, out.length), 0, event);
	return out;
}

function addedEvent(id: string): HistoryEvent {
	return { key: eventKey('messageAdded', '', id), event: 'messageAdded', historyId: '', ref: { id } };
}

/** How many events an entry names. */
export function eventCount(entry: UnsettledEmission): number {
	return decodeIds(entry.ids).length + (entry.other?.length ?? 0);
}

/** The list from stored state; entries of another shape (a damaged save) are left out. */
export function readUnsettled(value: unknown): UnsettledEmission[] {
	if (!Array.isArray(value)) return [];
	return value.filter(
		(entry): entry is UnsettledEmission =>
			typeof entry === 'object' &&
			entry !== null &&
			Number.isFinite(entry.at) &&
			Number.isInteger(entry.n) &&
			entry.n >= 1 &&
			(entry.ids === undefined || typeof entry.ids === 'string') &&
			(entry.other === undefined || (Array.isArray(entry.other) && entry.other.every(isPlacedEvent))),
	);
}

function isPlacedEvent(value: unknown): boolean {
	const event = value as Partial<HistoryEvent & { i: number }> | null;
	return typeof event === 'object' && event !== null && Number.isInteger(event.i) && typeof event.key === 'string' && typeof event.event === 'string' && typeof event.ref?.id === 'string';
}

/** A name for an emission handed over at `now`: later than every listed one. */
export function nextAt(list: readonly UnsettledEmission[], now: number): number {
	return Math.max(now, ...list.map((entry) => entry.at + 1));
}

export interface Recorded {
	list: UnsettledEmission[];
	/** Entries the size bound dropped (the new one included when it alone is too large). */
	dropped: UnsettledEmission[];
}

/**
 * The list after handing over `entry` (in place of `replaces`, an emission emitted again):
 * entries older than the age bound leave quietly, then the oldest beyond the size bound.
 */
export function recordEmission(list: readonly UnsettledEmission[], entry: UnsettledEmission, replaces: number | undefined, now: number, bounds = UNSETTLED_BOUNDS): Recorded {
	const kept = list.filter((e) => e.at !== replaces && now - e.at <= bounds.maxAgeMs);
	const all = [...kept, entry];
	const dropped: UnsettledEmission[] = [];
	while (all.length > 0 && JSON.stringify(all).length > bounds.maxChars) dropped.push(all.shift() as UnsettledEmission);
	return { list: all, dropped };
}

/** The list without the emission handed over at `at` (its outcome is known). */
export function settle(list: readonly UnsettledEmission[], at: number): UnsettledEmission[] {
	return list.filter((entry) => entry.at !== at);
}

/** What this process knows of an emission: `pending` until n8n reports it, then `settled`. */
export type KnownOutcome = 'pending' | 'settled' | undefined;

export interface RestartPlan {
	/** Emitted again, once, marked possibleDuplicate; listed until the emission again replaces them. */
	again: UnsettledEmission[];
	/** Still awaited by a trigger of this process that closed (a save): they stay listed. */
	awaited: UnsettledEmission[];
	/** Older than the age bound: not emitted again. */
	expired: UnsettledEmission[];
	/** Already emitted MAX_EMISSIONS times: not emitted again. */
	exhausted: UnsettledEmission[];
	/** Settled as this process knows (a save, a re-activation): dropped. */
	settled: UnsettledEmission[];
}

/**
 * A trigger's start on the saved list. An emission this process emitted keeps the outcome it
 * knows; any other was emitted by a process that is gone, which cannot be asked: it goes out
 * again unless it is too old or its emails already went out `max` times.
 */
export function restartPlan(list: readonly UnsettledEmission[], now: number, known: (at: number) => KnownOutcome, maxAgeMs = UNSETTLED_MAX_AGE_MS, max = MAX_EMISSIONS): RestartPlan {
	const plan: RestartPlan = { again: [], awaited: [], expired: [], exhausted: [], settled: [] };
	for (const entry of list) {
		const outcome = known(entry.at);
		if (outcome === 'settled') plan.settled.push(entry);
		else if (outcome === 'pending') plan.awaited.push(entry);
		else if (now - entry.at > maxAgeMs) plan.expired.push(entry);
		else if (entry.n >= max) plan.exhausted.push(entry);
		else plan.again.push(entry);
	}
	return plan;
}

/** Items of an emission again whose first execution's outcome is unknown: the workflow can tell. */
export function asPossibleDuplicates(items: readonly OutputItem[]): OutputItem[] {
	return items.map((item) => ({ ...item, json: { ...item.json, possibleDuplicate: true } }));
}
