/**
 * Google-shaped error bodies. Clients (gaxios, n8n's error mapping, our node) branch on `code`,
 * `status` and `errors[0].reason`, so these mirror what googleapis.com really sends.
 */
export interface GoogleErrorItem {
	message: string;
	domain: string;
	reason: string;
	location?: string;
	locationType?: string;
}

export interface GoogleErrorBody {
	error: {
		code: number;
		message: string;
		errors: GoogleErrorItem[];
		status: string;
		details?: unknown[];
	};
}

export interface GoogleErrorOverrides {
	message?: string;
	reason?: string;
	domain?: string;
}

/** Canonical status, reason, domain and message per HTTP status, as the Gmail API uses them. */
const DEFAULTS: Record<number, { status: string; reason: string; domain: string; message: string }> = {
	400: { status: 'INVALID_ARGUMENT', reason: 'invalidArgument', domain: 'global', message: 'Bad Request' },
	401: {
		status: 'UNAUTHENTICATED',
		reason: 'authError',
		domain: 'global',
		message:
			'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
	},
	// Gmail documents 403 mostly as the per-user rate limit; pass {reason:'forbidden', message} for a permission error.
	403: { status: 'PERMISSION_DENIED', reason: 'userRateLimitExceeded', domain: 'usageLimits', message: 'User-rate limit exceeded.' },
	404: { status: 'NOT_FOUND', reason: 'notFound', domain: 'global', message: 'Requested entity was not found.' },
	409: { status: 'ABORTED', reason: 'conflict', domain: 'global', message: 'Conflict' },
	412: { status: 'FAILED_PRECONDITION', reason: 'failedPrecondition', domain: 'global', message: 'Precondition check failed.' },
	429: { status: 'RESOURCE_EXHAUSTED', reason: 'rateLimitExceeded', domain: 'usageLimits', message: 'Too many concurrent requests for user.' },
	500: { status: 'INTERNAL', reason: 'backendError', domain: 'global', message: 'Backend Error' },
	502: { status: 'UNAVAILABLE', reason: 'backendError', domain: 'global', message: 'Bad Gateway' },
	503: { status: 'UNAVAILABLE', reason: 'backendError', domain: 'global', message: 'The service is currently unavailable.' },
	504: { status: 'DEADLINE_EXCEEDED', reason: 'backendError', domain: 'global', message: 'Deadline exceeded' },
};

export function googleError(code: number, overrides: GoogleErrorOverrides = {}): GoogleErrorBody {
	const base = DEFAULTS[code] ?? { status: 'UNKNOWN', reason: 'unknown', domain: 'global', message: 'Unknown Error' };
	const message = overrides.message ?? base.message;
	return {
		error: {
			code,
			message,
			errors: [{ message, domain: overrides.domain ?? base.domain, reason: overrides.reason ?? base.reason }],
			status: base.status,
		},
	};
}

/** Thrown inside route handlers; the server turns it into the JSON error response. */
export class HttpError extends Error {
	constructor(
		readonly status: number,
		readonly body: unknown,
		readonly headers: Record<string, string> = {},
	) {
		super(`HTTP ${status}`);
	}

	static google(code: number, overrides: GoogleErrorOverrides = {}, headers: Record<string, string> = {}): HttpError {
		return new HttpError(code, googleError(code, overrides), headers);
	}
}

/** OAuth token-endpoint errors use the RFC 6749 shape, not the API shape. */
export function oauthError(status: number, error: string, description: string): HttpError {
	return new HttpError(status, { error, error_description: description });
}
