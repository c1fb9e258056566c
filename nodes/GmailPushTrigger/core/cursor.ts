/**
 * historyIds are uint64 decimal strings. Above 2^53 a Number silently rounds, so every
 * comparison goes through BigInt.
 */

const DECIMAL = /^\d{1,20}$/;

export function isHistoryId(value: unknown): value is string {
	if (typeof value !== 'string' || !DECIMAL.test(value)) return false;
	return BigInt(value) <= 18446744073709551615n;
}

/** Accepts a string or a safe integer (some senders put a number in the JSON) and normalises it. */
export function toHistoryId(value: unknown): string | undefined {
	if (typeof value === 'number') {
		if (!Number.isSafeInteger(value) || value < 0) return undefined;
		return String(value);
	}
	if (typeof value !== 'string') return undefined;
	const trimmed = value.trim();
	if (!isHistoryId(trimmed)) return undefined;
	return BigInt(trimmed).toString();
}

export function compareHistoryIds(a: string, b: string): -1 | 0 | 1 {
	const x = BigInt(a);
	const y = BigInt(b);
	return x < y ? -1 : x > y ? 1 : 0;
}

/** True when `candidate` is strictly after `cursor` (an absent cursor is before everything). */
export function isAfter(candidate: string, cursor: string | undefined): boolean {
	return cursor === undefined || compareHistoryIds(candidate, cursor) > 0;
}

/** The cursor only ever moves forward. */
export function advance(cursor: string | undefined, next: string | undefined): string | undefined {
	if (next === undefined) return cursor;
	if (cursor === undefined) return next;
	return compareHistoryIds(next, cursor) > 0 ? next : cursor;
}
