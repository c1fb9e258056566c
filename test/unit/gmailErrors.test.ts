import { NodeApiError, type INode } from 'n8n-workflow';
import { GmailApiError } from '../../nodes/GmailPushTrigger/core/port';
import { retryAfterMs, toGmailApiError } from '../../nodes/GmailPushTrigger/transport/gmail';

const NODE: INode = {
	id: 'node-1',
	name: 'Gmail Push Trigger',
	type: 'n8n-nodes-gmail-push.gmailPushTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

function googleBody(code: number, message: string, reason: string, status: string) {
	return { error: { code, message, errors: [{ message, domain: 'global', reason }], status } };
}

/** The shape gaxios (google-auth-library, the generated client) throws: a GaxiosError. */
function gaxiosError(status: number, data: unknown, headers: Record<string, string> = {}) {
	return Object.assign(new Error(`Request failed with status code ${status}`), {
		code: String(status),
		status,
		response: { status, statusText: '', headers: new Headers(headers), data, config: {} },
		config: {},
	});
}

describe('toGmailApiError: gaxios errors (service account / generated client)', () => {
	it('takes status, Google’s message and reason', () => {
		const body = googleBody(403, 'User not authorized to perform this action.', 'forbidden', 'PERMISSION_DENIED');
		const error = toGmailApiError(gaxiosError(403, body), 'users.watch');
		expect(error).toBeInstanceOf(GmailApiError);
		expect(error).toMatchObject({ status: 403, reason: 'forbidden', retryAfterMs: undefined });
		expect(error.message).toBe('Gmail users.watch failed (403): User not authorized to perform this action.');
		expect(error.retryable).toBe(false);
	});

	it('reads Retry-After from a Headers object (seconds)', () => {
		const body = googleBody(429, 'Too many concurrent requests for user.', 'rateLimitExceeded', 'RESOURCE_EXHAUSTED');
		const error = toGmailApiError(gaxiosError(429, body, { 'Retry-After': '7' }), 'messages.get');
		expect(error).toMatchObject({ status: 429, reason: 'rateLimitExceeded', retryAfterMs: 7000 });
		expect(error.retryable).toBe(true);
	});

	it('reads Retry-After from a plain header record', () => {
		const thrown = { message: 'x', response: { status: 503, headers: { 'retry-after': '2' }, data: googleBody(503, 'unavailable', 'backendError', 'UNAVAILABLE') } };
		expect(toGmailApiError(thrown, 'history.list')).toMatchObject({ status: 503, retryAfterMs: 2000, reason: 'backendError' });
	});

	it('falls back to Google’s `status` when there is no errors[].reason', () => {
		const thrown = gaxiosError(404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
		expect(toGmailApiError(thrown, 'history.list')).toMatchObject({ status: 404, reason: 'NOT_FOUND' });
	});

	it('finds the response on the cause', () => {
		const thrown = { message: 'wrapped', cause: gaxiosError(400, googleBody(400, 'Invalid topicName', 'invalidArgument', 'INVALID_ARGUMENT')) };
		expect(toGmailApiError(thrown, 'users.watch')).toMatchObject({ status: 400, reason: 'invalidArgument' });
	});

	it('a network error without a response is status 0 and retryable', () => {
		const thrown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
		const error = toGmailApiError(thrown, 'history.list');
		expect(error.status).toBe(0);
		expect(error.retryable).toBe(true);
		expect(error.message).toBe('Gmail history.list failed: connect ECONNREFUSED 127.0.0.1:1');
	});

	it('returns a GmailApiError unchanged, and copes with junk', () => {
		const original = new GmailApiError('x', 429);
		expect(toGmailApiError(original, 'history.list')).toBe(original);
		expect(toGmailApiError(undefined, 'users.stop')).toMatchObject({ status: 0, message: 'Gmail users.stop failed: unknown error' });
		expect(toGmailApiError('boom', 'users.stop').status).toBe(0);
	});
});

describe('toGmailApiError: n8n errors (OAuth2 through httpRequestWithAuthentication)', () => {
	it('maps a real NodeApiError wrapping an HTTP error (httpCode is a string)', () => {
		const http = Object.assign(new Error('Request failed with status code 404'), {
			response: { status: 404, headers: {}, data: googleBody(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND') },
		});
		const n8nError = new NodeApiError(NODE, http as unknown as ConstructorParameters<typeof NodeApiError>[1]);
		expect(n8nError.httpCode).toBe('404');
		const error = toGmailApiError(n8nError, 'history.list');
		expect(error).toMatchObject({ status: 404, reason: 'notFound' });
		expect(error.message).toBe('Gmail history.list failed (404): Requested entity was not found.');
	});

	it('maps a NodeApiError built from a plain response object', () => {
		const n8nError = new NodeApiError(NODE, {
			message: 'x',
			response: { status: 429, data: googleBody(429, 'Too many concurrent requests for user.', 'rateLimitExceeded', 'RESOURCE_EXHAUSTED') },
		});
		const error = toGmailApiError(n8nError, 'messages.get');
		expect(error).toMatchObject({ status: 429, reason: 'rateLimitExceeded' });
		expect(error.retryable).toBe(true);
	});

	it('maps the n8n error shape by hand: httpCode string, description, context.data', () => {
		const thrown = {
			message: 'Forbidden - perhaps check your credentials?',
			httpCode: '403',
			description: 'Request had insufficient authentication scopes.',
			context: { data: googleBody(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', 'PERMISSION_DENIED') },
		};
		expect(toGmailApiError(thrown, 'users.getProfile')).toMatchObject({
			status: 403,
			reason: 'insufficientPermissions',
			message: 'Gmail users.getProfile failed (403): Request had insufficient authentication scopes.',
		});
	});

	it('uses the description when there is no Google body', () => {
		const thrown = { message: 'Service unavailable', httpCode: '503', description: 'upstream down' };
		expect(toGmailApiError(thrown, 'history.list')).toMatchObject({ status: 503, message: 'Gmail history.list failed (503): upstream down' });
	});

	it('a non-numeric httpCode becomes status 0, never NaN', () => {
		const error = toGmailApiError({ message: 'socket hang up', httpCode: 'ECONNRESET' }, 'history.list');
		expect(error.status).toBe(0);
		expect(error.retryable).toBe(true);
	});
});

describe('retryAfterMs', () => {
	const now = Date.UTC(2024, 4, 1, 12, 0, 0);

	it('reads delta-seconds', () => {
		expect(retryAfterMs('0', now)).toBe(0);
		expect(retryAfterMs('1', now)).toBe(1000);
		expect(retryAfterMs('120', now)).toBe(120_000);
		expect(retryAfterMs('1.5', now)).toBe(1500);
	});

	it('reads an HTTP date relative to now, never negative', () => {
		expect(retryAfterMs('Wed, 01 May 2024 12:00:30 GMT', now)).toBe(30_000);
		expect(retryAfterMs('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
	});

	it('ignores absent and unreadable values', () => {
		expect(retryAfterMs(undefined, now)).toBeUndefined();
		expect(retryAfterMs('', now)).toBeUndefined();
		expect(retryAfterMs('soon', now)).toBeUndefined();
	});

	it('clamps a negative delta to 0', () => {
		expect(retryAfterMs('-5', now)).toBe(0);
	});
});
