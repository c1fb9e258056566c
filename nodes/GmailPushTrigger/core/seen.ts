/**
 * The record of emails already emitted, kept beside the cursor in the workflow's static data.
 *
 * The cursor is the main guard: history records at or before it are never read again, so a
 * label change or a deletion (keyed by its record) can never come back once the cursor has
 * passed it. Only an email *added* can come back after its run: the stale-cursor catch-up
 * lists mail with messages.list from the last emitted email's second, and a history may name
 * an email in messagesAdded of more than one record. So the record holds message ids of
 * emitted emails, nothing else.
 *
 * n8n rewrites the static data on every emit, in every execution's save and in queue mode
 * through the database: it must stay small. Gmail ids are 16 hex digits (a 64-bit number), so
 * each is kept as 8 bytes, base64url in one string: SEEN_CAP ids take 12,800 characters
 * (against 2000 "added:<id>" strings of about 46 KB before). An id of another shape (not one
 * Gmail gives) is kept as text in a second, equally bounded list.
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
