/**
 * The node's static data, typed, and the engine's writes to it. n8n persists it per node and
 * saves the trigger's copy when it emits; only the trigger's engine writes the cursor.
 */
import { compareHistoryIds, isAfter } from '../core/cursor';
import { pendingIds, readPending, type CatchUpOutcome, type PendingCatchUp } from '../core/recovery';
import { holdMisses, readHeld, type HeldForSearch } from '../core/recheck';
import { rememberEmitted } from '../core/seen';
import type { HistoryEvent } from '../core/historyEvent';
import type { SearchMiss } from '../core/filters';
import type { WatchState } from '../core/watch';
import { nextAt, readUnsettled, recordEmission, settle, toUnsettled, type UnsettledEmission } from '../core/unsettled';

export interface TriggerState {
	/** Last historyId whose changes were emitted (uint64 decimal string). */
	cursor?: string;
	/** The watched mailbox, from users.getProfile: notifications for others are ignored. */
	emailAddress?: string;
	watch?: WatchState;
	/** Ids of recently emitted emails, compact and bounded (core/seen). */
	seen?: string;
	seenOther?: string[];
	/** The record of earlier versions ("added:<id>" keys): read, then replaced by `seen` at the next emit. */
	recent?: string[];
	/** Epoch ms of the newest emitted email (internalDate): where a stale-cursor catch-up starts. */
	lastEmittedAt?: number;
	/** The subscription the node used with Set Up Google Cloud on: a rename or a switch of delivery removes it. */
	madeSubscription?: string;
	/** A stale-cursor catch-up with batches still to emit (the cursor stays the stale one meanwhile). */
	pendingCatchUp?: PendingCatchUp;
	/** New emails Search missed, held (bounded) to be asked about once more (core/recheck). */
	searchRecheck?: HeldForSearch[];
	/** Emissions whose outcome the trigger has not learned yet, bounded (core/unsettled). */
	unsettled?: UnsettledEmission[];
}

/**
 * What a deactivation or a save (docs/n8n-behaviour.md#saving-an-active-workflow) keeps:
 * everything but the watch, so a re-activation emits the mail that arrived meanwhile, once.
 */
export function forgetWatch(state: TriggerState): void {
	delete state.watch;
}

/**
 * Brings `target` up to `source` when source has emitted more: an older copy (what delete()
 * gets, docs/n8n-behaviour.md#what-delete-gets) must not roll the cursor or dedupe record back.
 */
export function catchUpState(target: TriggerState, source: TriggerState): void {
	if (!hasEmittedMore(source, target)) return;
	target.cursor = source.cursor;
	delete target.seen;
	delete target.seenOther;
	delete target.recent;
	delete target.pendingCatchUp;
	if (source.seen !== undefined) target.seen = source.seen;
	if (source.seenOther !== undefined) target.seenOther = [...source.seenOther];
	if (source.recent !== undefined) target.recent = [...source.recent];
	if (source.pendingCatchUp !== undefined) target.pendingCatchUp = structuredClone(source.pendingCatchUp);
	if (source.lastEmittedAt !== undefined) target.lastEmittedAt = source.lastEmittedAt;
	// The held emails go with the cursor that moved past them.
	if (source.searchRecheck !== undefined) target.searchRecheck = structuredClone(source.searchRecheck);
	else delete target.searchRecheck;
	// So do the emissions not known to be settled: the copy's list is as old as its cursor.
	if (source.unsettled !== undefined) target.unsettled = structuredClone(source.unsettled);
	else delete target.unsettled;
	if (source.emailAddress !== undefined) target.emailAddress = source.emailAddress;
}

/**
 * A further cursor, or the same stale cursor with a catch-up further along (it keeps the stale
 * cursor until its last batch, so only what it has left to take tells the copies apart).
 */
function hasEmittedMore(source: TriggerState, target: TriggerState): boolean {
	if (source.cursor === undefined) return false;
	if (isAfter(source.cursor, target.cursor)) return true;
	if (target.cursor === undefined || compareHistoryIds(source.cursor, target.cursor) !== 0) return false;
	const sourceLeft = idsLeft(source);
	const targetLeft = idsLeft(target);
	return sourceLeft !== undefined && (targetLeft === undefined || sourceLeft < targetLeft);
}

/** How many ids the state's catch-up has left to take; undefined without a (readable) one. */
function idsLeft(state: TriggerState): number | undefined {
	const read = readPending(state.pendingCatchUp);
	return 'pending' in read ? pendingIds(read.pending).length : undefined;
}

/**
 * After a catch-up batch: while batches are pending the stale cursor stays (a new one would
 * skip the rest) and the record says what is left; after the last, the catch-up's cursor
 * replaces the stale one outright (not `advance`: a cursor Gmail no longer knows must go).
 */
export function recordCatchUpBatch(state: TriggerState, outcome: CatchUpOutcome): void {
	if (outcome.pending !== undefined) {
		state.pendingCatchUp = outcome.pending;
		return;
	}
	delete state.pendingCatchUp;
	state.cursor = outcome.cursor;
}

/** Records emitted events' emails in the state's bounded record, replacing the old key list. */
export function rememberInState(state: TriggerState, keys: readonly string[]): void {
	const next = rememberEmitted(state, keys, state.recent);
	delete state.recent;
	delete state.seen;
	delete state.seenOther;
	Object.assign(state, next);
}

/** Holds the emails Search missed for one more ask; returns how many the bound let go unasked. */
export function holdSearchMisses(state: TriggerState, misses: readonly SearchMiss[], now: number): number {
	if (misses.length === 0) return 0;
	const { held, dropped } = holdMisses(readHeld(state.searchRecheck), misses, now);
	setHeld(state, held);
	return dropped;
}

export function setHeld(state: TriggerState, held: readonly HeldForSearch[]): void {
	if (held.length > 0) state.searchRecheck = [...held];
	else delete state.searchRecheck;
}

/**
 * Lists an emission in the state before n8n gets it (n8n saves the state at that emit), in place
 * of `replaces` when it emits those emails again. Returns its name and what the bounds dropped.
 */
export function recordUnsettled(state: TriggerState, events: readonly HistoryEvent[], n: number, now: number, replaces?: number): { at: number; dropped: UnsettledEmission[] } {
	const list = readUnsettled(state.unsettled);
	const at = nextAt(list, now);
	const recorded = recordEmission(list, toUnsettled(events, n, at), replaces, now);
	setUnsettled(state, recorded.list);
	return { at, dropped: recorded.dropped };
}

/** Takes an emission whose outcome is known off the list (saved with the next emit). */
export function settleInState(state: TriggerState, at: number | undefined): void {
	if (at === undefined || state.unsettled === undefined) return;
	setUnsettled(state, settle(readUnsettled(state.unsettled), at));
}

export function setUnsettled(state: TriggerState, list: readonly UnsettledEmission[]): void {
	if (list.length > 0) state.unsettled = [...list];
	else delete state.unsettled;
}
