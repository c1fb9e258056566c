import { SEEN_CAP, decodeIds, encodeIds, rememberEmitted, seenIds, seenKeys } from '../../nodes/GmailPushTrigger/core/seen';

/** Gmail-shaped ids: 16 hex digits, time-ordered (ms << 20 | sequence). */
function gmailIds(count: number, startMs = Date.UTC(2026, 11, 1)): string[] {
	return Array.from({ length: count }, (_, i) => ((BigInt(startMs + i * 1500) << 20n) | BigInt(i % 7)).toString(16).padStart(16, '0'));
}

const added = (ids: readonly string[]) => ids.map((id) => `added:${id}`);

describe('the seen record', () => {
	it('round-trips Gmail ids through 8 bytes each, leading zeros and the largest id included', () => {
		const ids = ['0000000000000001', '18c2f0a1b2c3d4e5', 'ffffffffffffffff', ...gmailIds(3)];
		const encoded = encodeIds(ids);
		expect(decodeIds(encoded)).toEqual(ids);
		expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
		expect(Buffer.from(encoded, 'base64url')).toHaveLength(ids.length * 8);
	});

	it('remembers the added emails of emitted keys, oldest first, and gives them back as keys', () => {
		const ids = gmailIds(3);
		const record = rememberEmitted({}, [...added(ids), `labelAdded:900:${ids[0]}`, `deleted:${ids[1]}`]);
		expect(seenIds(record)).toEqual(ids);
		expect(seenKeys(record)).toEqual(added(ids));
		expect(record.seenOther).toBeUndefined();
	});

	it('keeps label changes and deletions out: the cursor alone keeps those from coming back', () => {
		expect(rememberEmitted({}, ['labelAdded:900:18c2f0a1b2c3d4e5', 'deleted:18c2f0a1b2c3d4e5'])).toEqual({});
	});

	it('drops the oldest beyond the cap and keeps the newest', () => {
		const ids = gmailIds(10);
		const record = rememberEmitted(rememberEmitted({}, added(ids.slice(0, 6)), undefined, 4), added(ids.slice(6)), undefined, 4);
		expect(seenIds(record)).toEqual(ids.slice(6));
	});

	it('moves an id seen again to the newest end instead of holding it twice', () => {
		const [a, b, c] = gmailIds(3);
		const record = rememberEmitted(rememberEmitted({}, added([a, b, c])), added([a]));
		expect(seenIds(record)).toEqual([b, c, a]);
	});

	it('keeps ids of another shape as text, bounded the same way', () => {
		const record = rememberEmitted({}, added(['m1', 'm2', 'm3', ...gmailIds(1)]), undefined, 2);
		expect(record.seenOther).toEqual(['m2', 'm3']);
		expect(seenIds(record)).toEqual([...gmailIds(1), 'm2', 'm3']);
	});

	it('takes in the key list of earlier versions, and drops it once rewritten', () => {
		const [a, b, c] = gmailIds(3);
		const legacy = [`added:${a}`, `labelRemoved:77:${a}`, `added:${b}`];
		expect(seenKeys({}, legacy)).toEqual(added([a, b]));
		const record = rememberEmitted({}, added([c]), legacy);
		expect(seenIds(record)).toEqual([a, b, c]);
	});

	it('reads a damaged record as the whole ids it still holds', () => {
		const ids = gmailIds(2);
		expect(decodeIds(encodeIds(ids).slice(0, 15))).toEqual(ids.slice(0, 1));
		expect(decodeIds('')).toEqual([]);
		expect(decodeIds(undefined)).toEqual([]);
	});

	it('stays under 13 KB at the cap: 10,000 emails leave SEEN_CAP ids, the newest', () => {
		const ids = gmailIds(10_000);
		let record = {};
		for (let i = 0; i < ids.length; i += 50) record = rememberEmitted(record, added(ids.slice(i, i + 50)));
		const kept = seenIds(record);
		expect(kept).toEqual(ids.slice(-SEEN_CAP));
		expect(JSON.stringify(record).length).toBeLessThan(13_000);
	});
});
