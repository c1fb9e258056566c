/**
 * The ids of emails already emitted, beside the cursor. Only an email *added* can come back past
 * the cursor (the stale-cursor catch-up, or one email in two history records). Kept as 8 bytes
 * per Gmail id in one base64url string: n8n saves the static data on every emit
 * (docs/n8n-behaviour.md#static-data), so it must stay small.
 */

/**
 * How many emitted emails the record keeps. It must exceed what one stale-cursor catch-up can
 * bring back of already-emitted mail (at most its 500 listed messages) with room for the
 * emails that arrive meanwhile; 1200 keep the whole static data under 14 KB.
 */
export const SEEN_CAP = 1200;

export interface SeenRecord {
	/** Ids of emitted emails, 8 bytes each, oldest first, base64url. */
	seen?: string;
	/** Ids of another shape than Gmail's 16 hex digits, oldest first (never seen from Gmail). */
	seenOther?: string[];
}

const GMAIL_ID = /^[0-9a-f]{16}$/;
const ADDED = 'added:';

export function isCompactId(id: string): boolean {
	return GMAIL_ID.test(id);
}

export function encodeIds(ids: readonly string[]): string {
	const bytes = Buffer.alloc(ids.length * 8);
	ids.forEach((id, i) => bytes.writeBigUInt64BE(BigInt(`0x${id}`), i * 8));
	return bytes.toString('base64url');
}

/** Decodes `seen`; a damaged string (not whole 8-byte ids) keeps its whole ids only. */
export function decodeIds(encoded: string | undefined): string[] {
	if (!encoded) return [];
	const bytes = Buffer.from(encoded, 'base64url');
	const ids: string[] = [];
	for (let at = 0; at + 8 <= bytes.length; at += 8) ids.push(bytes.readBigUInt64BE(at).toString(16).padStart(16, '0'));
	return ids;
}

/** Every emitted email's id the record holds, oldest first. `legacy` is the old key list. */
export function seenIds(record: SeenRecord, legacy?: readonly string[]): string[] {
	const fromLegacy = (legacy ?? []).filter((key) => key.startsWith(ADDED)).map((key) => key.slice(ADDED.length));
	return [...fromLegacy, ...decodeIds(record.seen), ...(record.seenOther ?? [])];
}

/** The record as the dedupe keys the core compares events with. */
export function seenKeys(record: SeenRecord, legacy?: readonly string[]): string[] {
	return seenIds(record, legacy).map((id) => `${ADDED}${id}`);
}

/**
 * The record after emitting events with `keys`: their added emails appended, the oldest
 * dropped beyond `cap`, an id already held moved to the newest end (it was just seen again).
 */
export function rememberEmitted(record: SeenRecord, keys: readonly string[], legacy?: readonly string[], cap = SEEN_CAP): SeenRecord {
	const added = keys.filter((key) => key.startsWith(ADDED)).map((key) => key.slice(ADDED.length));
	const ordered = new Set<string>();
	for (const id of [...seenIds(record, legacy), ...added]) {
		ordered.delete(id);
		ordered.add(id);
	}
	const all = [...ordered];
	const compact = all.filter(isCompactId).slice(-cap);
	const other = all.filter((id) => !isCompactId(id)).slice(-cap);
	return {
		...(compact.length > 0 && { seen: encodeIds(compact) }),
		...(other.length > 0 && { seenOther: other }),
	};
}
