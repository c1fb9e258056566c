/**
 * What became of an execution we started: a crashed one is in no successful execution, so its
 * emails go out again; a workflow error is the user's, for n8n's retry and error workflow.
 * n8n: see docs/n8n-behaviour.md#crashed-executions
 */

export type ExecutionOutcome = 'finished' | 'crashed';

/**
 * How many times one email is emitted at most when its executions keep crashing: the first
 * emission and two more. A third crash is reported through the trigger's error path instead.
 */
export const MAX_EMISSIONS = 3;

/**
 * n8n's MaxStalledCountError: Bull gave up on a job whose worker died; stored as an `error`,
 * though no node failed. n8n: see docs/n8n-behaviour.md#crashed-executions
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
