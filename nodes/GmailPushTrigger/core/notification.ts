/**
 * A Gmail notification arrives as a Pub/Sub message whose `data` is base64 JSON
 * `{"emailAddress": "...", "historyId": "..."}`. Push wraps it in an envelope
 * `{"message": {...}, "subscription": "..."}`; pull hands us the message itself.
 * Anything else gets a short reason and never reaches Gmail.
 */
import { toHistoryId } from './cursor';

export interface GmailNotification {
	emailAddress: string;
	historyId: string;
	/** Pub/Sub's id of the message (for logs). */
	messageId?: string;
	publishTime?: string;
}

export type DecodeResult = { ok: true; notification: GmailNotification } | { ok: false; reason: string };

/** A Gmail notification's data is ~80 bytes; anything much larger is not one. */
export const MAX_DATA_LENGTH = 4096;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string): DecodeResult {
	return { ok: false, reason };
}

/**
 * Gmail sends historyId as an unquoted JSON number, which JSON.parse rounds above 2^53:
 * take such a number's digits from the JSON text instead.
 */
function exactHistoryId(parsed: unknown, text: string): unknown {
	if (typeof parsed !== 'number' || Number.isSafeInteger(parsed)) return parsed;
	const digits = /"historyId"\s*:\s*(\d+)\s*[,}]/.exec(text)?.[1];
	return digits !== undefined && Number(digits) === parsed ? digits : parsed;
}

/** Decodes the `data` of a Pub/Sub message (base64 or base64url, padded or not). */
export function decodeNotificationData(data: unknown, meta: { messageId?: string; publishTime?: string } = {}): DecodeResult {
	if (typeof data !== 'string' || data.length === 0) return fail('message.data is missing');
	if (data.length > MAX_DATA_LENGTH) return fail('message.data is too large to be a Gmail notification');
	if (!BASE64.test(data) || data.length % 4 === 1) return fail('message.data is not base64');
	const text = Buffer.from(data.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
	return decodeNotificationText(text, meta);
}

/**
 * Decodes the JSON text of a notification. Pull hands us the message bytes themselves;
 * push wraps them in base64 first (see decodeNotificationData).
 */
export function decodeNotificationText(text: string, meta: { messageId?: string; publishTime?: string } = {}): DecodeResult {
	if (text.length > MAX_DATA_LENGTH) return fail('message data is too large to be a Gmail notification');
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		return fail('message.data is not base64-encoded JSON');
	}
	if (!isRecord(parsed)) return fail('message.data is not a JSON object');
	const { emailAddress } = parsed;
	if (typeof emailAddress !== 'string' || !emailAddress.includes('@') || emailAddress.length > 320) {
		return fail('message.data has no emailAddress');
	}
	const historyId = toHistoryId(exactHistoryId(parsed.historyId, text));
	if (historyId === undefined) return fail('message.data has no valid historyId');
	return {
		ok: true,
		notification: {
			emailAddress,
			historyId,
			...(meta.messageId !== undefined && { messageId: meta.messageId }),
			...(meta.publishTime !== undefined && { publishTime: meta.publishTime }),
		},
	};
}

/** Decodes a Pub/Sub push request body (already parsed from JSON by n8n). */
export function decodePushBody(body: unknown): DecodeResult {
	if (!isRecord(body)) return fail('body is not a Pub/Sub push (expected a JSON object)');
	const { message } = body;
	if (!isRecord(message)) return fail('body has no Pub/Sub "message" object');
	const messageId = message.messageId ?? message.message_id;
	const publishTime = message.publishTime ?? message.publish_time;
	return decodeNotificationData(message.data, {
		messageId: typeof messageId === 'string' ? messageId : undefined,
		publishTime: typeof publishTime === 'string' ? publishTime : undefined,
	});
}

export function sameMailbox(a: string, b: string): boolean {
	return a.trim().toLowerCase() === b.trim().toLowerCase();
}
