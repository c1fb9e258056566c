import {
	MAX_DATA_LENGTH,
	decodeNotificationData,
	decodePushBody,
	sameMailbox,
	type DecodeResult,
} from '../../nodes/GmailPushTrigger/core/notification';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const b64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** A Pub/Sub push envelope as Google POSTs it. */
function envelope(data: unknown, message: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		message: { data, messageId: '2070443601311540', publishTime: '2024-05-01T10:00:00.123Z', ...message },
		subscription: 'projects/my-project/subscriptions/gmail-push',
	};
}

function okNotification(result: DecodeResult) {
	if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
	return result.notification;
}

function failReason(result: DecodeResult): string {
	if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.notification)}`);
	expect(typeof result.reason).toBe('string');
	expect(result.reason.length).toBeGreaterThan(0);
	return result.reason;
}

describe('decodePushBody: valid notifications', () => {
	it('decodes standard base64 with a string historyId and keeps the Pub/Sub metadata', () => {
		const data = b64('{"emailAddress":"user@example.com","historyId":"9876543210"}');
		expect(okNotification(decodePushBody(envelope(data)))).toEqual({
			emailAddress: 'user@example.com',
			historyId: '9876543210',
			messageId: '2070443601311540',
			publishTime: '2024-05-01T10:00:00.123Z',
		});
	});

	it('decodes a numeric historyId (as Gmail actually sends it)', () => {
		const data = b64('{"emailAddress":"user@example.com","historyId":1234567}');
		expect(okNotification(decodePushBody(envelope(data))).historyId).toBe('1234567');
	});

	it('keeps a numeric historyId above 2^53 exact', () => {
		// JSON.parse would round 9007199254740993 to 9007199254740992.
		const data = b64('{"emailAddress":"user@example.com","historyId":9007199254740993}');
		expect(okNotification(decodePushBody(envelope(data))).historyId).toBe('9007199254740993');
		const max = b64('{"emailAddress":"user@example.com","historyId": 18446744073709551615}');
		expect(okNotification(decodePushBody(envelope(max))).historyId).toBe('18446744073709551615');
	});

	it('keeps a string historyId above 2^53 exact', () => {
		const data = b64('{"emailAddress":"user@example.com","historyId":"18446744073709551615"}');
		expect(okNotification(decodePushBody(envelope(data))).historyId).toBe('18446744073709551615');
	});

	it('decodes base64url, padded and unpadded', () => {
		// '?>' and '~' give '+' '/' in standard base64, '-' '_' in base64url.
		const json = '{"emailAddress":"a+b@example.com","historyId":"42","note":"??>>~~"}';
		const url = b64url(json);
		expect(url).toMatch(/[-_]/);
		expect(url).not.toMatch(/=/);
		expect(okNotification(decodePushBody(envelope(url)))).toMatchObject({ emailAddress: 'a+b@example.com', historyId: '42' });
		const std = b64(json);
		expect(std).toMatch(/[+/]/);
		expect(okNotification(decodePushBody(envelope(std)))).toMatchObject({ historyId: '42' });
		const padded = url + '='.repeat((4 - (url.length % 4)) % 4);
		expect(okNotification(decodePushBody(envelope(padded)))).toMatchObject({ historyId: '42' });
	});

	it('decodes unpadded standard base64', () => {
		const json = '{"emailAddress":"u@example.com","historyId":"17"}';
		const std = b64(json);
		expect(std.endsWith('=')).toBe(true);
		expect(okNotification(decodePushBody(envelope(std.replace(/=+$/, ''))))).toMatchObject({ historyId: '17' });
	});

	it('accepts the snake_case metadata of some Pub/Sub clients', () => {
		const body = { message: { data: b64('{"emailAddress":"u@example.com","historyId":"1"}'), message_id: 'm-1', publish_time: 't-1' } };
		expect(okNotification(decodePushBody(body))).toEqual({ emailAddress: 'u@example.com', historyId: '1', messageId: 'm-1', publishTime: 't-1' });
	});

	it('leaves out metadata that is absent or not a string', () => {
		const body = { message: { data: b64('{"emailAddress":"u@example.com","historyId":"1"}'), messageId: 17 } };
		const notification = okNotification(decodePushBody(body));
		expect(notification).toEqual({ emailAddress: 'u@example.com', historyId: '1' });
		expect('messageId' in notification).toBe(false);
	});

	it('normalises a historyId with whitespace or leading zeros', () => {
		const data = b64('{"emailAddress":"u@example.com","historyId":" 000123 "}');
		expect(okNotification(decodePushBody(envelope(data))).historyId).toBe('123');
	});
});

describe('decodePushBody: malformed bodies never decode', () => {
	const valid = '{"emailAddress":"u@example.com","historyId":"100"}';

	it.each([
		['null', null],
		['undefined', undefined],
		['a string', 'hello'],
		['a number', 42],
		['an array', [envelope(b64(valid))]],
	])('rejects a body that is %s', (_name, body) => {
		failReason(decodePushBody(body));
	});

	it.each([
		['missing', {}],
		['null', { message: null }],
		['a string', { message: b64(valid) }],
		['an array', { message: [{ data: b64(valid) }] }],
	])('rejects a body whose message is %s', (_name, body) => {
		expect(failReason(decodePushBody(body))).toMatch(/message/);
	});

	it.each([
		['missing', undefined],
		['empty', ''],
		['a number', 12345],
		['an object', { emailAddress: 'u@example.com', historyId: '1' }],
		['null', null],
	])('rejects data that is %s', (_name, data) => {
		expect(failReason(decodePushBody(envelope(data)))).toMatch(/data/);
	});

	it.each([
		['characters outside base64', '!!!not base64!!!'],
		['spaces', `${b64(valid).slice(0, 8)} ${b64(valid).slice(8)}`],
		['too much padding', `${b64(valid).replace(/=+$/, '')}===`],
		['padding in the middle', `${b64(valid).slice(0, 4)}==${b64(valid).slice(4)}`],
		['an impossible length', 'QUJDRE'.slice(0, 5)],
	])('rejects data with %s', (_name, data) => {
		expect(failReason(decodePushBody(envelope(data)))).toMatch(/base64/);
	});

	it('rejects base64 of something that is not JSON', () => {
		expect(failReason(decodePushBody(envelope(b64('emailAddress=u@example.com&historyId=1'))))).toMatch(/JSON/);
		expect(failReason(decodePushBody(envelope(b64('{"emailAddress":"u@example.com",'))))).toMatch(/JSON/);
	});

	it.each([
		['a JSON array', '[{"emailAddress":"u@example.com","historyId":"1"}]'],
		['JSON null', 'null'],
		['a JSON string', '"u@example.com"'],
		['a JSON number', '12345'],
	])('rejects %s', (_name, json) => {
		expect(failReason(decodePushBody(envelope(b64(json))))).toMatch(/object/);
	});

	it.each([
		['missing', '{"historyId":"100"}'],
		['empty', '{"emailAddress":"","historyId":"100"}'],
		['without @', '{"emailAddress":"nobody","historyId":"100"}'],
		['a number', '{"emailAddress":5,"historyId":"100"}'],
		['absurdly long', `{"emailAddress":"${'a'.repeat(400)}@example.com","historyId":"100"}`],
	])('rejects an emailAddress that is %s', (_name, json) => {
		expect(failReason(decodePushBody(envelope(b64(json))))).toMatch(/emailAddress/);
	});

	it.each([
		['missing', '{"emailAddress":"u@example.com"}'],
		['null', '{"emailAddress":"u@example.com","historyId":null}'],
		['non-numeric', '{"emailAddress":"u@example.com","historyId":"abc"}'],
		['negative (number)', '{"emailAddress":"u@example.com","historyId":-5}'],
		['negative (string)', '{"emailAddress":"u@example.com","historyId":"-5"}'],
		['a float (number)', '{"emailAddress":"u@example.com","historyId":12.5}'],
		['a float (string)', '{"emailAddress":"u@example.com","historyId":"12.5"}'],
		['a float above 2^53 (number)', '{"emailAddress":"u@example.com","historyId":9007199254740993.5}'],
		['above uint64', '{"emailAddress":"u@example.com","historyId":"18446744073709551616"}'],
		['above uint64 (number)', '{"emailAddress":"u@example.com","historyId":18446744073709551616}'],
		['an object', '{"emailAddress":"u@example.com","historyId":{"v":1}}'],
		['a boolean', '{"emailAddress":"u@example.com","historyId":true}'],
	])('rejects a historyId that is %s', (_name, json) => {
		expect(failReason(decodePushBody(envelope(b64(json))))).toMatch(/historyId/);
	});

	it('rejects oversized data before decoding it', () => {
		const padding = 'x'.repeat(MAX_DATA_LENGTH);
		const big = b64(`{"emailAddress":"u@example.com","historyId":"100","pad":"${padding}"}`);
		expect(big.length).toBeGreaterThan(MAX_DATA_LENGTH);
		expect(failReason(decodePushBody(envelope(big)))).toMatch(/large/);
	});

	it('accepts data right at the size limit boundary region (sanity for the limit)', () => {
		const data = b64(valid);
		expect(data.length).toBeLessThanOrEqual(MAX_DATA_LENGTH);
		expect(decodePushBody(envelope(data)).ok).toBe(true);
	});
});

describe('decodeNotificationData (pull: the message data alone)', () => {
	it('decodes the data and attaches the given metadata', () => {
		const result = decodeNotificationData(b64('{"emailAddress":"u@example.com","historyId":5}'), { messageId: 'p-1' });
		expect(okNotification(result)).toEqual({ emailAddress: 'u@example.com', historyId: '5', messageId: 'p-1' });
	});

	it('rejects non-string data', () => {
		failReason(decodeNotificationData(Buffer.from('{}')));
	});
});

describe('sameMailbox', () => {
	it('ignores case and surrounding whitespace', () => {
		expect(sameMailbox('User@Example.COM', 'user@example.com')).toBe(true);
		expect(sameMailbox(' user@example.com ', 'USER@EXAMPLE.COM')).toBe(true);
	});

	it('tells different mailboxes apart', () => {
		expect(sameMailbox('user@example.com', 'other@example.com')).toBe(false);
		expect(sameMailbox('user@example.com', 'user@example.org')).toBe(false);
		expect(sameMailbox('user@example.com', 'user+tag@example.com')).toBe(false);
	});
});
