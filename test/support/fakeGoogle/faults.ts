/**
 * Fault injection: queued failures (failNext), probabilistic failures (failRate, seeded so runs
 * are reproducible), artificial latency, and a forced users.watch error.
 */
import { HttpError, googleError, oauthError, type GoogleErrorOverrides } from './errors';
import { seededRandom, type Random } from './random';

export interface FaultOptions extends GoogleErrorOverrides {
	/** Adds a `Retry-After` header and Gmail's "Retry after <time>" message (429/403 rate limits). */
	retryAfterSeconds?: number;
	/**
	 * Only calls this predicate accepts get (and use up) the fault, e.g. messages.get of some ids:
	 * `{ when: (r) => r.path.endsWith(id) }`. Others pass through untouched.
	 */
	when?: (request: FaultRequest) => boolean;
}

/** What a `when` predicate sees of a call. */
export interface FaultRequest {
	method: string;
	path: string;
	query: URLSearchParams;
}

export interface InjectedFault {
	method: string;
	status: number;
	at: number;
}

interface QueuedFault {
	method: string;
	status: number;
	remaining: number;
	options: FaultOptions;
}

interface RateFault {
	method: string;
	rate: number;
	statuses: number[];
	random: Random;
}

/**
 * `'*'` matches every API method except the token endpoint and the OIDC certs ('oidc.*'),
 * which must be named explicitly.
 */
const matches = (pattern: string, method: string): boolean => pattern === method || (pattern === '*' && method !== 'token' && !method.startsWith('oidc.'));

export function faultError(method: string, status: number, options: FaultOptions = {}): HttpError {
	const headers: Record<string, string> = {};
	let overrides: GoogleErrorOverrides = options;
	if (options.retryAfterSeconds !== undefined) {
		headers['retry-after'] = String(options.retryAfterSeconds);
		if ((status === 429 || status === 403) && options.message === undefined) {
			const when = new Date(Date.now() + options.retryAfterSeconds * 1000).toISOString();
			overrides = { reason: status === 429 ? 'rateLimitExceeded' : 'userRateLimitExceeded', domain: 'usageLimits', ...options, message: `User-rate limit exceeded.  Retry after ${when}` };
		}
	}
	// The token endpoint speaks OAuth errors for 4xx, not the API error shape.
	if (method === 'token' && status === 400) return oauthError(400, 'invalid_grant', options.message ?? 'Bad Request');
	if (method === 'token' && status === 401) return oauthError(401, 'invalid_client', options.message ?? 'Unauthorized');
	return new HttpError(status, googleError(status, overrides), headers);
}

export class Faults {
	/** When set, users.watch answers this error (e.g. 403 when Gmail may not publish to the topic). */
	watchError: { status: number; message: string; reason?: string } | undefined;
	/** Every fault actually served, for assertions. */
	readonly injected: InjectedFault[] = [];

	private queue: QueuedFault[] = [];
	private rates: RateFault[] = [];
	private delays = new Map<string, number>();

	/** The next `times` calls of `method` ('*' = any API method) fail with `status`. */
	failNext(method: string, status: number, times = 1, options: FaultOptions = {}): void {
		this.queue.push({ method, status, remaining: times, options });
	}

	/** Each call of `method` fails with probability `rate`, status picked from `statuses`. Seeded. */
	failRate(method: string, rate: number, statuses: number[] = [503], seed: number | Random = 1): void {
		this.rates = this.rates.filter((r) => r.method !== method);
		if (rate > 0) this.rates.push({ method, rate, statuses, random: typeof seed === 'number' ? seededRandom(seed) : seed });
	}

	/** Delay every answer of `method` ('*' = any API method) by `ms`. 0 removes it. */
	latency(method: string, ms: number): void {
		if (ms > 0) this.delays.set(method, ms);
		else this.delays.delete(method);
	}

	clear(): void {
		this.queue = [];
		this.rates = [];
		this.delays.clear();
		this.watchError = undefined;
	}

	delayFor(method: string): number {
		return this.delays.get(method) ?? (method === 'token' ? 0 : this.delays.get('*') ?? 0);
	}

	/** The fault to serve for this call, if any; consumes a queued one. */
	take(method: string, request?: Omit<FaultRequest, 'method'>): HttpError | undefined {
		const call: FaultRequest = { method, path: request?.path ?? '', query: request?.query ?? new URLSearchParams() };
		const queued = this.queue.find((f) => matches(f.method, method) && f.remaining > 0 && (!f.options.when || f.options.when(call)));
		if (queued) {
			queued.remaining -= 1;
			this.queue = this.queue.filter((f) => f.remaining > 0);
			return this.serve(method, queued.status, queued.options);
		}
		for (const r of this.rates) {
			if (!matches(r.method, method)) continue;
			if (r.random() < r.rate) {
				const status = r.statuses[Math.floor(r.random() * r.statuses.length)] ?? 503;
				return this.serve(method, status, {});
			}
		}
		return undefined;
	}

	private serve(method: string, status: number, options: FaultOptions): HttpError {
		this.injected.push({ method, status, at: Date.now() });
		// eslint-disable-next-line @typescript-eslint/no-unused-vars
		const { when, ...error } = options;
		return faultError(method, status, error);
	}
}
