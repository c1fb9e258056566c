/**
 * What this process knows of a node's emissions, and settling at a trigger's start those the
 * saved state lists as unsettled: a save restarts the trigger here on the state of the last emit,
 * so only what a process that is gone emitted goes out again.
 */
import type { Logger } from '../core/logger';
import { eventCount, eventsOf, readUnsettled, restartPlan, UNSETTLED_MAX_AGE_MS, type KnownOutcome, type UnsettledEmission } from '../core/unsettled';
import { MAX_EMISSIONS } from '../core/outcome';
import type { Emission } from './engineDeps';
import { setUnsettled, type TriggerState } from './triggerState';

/** Why emails go out again: their execution crashed, or its outcome was lost with a restart. */
export type AgainReason = 'crashed' | 'restart';

export interface EmissionLedger {
	/** By an emission's name (`at`): handed to n8n here and not reported yet, or reported. */
	outcomes: Map<number, Exclude<KnownOutcome, undefined>>;
	/** The node's running trigger here: a report reaching a trigger that closed goes to it. */
	current?: { state: TriggerState; emitAgain: (emission: Emission, reason: AgainReason) => void };
}

export function noteHandedOver(ledger: EmissionLedger | undefined, at: number | undefined): void {
	if (!ledger || at === undefined) return;
	ledger.outcomes.set(at, 'pending');
	// What a restart would find too old anyway need not be remembered.
	for (const known of ledger.outcomes.keys()) if (known < at - UNSETTLED_MAX_AGE_MS) ledger.outcomes.delete(known);
}

export function noteSettled(ledger: EmissionLedger | undefined, at: number | undefined): void {
	if (ledger && at !== undefined) ledger.outcomes.set(at, 'settled');
}

/** Its report was lost here after all: a later start here treats it as one from a process that is gone. */
export function forgetEmission(ledger: EmissionLedger | undefined, at: number | undefined): void {
	if (ledger && at !== undefined) ledger.outcomes.delete(at);
}

/**
 * At a trigger's start: drops what this process saw settle, keeps what it still waits for, and
 * emits the rest again once, marked possibleDuplicate (within the bounds). They stay listed until
 * their emission again takes their place, so a restart meanwhile still finds them.
 */
export function resumeUnsettled(state: TriggerState, ledger: EmissionLedger, emitAgain: (emission: Emission, reason: AgainReason) => void, logger: Logger, now: number): void {
	const list = readUnsettled(state.unsettled);
	if (list.length === 0) {
		if (state.unsettled !== undefined) delete state.unsettled;
		return;
	}
	const plan = restartPlan(list, now, (at) => ledger.outcomes.get(at));
	setUnsettled(state, [...plan.awaited, ...plan.again].sort((a, b) => a.at - b.at));
	const count = (entries: UnsettledEmission[]) => entries.reduce((n, entry) => n + eventCount(entry), 0);
	if (plan.expired.length > 0) {
		logger.warn(`Gmail Push Trigger: ${count(plan.expired)} email(s) of executions whose outcome the trigger never learned are more than ${UNSETTLED_MAX_AGE_MS / 60_000} min old; not emitted again`);
	}
	for (const entry of plan.exhausted) {
		const ids = eventsOf(entry).map((e) => e.ref.id);
		logger.error(`Gmail Push Trigger: ${ids.length} email(s) already went out ${MAX_EMISSIONS} times, the last in an execution whose outcome the trigger never learned; not emitted again`, { messageIds: ids });
	}
	if (plan.again.length === 0) return;
	logger.warn(
		`Gmail Push Trigger: ${count(plan.again)} email(s) in ${plan.again.length} execution(s) whose outcome n8n never reported to the trigger (n8n restarted before it could); emitting them again, marked possibleDuplicate`,
	);
	for (const entry of plan.again) emitAgain({ events: eventsOf(entry), number: entry.n, at: entry.at, possibleDuplicate: true }, 'restart');
}
