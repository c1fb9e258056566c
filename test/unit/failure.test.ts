import { classifyFailure, lastingFailureBackoffMs, watchLapsesSoon } from '../../nodes/GmailPushTrigger/core/failure';
import { GmailApiError } from '../../nodes/GmailPushTrigger/core/port';

const gmail = (status: number, message: string, reason?: string) => new GmailApiError(`Gmail call failed (${status}): ${message}`, status, reason);

describe('classifyFailure', () => {
	it.each([
		[gmail(401, 'Request had invalid authentication credentials.', 'authError'), 'lasting'],
		[gmail(400, 'invalid_grant: Token has been expired or revoked.'), 'lasting'],
		[gmail(400, 'invalid_grant: Invalid JWT Signature.'), 'lasting'],
		[gmail(400, 'unauthorized_client: Client is unauthorized to retrieve access tokens'), 'lasting'],
		[gmail(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions'), 'lasting'],
		[gmail(403, 'User not authorized to perform this action.', 'forbidden'), 'lasting'],
		[gmail(404, 'Resource not found: projects/p/topics/t', 'notFound'), 'lasting'],
		[gmail(400, 'Invalid topicName does not match projects/p/topics/*', 'invalidArgument'), 'lasting'],
		[gmail(400, 'Mail service not enabled', 'failedPrecondition'), 'lasting'],
	])('%s is lasting', (error, kind) => expect(classifyFailure(error)).toBe(kind));

	it.each([
		[gmail(429, 'Too many concurrent requests for user.', 'rateLimitExceeded'), 'transient'],
		[gmail(403, 'User-rate limit exceeded.', 'userRateLimitExceeded'), 'transient'],
		[gmail(403, 'Quota exceeded for quota metric', 'quotaExceeded'), 'transient'],
		[gmail(500, 'Backend Error', 'backendError'), 'transient'],
		[gmail(503, 'The service is currently unavailable.'), 'transient'],
		[gmail(0, 'socket hang up'), 'transient'],
		[gmail(400, 'Invalid pageToken', 'invalidArgument'), 'transient'],
		[new Error('Gmail Push Trigger is stopping'), 'transient'],
		['a string', 'transient'],
	])('%s is transient', (error, kind) => expect(classifyFailure(error)).toBe(kind));
});

describe('lastingFailureBackoffMs', () => {
	it('is 5, 10, 20, 40 minutes, then an hour at most', () => {
		expect([1, 2, 3, 4, 5, 9].map((n) => lastingFailureBackoffMs(n) / 60000)).toEqual([5, 10, 20, 40, 60, 60]);
	});
});

describe('watchLapsesSoon', () => {
	const now = Date.UTC(2026, 0, 1);
	it('is true within a day of the expiry, false before and without a watch', () => {
		expect(watchLapsesSoon(now + 23 * 3600_000, now)).toBe(true);
		expect(watchLapsesSoon(now - 1, now)).toBe(true);
		expect(watchLapsesSoon(now + 25 * 3600_000, now)).toBe(false);
		expect(watchLapsesSoon(undefined, now)).toBe(false);
	});
});
