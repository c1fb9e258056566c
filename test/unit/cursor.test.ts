import {
	advance,
	compareHistoryIds,
	isAfter,
	isHistoryId,
	toHistoryId,
} from '../../nodes/GmailPushTrigger/core/cursor';

const UINT64_MAX = '18446744073709551615';
const TWO_53 = '9007199254740992';
const TWO_53_PLUS_1 = '9007199254740993';

describe('isHistoryId', () => {
	it.each(['0', '1', '4000000', TWO_53, TWO_53_PLUS_1, UINT64_MAX, '007'])('accepts the decimal string %p', (value) => {
		expect(isHistoryId(value)).toBe(true);
	});

	it.each([
		['uint64 max + 1', '18446744073709551616'],
		['21 digits', '100000000000000000000'],
		['empty', ''],
		['negative', '-1'],
		['float', '1.5'],
		['exponent', '1e9'],
		['hex', '0x10'],
		['leading space', ' 12'],
		['trailing newline', '12\n'],
		['letters', 'abc'],
		['digits then junk', '12abc'],
		['plus sign', '+12'],
	])('rejects %s', (_name, value) => {
		expect(isHistoryId(value)).toBe(false);
	});

	it.each([[12], [12n], [null], [undefined], [{}], [['12']]])('rejects the non-string %p', (value) => {
		expect(isHistoryId(value)).toBe(false);
	});
});

describe('toHistoryId', () => {
	it('keeps a plain decimal string', () => {
		expect(toHistoryId('4000123')).toBe('4000123');
	});

	it('keeps values above 2^53 exactly (no Number rounding)', () => {
		expect(toHistoryId(UINT64_MAX)).toBe(UINT64_MAX);
		expect(toHistoryId(TWO_53_PLUS_1)).toBe(TWO_53_PLUS_1);
		expect(toHistoryId(TWO_53_PLUS_1)).not.toBe(toHistoryId(TWO_53));
	});

	it('normalises leading zeros and surrounding whitespace', () => {
		expect(toHistoryId('0000123')).toBe('123');
		expect(toHistoryId('  42 ')).toBe('42');
		expect(toHistoryId('\t7\n')).toBe('7');
		expect(toHistoryId('0')).toBe('0');
	});

	it('accepts safe non-negative integers given as numbers', () => {
		expect(toHistoryId(0)).toBe('0');
		expect(toHistoryId(123456)).toBe('123456');
		expect(toHistoryId(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
	});

	it('rejects numbers that are unsafe, negative, fractional or not finite', () => {
		// 2^53 + 1 cannot even be written as a Number: it would silently become 2^53.
		expect(toHistoryId(2 ** 53)).toBeUndefined();
		expect(toHistoryId(2 ** 64)).toBeUndefined();
		expect(toHistoryId(-1)).toBeUndefined();
		expect(toHistoryId(1.5)).toBeUndefined();
		expect(toHistoryId(Number.NaN)).toBeUndefined();
		expect(toHistoryId(Number.POSITIVE_INFINITY)).toBeUndefined();
	});

	it.each(['', '   ', '-5', '1.0', '1e3', 'abc', '18446744073709551616', '12 34'])('rejects the string %p', (value) => {
		expect(toHistoryId(value)).toBeUndefined();
	});

	it.each([[null], [undefined], [true], [{}], [[1]], [5n]])('rejects %p', (value) => {
		expect(toHistoryId(value)).toBeUndefined();
	});
});

describe('compareHistoryIds', () => {
	it('orders by numeric value, not by string', () => {
		expect(compareHistoryIds('9', '10')).toBe(-1);
		expect(compareHistoryIds('10', '9')).toBe(1);
		expect(compareHistoryIds('100', '100')).toBe(0);
	});

	it('tells apart ids that collide as Numbers', () => {
		// Number('9007199254740993') === Number('9007199254740992'): the BigInt comparison must not.
		expect(Number(TWO_53_PLUS_1)).toBe(Number(TWO_53));
		expect(compareHistoryIds(TWO_53_PLUS_1, TWO_53)).toBe(1);
		expect(compareHistoryIds(TWO_53, TWO_53_PLUS_1)).toBe(-1);
		expect(compareHistoryIds(UINT64_MAX, '18446744073709551614')).toBe(1);
	});
});

describe('isAfter', () => {
	it('treats an absent cursor as before everything', () => {
		expect(isAfter('0', undefined)).toBe(true);
	});

	it('is strict', () => {
		expect(isAfter('101', '100')).toBe(true);
		expect(isAfter('100', '100')).toBe(false);
		expect(isAfter('99', '100')).toBe(false);
	});

	it('works above 2^53', () => {
		expect(isAfter(TWO_53_PLUS_1, TWO_53)).toBe(true);
		expect(isAfter(TWO_53, TWO_53_PLUS_1)).toBe(false);
	});
});

describe('advance', () => {
	it('moves forward', () => {
		expect(advance('100', '150')).toBe('150');
		expect(advance(undefined, '150')).toBe('150');
	});

	it('never moves backwards or to nothing', () => {
		expect(advance('150', '100')).toBe('150');
		expect(advance('150', '150')).toBe('150');
		expect(advance('150', undefined)).toBe('150');
		expect(advance(undefined, undefined)).toBeUndefined();
		expect(advance(TWO_53_PLUS_1, TWO_53)).toBe(TWO_53_PLUS_1);
	});

	it('compares numerically (a shorter string is a smaller id)', () => {
		expect(advance('99', '100')).toBe('100');
		expect(advance('100', '99')).toBe('100');
	});

	it('ends at the maximum of any sequence of updates', () => {
		const updates = ['5', '3', '12', '11', '12', '2', '40', '39'];
		let cursor: string | undefined;
		const seen: string[] = [];
		for (const next of updates) {
			const before = cursor;
			cursor = advance(cursor, next);
			if (before !== undefined) expect(compareHistoryIds(cursor as string, before)).toBeGreaterThanOrEqual(0);
			seen.push(cursor as string);
		}
		expect(seen).toEqual(['5', '5', '12', '12', '12', '12', '40', '40']);
	});
});
