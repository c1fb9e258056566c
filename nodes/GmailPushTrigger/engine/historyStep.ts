/**
 * One step of a sync: a history expansion from the cursor, or, when the cursor is older than
 * the history Gmail keeps (history.list 404), a batch of the bounded catch-up instead.
 */
import { seenKeys } from '../core/seen';
import { DEFAULT_MAX_EVENTS } from '../core/syncOptions';
import { isStaleCursorError, syncFromCursor, type SyncOutcome } from '../core/sync';
import { catchUpFromStaleCursor, continueCatchUp, DEFAULT_CATCH_UP, readPending, type CatchUpOptions, type CatchUpOutcome, type CatchUpReport, type PendingCatchUp } from '../core/recovery';
import type { EngineDeps } from './engineDeps';

export type SyncStep = { outcome: SyncOutcome; catchUp: false } | { outcome: CatchUpOutcome; catchUp: true };

/** A catch-up with batches left goes on without asking history (its cursor is still stale). */
export async function nextSyncStep(deps: EngineDeps, now: number): Promise<SyncStep> {
	const state = { cursor: deps.state.cursor, recent: seenKeys(deps.state, deps.state.recent), lastEmittedAt: deps.state.lastEmittedAt };
	const pending = pendingCatchUp(deps);
	if (pending !== undefined) {
		const outcome = await continueCatchUp(deps.port, pending, state, deps.sync);
		if (outcome.pending === undefined) deps.logger.info(`Gmail Push Trigger: caught up after the stale cursor; restarting from historyId ${outcome.cursor}.`);
		return { outcome, catchUp: true };
	}
	try {
		return { outcome: await syncFromCursor(deps.port, state, deps.sync), catchUp: false };
	} catch (error) {
		if (!isStaleCursorError(error)) throw error;
		const catchUp = deps.catchUp ?? DEFAULT_CATCH_UP;
		const outcome = await catchUpFromStaleCursor(deps.port, state, deps.sync, catchUp, now);
		deps.logger.warn(staleCursorText(state.cursor, outcome, catchUp, deps.sync.maxEvents ?? DEFAULT_MAX_EVENTS));
		return { outcome, catchUp: true };
	}
}

function staleCursorText(cursor: string | undefined, outcome: CatchUpOutcome & { report: CatchUpReport }, catchUp: CatchUpOptions, maxEvents: number): string {
	const { report } = outcome;
	const batched = outcome.pending !== undefined;
	return (
		`Gmail Push Trigger: history cursor ${cursor} is older than the history Gmail keeps (history.list 404). ` +
		`${batched ? 'Catching' : 'Caught'} up with messages.list since ${new Date(report.since).toISOString()} ` +
		`(at most ${Math.round(catchUp.maxWindowMs / 3600000)} h and ${catchUp.maxMessages} messages back; ` +
		`${report.listed} listed, ${report.unseen} not yet emitted${report.truncated ? ', older ones beyond the bound were skipped' : ''}` +
		`${batched ? `, emitted in executions of at most ${maxEvents}` : ''}); ` +
		`restarting from historyId ${outcome.cursor ?? outcome.pending?.cursor}${batched ? ' once the last is emitted' : ''}.`
	);
}

/** The state's pending catch-up. A damaged one is dropped: the stale cursor starts a new one. */
function pendingCatchUp(deps: EngineDeps): PendingCatchUp | undefined {
	const stored = deps.state.pendingCatchUp;
	if (stored === undefined) return undefined;
	const read = readPending(stored);
	if ('pending' in read) return read.pending;
	deps.logger.warn(`Gmail Push Trigger: the saved catch-up cannot be read (${read.problem}); catching up again from the last emitted email`);
	delete deps.state.pendingCatchUp;
	return undefined;
}
