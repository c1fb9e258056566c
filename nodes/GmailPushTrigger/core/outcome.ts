/**
 * What became of an execution we started. n8n resolves a trigger's `donePromise` with the run
 * it finished, in queue mode once the worker's job is done. A worker killed during the run
 * leaves it `crashed` (marked when that worker comes back) and n8n never runs it again: its
 * emails are in no successful execution, so we emit them again. A run that ended in a
 * workflow error is the user's workflow failing: n8n's retry and error workflow handle that.
 */

export type ExecutionOutcome = 'finished' | 'crashed';

/**
 * How many times one email is emitted at most when its executions keep crashing: the first
 * emission and two more. A third crash is reported through the trigger's error path instead.
 */
export const MAX_EMISSIONS = 3;

/**
 * The message of n8n's MaxStalledCountError (1.123 and 2.41): Bull gave up on a job whose
 * worker died twice. n8n stores that run as an `error`, but no node of the workflow failed.
 */
const STALLED = /failed to be processed too many times|job stalled more than maxStalledCount/i;

interface RunLike {
	status?: unknown;
	data?: { resultData?: { error?: { message?: unknown } } };
}

export function outcomeOf(run: unknown): ExecutionOutcome {
	if (run === null || typeof run !== 'object') return 'finished';
	const { status, data } = run as RunLike;
	if (status === 'crashed') return 'crashed';
	const message = data?.resultData?.error?.message;
	if (status === 'error' && typeof message === 'string' && STALLED.test(message)) return 'crashed';
	return 'finished';
}

export type RedeliveryDecision = 'settled' | 'emit-again' | 'give-up';

/** After the `emission`-th emission (1 = the first) ended with `outcome`. */
export function redeliveryDecision(outcome: ExecutionOutcome, emission: number, max = MAX_EMISSIONS): RedeliveryDecision {
	if (outcome === 'finished') return 'settled';
	return emission < max ? 'emit-again' : 'give-up';
}
