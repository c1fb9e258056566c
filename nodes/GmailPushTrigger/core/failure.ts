/**
 * Which failures heal by retrying and which need the user. A lasting one (a revoked or expired
 * refresh token, a deleted service-account key, a removed scope or grant, a deleted topic) is
 * reported once through n8n's trigger error path and then backed off, so redelivered pushes do
 * not ask Google for a new token each; a transient one (429, 5xx, the network) retries quietly.
 */
import { GmailApiError } from './port';

export type FailureKind = 'transient' | 'lasting';

/** 403 reasons that are rate limits, not refusals. */
const RATE_LIMIT_REASONS = /ratelimitexceeded|userratelimitexceeded|quotaexceeded|backenderror/i;
/** OAuth token endpoint answers that no retry fixes (RFC 6749 §5.2). */
const TOKEN_REFUSALS = /invalid_grant|invalid_client|unauthorized_client|unsupported_grant_type|deleted_client|disabled_client/i;

export function classifyFailure(error: unknown): FailureKind {
	if (!(error instanceof GmailApiError)) return 'transient';
	const text = `${error.message} ${error.reason ?? ''}`;
	if (error.retryable) return 'transient';
	if (error.status === 401) return 'lasting';
	if (error.status === 403) return RATE_LIMIT_REASONS.test(text) ? 'transient' : 'lasting';
	if (error.status === 400) return TOKEN_REFUSALS.test(text) || /failedprecondition|mail service not enabled|topic/i.test(text) ? 'lasting' : 'transient';
	// 404 here is a watch on a deleted topic or a deleted mailbox (history.list's 404 is the
	// stale cursor, recovered before it gets here).
	if (error.status === 404) return 'lasting';
	return 'transient';
}

/** After the n-th lasting failure in a row: wait 5, 10, 20, 40, 60, 60 ... minutes. */
export function lastingFailureBackoffMs(failures: number): number {
	return Math.min(60, 5 * 2 ** Math.max(0, failures - 1)) * 60 * 1000;
}

/**
 * A watch renewal that keeps failing for a transient reason still becomes the user's problem
 * when the watch is about to lapse: from then on no notification would come.
 */
export const WATCH_LAPSE_WARNING_MS = 24 * 60 * 60 * 1000;

export function watchLapsesSoon(expiration: number | undefined, now: number): boolean {
	return expiration !== undefined && expiration - now <= WATCH_LAPSE_WARNING_MS;
}
