/**
 * Retries 429 and 5xx from Gmail with exponential backoff (honouring Retry-After) while the
 * time budget lasts. The budget is what is left of Pub/Sub's ack deadline: past it the caller
 * answers non-2xx / nacks and Pub/Sub redelivers, which is cheaper than a late success.
 */
import { GmailApiError, type GmailPort } from '../core/port';

export interface RetryPolicy {
	/** Total time we may spend on one call, retries included. */
	budgetMs: number;
	baseDelayMs: number;
	maxDelayMs: number;
	sleep?: (ms: number) => Promise<void>;
	now?: () => number;
	random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { budgetMs: 7000, baseDelayMs: 250, maxDelayMs: 4000 };

const realSleep = async (ms: number) => await new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
	const now = policy.now ?? Date.now;
	const sleep = policy.sleep ?? realSleep;
	const random = policy.random ?? Math.random;
	const deadline = now() + policy.budgetMs;
	for (let attempt = 0; ; attempt++) {
		try {
			return await fn();
		} catch (error) {
			if (!(error instanceof GmailApiError) || !error.retryable) throw error;
			const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt) * (0.5 + random() / 2);
			const delay = Math.max(backoff, error.retryAfterMs ?? 0);
			if (now() + delay > deadline) throw error;
			await sleep(delay);
		}
	}
}

/** The same port, each call retried under `policy`. */
export function retryingPort(port: GmailPort, policy: RetryPolicy = DEFAULT_RETRY): GmailPort {
	const wrap =
		<A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
		async (...args: A): Promise<R> =>
			await withRetry(() => fn(...args), policy);
	return {
		listHistory: wrap(port.listHistory.bind(port)),
		getMessage: wrap(port.getMessage.bind(port)),
		listMessages: wrap(port.listMessages.bind(port)),
		listLabels: wrap(port.listLabels.bind(port)),
		getProfile: wrap(port.getProfile.bind(port)),
		watch: wrap(port.watch.bind(port)),
		stop: wrap(port.stop.bind(port)),
	};
}

/**
 * A grant takes effect within about a minute, sometimes longer: right after we added it, Gmail
 * may still refuse to watch the topic (403). Try again for up to `forMs` then, instead of failing
 * the first activation of a set-up that is right.
 */
export async function whileGrantPropagates<T>(
	justGranted: boolean,
	work: () => Promise<T>,
	options: { forMs?: number; everyMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
	const { forMs = 90_000, everyMs = 5_000, sleep = realSleep } = options;
	const until = Date.now() + forMs;
	for (;;) {
		try {
			return await work();
		} catch (error) {
			if (!justGranted || !(error instanceof GmailApiError && error.status === 403) || Date.now() + everyMs > until) throw error;
			await sleep(everyMs);
		}
	}
}
