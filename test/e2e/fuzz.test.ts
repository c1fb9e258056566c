/**
 * Fuzzing the push webhook of a real n8n (1.123 by default; FUZZ_N8N_VERSIONS=1,2 for both):
 * 10,000 generated POSTs (seeded, so a failure replays exactly: FUZZ_SEED, FUZZ_REQUESTS) at
 * the Production URL of a push workflow with Push Authentication "none", so that every body
 * reaches the notification decoder, 16 in flight, under a time cap:
 *   - JSON of wrong shapes and types, missing fields;
 *   - message.data that is bad base64, base64 of non-JSON, of JSON arrays and scalars, of objects
 *     with a missing / non-string / address-less emailAddress, or a missing, non-numeric,
 *     negative, fractional, exponent, too-long or beyond-uint64 historyId, or too large;
 *   - non-JSON bodies with many content types (text, form, multipart, XML, octet-stream, none,
 *     unknown charsets, malformed JSON/XML), oversized bodies;
 *   - valid notifications for another mailbox (any historyId, also past 2^53), and for ours at
 *     or below the cursor (duplicates, in every spelling the decoder accepts);
 *   - one request in ten with junk Authorization headers and ?token= queries (ignored by "none"),
 *     and one in twenty to an OIDC and a shared-secret workflow with junk credentials and a
 *     notification above the cursor that would make Gmail calls if it got through.
 * A mail waits in the mailbox all along. Expected: no 5xx, each answer as its request's kind
 * predicts (200 covered / other-mailbox / ignored (not a notification), 422 when n8n cannot parse the body,
 * 401/403 from push auth), n8n alive (/healthz), 0 Gmail calls, 0 executions, every trigger's
 * static data in the DB unchanged; then a genuine push still emits the waiting mail once.
 *
 * Left out on purpose: a broken gzip/deflate Content-Encoding and bodies over n8n's 16 MB limit.
 * n8n answers those 500 while reading the body, before any node runs (webhook-helpers
 * parseRequestBody), so they say nothing about this node. Malformed XML is left out too, and
 * XML bodies are sent one at a time: n8n (1.123 and 2.41) parses every XML webhook body with one
 * shared xml2js 0.6.2 Parser (middlewares/body-parser.ts, async: true). Two XML bodies parsed at
 * once clobber each other's state, and some malformed ones (`<a x=1/>`, or `<a></b>` after
 * another error) leave it broken: from then on no XML webhook request of that n8n gets an answer,
 * whatever the node (an n8n bug, reproduced with n8n's own xml2js outside n8n).
 */
import { randomUUID } from 'crypto';
import { seededRandom, type Random } from '../support/fakeGoogle/random';
import { http, selectedMajors, sleep, type N8nMajor } from '../support/n8n';
import {
	EMAIL,
	PUSH_SERVICE_ACCOUNT,
	SETTLE_MS,
	gmailCallsSince,
	pushBody,
	pushWorkflow,
	seconds,
	startRig,
	type PushWorkflow,
	type Rig,
	type TriggerState,
} from './helpers/pushRig';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_128);
const CONCURRENCY = 16;
/** The sending stops here; the test then fails unless every request was sent. */
const TIME_CAP_MS = Number(process.env.FUZZ_TIME_CAP_MS ?? 420_000); // roomy: the e2e halves run at once and share 2 cores
const SECRET = 'fuzz-e2e-shared-secret-0123456789';
/** n8n 1 only by default (the suite's time budget); FUZZ_N8N_VERSIONS=1,2 runs both. */
const MAJORS: N8nMajor[] = (() => {
	const wanted = (process.env.FUZZ_N8N_VERSIONS ?? '1').split(',').map((s) => Number(s.trim()));
	const selected = selectedMajors().filter((m) => wanted.includes(m));
	// Never a skipped suite: with none of the wanted versions selected, fuzz the first selected one.
	return selected.length > 0 ? selected : selectedMajors().slice(0, 1);
})();

jest.setTimeout(TIME_CAP_MS + 120_000);

type Target = 'none' | 'oidc' | 'secret';

interface FuzzRequest {
	kind: string;
	/** XML bodies go one at a time (see above). */
	xml?: boolean;
	target: Target;
	body: string | Buffer;
	contentType?: string;
	headers?: Record<string, string>;
	query?: Record<string, string>;
	/** Statuses this request may get. */
	expect: number[];
	/** For 200s: the node's `status` in the answer. */
	accepted?: Array<'covered' | 'other-mailbox' | 'ignored'>;
}

// ---- generators ------------------------------------------------------------------------------

class Gen {
	constructor(
		readonly r: Random,
		readonly cursor: bigint,
	) {}

	int(min: number, max: number): number {
		return min + Math.floor(this.r() * (max - min + 1));
	}
	chance(p: number): boolean {
		return this.r() < p;
	}
	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.r() * items.length)];
	}
	string(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.@/+=!?"\\{}[]:,é漢🙂\u0000\n\t'): string {
		const chars = [...alphabet];
		let out = '';
		for (let i = 0; i < length; i++) out += chars[Math.floor(this.r() * chars.length)];
		return out;
	}
	bytes(length: number): Buffer {
		const out = Buffer.alloc(length);
		for (let i = 0; i < length; i++) out[i] = Math.floor(this.r() * 256);
		return out;
	}
	/** A JSON value of any type, nested a little. */
	value(depth = 0): unknown {
		const kind = this.int(0, depth > 2 ? 4 : 6);
		switch (kind) {
			case 0:
				return null;
			case 1:
				return this.chance(0.5);
			case 2:
				return this.pick([0, -1, 1.5, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, this.int(-1e9, 1e9)]);
			case 3:
				return this.string(this.int(0, 40));
			case 4:
				return this.pick(['', 'message', 'data', EMAIL, '{}', '[]']);
			case 5:
				return Array.from({ length: this.int(0, 4) }, () => this.value(depth + 1));
			default:
				return Object.fromEntries(Array.from({ length: this.int(0, 4) }, () => [this.pick(['message', 'data', 'subscription', 'x', this.string(5)]), this.value(depth + 1)]));
		}
	}
	/** A historyId the node must treat as a duplicate (at or below the cursor), in some accepted spelling. */
	duplicateHistoryId(): { json: string } {
		const n = this.pick([this.cursor, this.cursor, this.cursor - 1n, this.cursor - BigInt(this.int(1, 1_000_000)), 0n, 1n, BigInt(this.int(0, 4_000_000))]);
		const id = n < 0n ? 0n : n;
		switch (this.int(0, 5)) {
			case 0:
				return { json: String(id) }; // a number, as Gmail sends it
			case 1:
				return { json: JSON.stringify(String(id)) };
			case 2:
				return { json: JSON.stringify(`000${id}`) };
			case 3:
				return { json: JSON.stringify(` ${id}\t`) };
			case 4:
				return { json: `${id}.0` }; // integral, so JSON.parse makes it a whole number
			default:
				return { json: id === 0n ? '0' : `${id}e0` };
		}
	}
	/** A historyId the decoder must refuse. */
	badHistoryId(): string | undefined {
		return this.pick([
			undefined,
			'null',
			'true',
			'{}',
			'[]',
			'[4000000]',
			'""',
			'" "',
			'"abc"',
			'"12a"',
			'"0x10"',
			'"1e3"',
			'"+5"',
			'"-5"',
			'-1',
			'-4000000',
			'1.5',
			'"1.5"',
			`${this.cursor}.5`,
			'1e400',
			'-1e400',
			'"99999999999999999999999"',
			'"18446744073709551616"',
			'18446744073709551616999',
			'"٣٤٥"',
			JSON.stringify(`x${this.string(this.int(0, 30))}`),
		]);
	}
	otherMailbox(): string {
		return this.pick(['someone@example.com', 'user@example.org', 'user@example.com.evil.test', `u${this.int(0, 1e6)}@gmail.com`, 'x@y', `${this.string(8, 'abcdef')}@example.net`]);
	}
	/** Any valid historyId, also past 2^53 and up to 2^64 - 1 (only for other mailboxes). */
	anyHistoryId(): string {
		return this.pick([String(this.cursor + BigInt(this.int(1, 1000))), '9007199254740993', '18446744073709551615', String(this.int(0, 2 ** 31)), JSON.stringify('12345678901234567890')]);
	}
	data(json: string, form: 'std' | 'url' | 'unpadded' = 'std'): string {
		const b = Buffer.from(json, 'utf8');
		if (form === 'url') return b.toString('base64url');
		const s = b.toString('base64');
		return form === 'unpadded' ? s.replace(/=+$/, '') : s;
	}
	envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
		const message: Record<string, unknown> = { data };
		if (this.chance(0.7)) message.messageId = this.pick([String(this.int(1, 1e12)), this.int(1, 1e6), null, '']);
		if (this.chance(0.5)) message.publishTime = this.pick([new Date(0).toISOString(), 'yesterday', 42]);
		if (this.chance(0.3)) message.attributes = { [this.string(4)]: this.string(6) };
		const out: Record<string, unknown> = { message, ...extra };
		if (this.chance(0.8)) out.subscription = this.pick(['projects/test-project/subscriptions/s', '', 7, null]);
		return out;
	}
	notification(email: unknown, historyIdJson: string | undefined): string {
		const parts: string[] = [];
		if (email !== undefined) parts.push(`"emailAddress":${JSON.stringify(email)}`);
		if (historyIdJson !== undefined) parts.push(`"historyId":${historyIdJson}`);
		if (this.chance(0.2)) parts.push(`"extra":${JSON.stringify(this.value())}`);
		return `{${parts.join(',')}}`;
	}
}

const JSON_TYPE = 'application/json';
const ok = (accepted: 'covered' | 'other-mailbox'): Pick<FuzzRequest, 'expect' | 'accepted'> => ({ expect: [200], accepted: [accepted] });
/** Authenticated but not a Gmail notification: acknowledged (2xx) so Pub/Sub does not redeliver it for days. */
const rejected: Pick<FuzzRequest, 'expect' | 'accepted'> = { expect: [200], accepted: ['ignored'] };

function jsonRequest(kind: string, body: unknown, outcome: Pick<FuzzRequest, 'expect' | 'accepted'>): FuzzRequest {
	return { kind, target: 'none', body: JSON.stringify(body), contentType: JSON_TYPE, ...outcome };
}

/** The i-th request of the run: the same for a seed whatever the concurrency. */
function generate(i: number, cursor: bigint, audiences: Record<'oidc' | 'secret', string>, rig: Rig): FuzzRequest {
	const g = new Gen(seededRandom(SEED * 7919 + i), cursor);
	const roll = g.r();
	let request: FuzzRequest;
	if (roll < 0.05) {
		request = authJunk(g, audiences, rig);
	} else if (roll < 0.18) {
		// Wrong shapes and types of the whole body and of `message`.
		const body = g.pick<() => unknown>([
			() => g.value(),
			() => [g.envelope(g.data(g.notification(EMAIL, String(cursor))))],
			() => ({ subscription: 'projects/test-project/subscriptions/s' }),
			() => ({ message: g.pick([null, 'x', 42, true, [], [{ data: g.data(g.notification(EMAIL, '1')) }]]) }),
			() => ({ message: {} }),
			() => ({ message: { messageId: '1', publishTime: new Date(0).toISOString() } }),
			() => ({ message: { data: g.pick([null, 42, true, {}, [], ['eyJ9'], '']) } }),
			() => ({ Message: { Data: g.data(g.notification(EMAIL, '1')) } }),
			() => ({ data: g.data(g.notification(EMAIL, '1')) }),
			() => ({ message: { message: { data: g.data(g.notification(EMAIL, '1')) } } }),
		])();
		request = jsonRequest('wrong shape', body, rejected);
	} else if (roll < 0.5) {
		request = dataJunk(g);
	} else if (roll < 0.66) {
		// Duplicates: valid notifications for our mailbox at or below the cursor.
		const email = g.pick([EMAIL, EMAIL, 'USER@example.com', ` ${EMAIL} `, 'User@Example.COM']);
		const data = g.data(g.notification(email, g.duplicateHistoryId().json), g.pick(['std', 'url', 'unpadded'] as const));
		request = jsonRequest('duplicate', g.envelope(data), ok('covered'));
	} else if (roll < 0.76) {
		const data = g.data(g.notification(g.otherMailbox(), g.anyHistoryId()), g.pick(['std', 'url'] as const));
		request = jsonRequest('another mailbox', g.envelope(data), ok('other-mailbox'));
	} else if (roll < 0.94) {
		request = otherContent(g);
	} else {
		request = oversized(g);
	}
	if (request.target === 'none' && g.chance(0.1)) {
		// Credentials of every sort: "none" must ignore them.
		request.headers = {
			authorization: g.pick([`Bearer ${g.string(g.int(0, 80), 'abcXYZ019-_.')}`, `Basic ${g.string(12, 'abcdef=')}`, 'Bearer', g.string(30, 'abc .,;')]),
		};
		if (g.chance(0.5)) request.query = { token: g.string(g.int(0, 40), 'abc019-_%') };
	}
	return request;
}

function dataJunk(g: Gen): FuzzRequest {
	const variant = g.int(0, 6);
	switch (variant) {
		case 0: {
			// Not base64 at all, or of an impossible length.
			const data = g.pick([
				() => g.string(g.int(1, 60), '!*$&()[]{}<> .,;:~`\'"é漢'),
				() => `${g.data(g.notification(EMAIL, '1'))}!`,
				() => `${g.data(g.notification(EMAIL, '1')).replace(/=+$/, '')}A`.padEnd(4 * g.int(3, 20) + 1, 'A'),
				() => `=${g.data(g.notification(EMAIL, '1'))}`,
				() => `${g.data(g.notification(EMAIL, '1'))}===`,
				() => g.data(g.notification(EMAIL, '1')).replace(/(.{8})/g, '$1 '),
				() => g.data(g.notification(EMAIL, '1')).replace(/(.{8})/g, '$1\n'),
			])();
			return jsonRequest('bad base64', g.envelope(data), rejected);
		}
		case 1: {
			// Base64 of what is not JSON.
			const raw = g.pick([() => g.bytes(g.int(1, 200)), () => Buffer.from(g.pick(['hello', '{', '{"emailAddress":', '<xml/>', 'undefined', 'NaN', "{'a':1}"])), () => Buffer.from(g.string(g.int(1, 100)))])();
			const text = raw.toString('utf8');
			let parses = true;
			try {
				JSON.parse(text);
			} catch {
				parses = false;
			}
			if (parses) return jsonRequest('base64 of JSON scalar', g.envelope(raw.toString('base64')), rejected);
			return jsonRequest('base64 of non-JSON', g.envelope(raw.toString('base64')), rejected);
		}
		case 2: {
			const json = g.pick([() => JSON.stringify([{ emailAddress: EMAIL, historyId: '1' }]), () => '[]', () => 'null', () => '42', () => '"user@example.com"', () => 'true', () => JSON.stringify(g.value())]);
			const text = json();
			const isObject = text.startsWith('{');
			return jsonRequest(isObject ? 'base64 of a JSON object without fields' : 'base64 of a JSON array or scalar', g.envelope(g.data(isObject ? '{"x":1}' : text)), rejected);
		}
		case 3: {
			// emailAddress missing or not an address.
			const email = g.pick<unknown>([undefined, null, 42, true, [], {}, '', 'user', 'user.example.com', `${'a'.repeat(320)}@example.com`, [EMAIL]]);
			return jsonRequest('bad emailAddress', g.envelope(g.data(g.notification(email, String(g.cursor)))), rejected);
		}
		case 4:
		case 5:
			// Our mailbox, a historyId the decoder must refuse.
			return jsonRequest('bad historyId', g.envelope(g.data(g.notification(g.pick([EMAIL, 'USER@example.com']), g.badHistoryId()))), rejected);
		default: {
			// Too large to be a Gmail notification (> 4096 characters of data).
			const pad = 'x'.repeat(g.int(4100, 20_000));
			return jsonRequest('data too large', g.envelope(g.data(`{"emailAddress":"${EMAIL}","historyId":"1","pad":"${pad}"}`)), rejected);
		}
	}
}

function otherContent(g: Gen): FuzzRequest {
	const dup = g.data(g.notification(EMAIL, String(g.cursor)));
	const variants: Array<() => FuzzRequest> = [
		() => ({ kind: 'text/plain', target: 'none', body: g.pick([JSON.stringify(pushBody(String(g.cursor))), g.string(g.int(1, 200)), 'message=1']), contentType: 'text/plain', ...rejected }),
		() => ({ kind: 'form', target: 'none', body: g.pick([`message[data]=${encodeURIComponent(dup)}`, `message=${encodeURIComponent(JSON.stringify({ data: dup }))}`, 'a=1&b=2', g.string(40)]), contentType: 'application/x-www-form-urlencoded', ...rejected }),
		() => {
			const boundary = `b${g.int(0, 1e6)}`;
			const field = g.pick(['message', 'data', 'message[data]']);
			const body = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${g.pick([dup, JSON.stringify({ data: dup })])}\r\n--${boundary}--\r\n`;
			return { kind: 'multipart', target: 'none', body, contentType: g.pick([`multipart/form-data; boundary=${boundary}`, 'multipart/form-data']), ...rejected };
		},
		() => ({ kind: 'octet-stream', target: 'none', body: g.bytes(g.int(0, 300)), contentType: 'application/octet-stream', ...rejected }),
		// A Buffer: fetch would label a string body text/plain.
		() => ({ kind: 'no content type', target: 'none', body: Buffer.from(g.pick([JSON.stringify(pushBody(String(g.cursor))), g.string(50)])), contentType: undefined, ...rejected }),
		() => ({ kind: 'other JSON types', target: 'none', body: JSON.stringify(pushBody(String(g.cursor))), contentType: g.pick(['application/cloudevents+json', 'application/merge-patch+json', 'text/json', 'application/jsonx']), ...rejected }),
		() => ({ kind: 'XML notification (duplicate)', xml: true, target: 'none', body: `<message><data>${dup}</data><messageId>7</messageId></message>`, contentType: g.pick(['application/xml', 'text/xml', 'application/atom+xml']), ...ok('covered') }),
		() => ({ kind: 'XML junk', xml: true, target: 'none', body: g.pick(['<a/>', '<root><message>x</message></root>', `<message><data>${g.string(10, 'abc!*')}</data></message>`, '<message></message>']), contentType: 'application/xml', ...rejected }),
		() => ({ kind: 'malformed JSON', target: 'none', body: g.pick(['{', '{"message":', "{'message':{}}", '{"message":{"data":"x"}}}', 'nul', '[1,]', '{"a":1,}', g.string(20, '{}[]:,"')]), contentType: JSON_TYPE, expect: [200, 422], accepted: ['ignored'] }),
		() => ({ kind: 'JSON, unknown charset', target: 'none', body: JSON.stringify(pushBody(String(g.cursor))), contentType: g.pick(['application/json; charset=utf-16', 'application/json; charset=bogus', 'application/json; charset=ebcdic']), expect: [422] }),
		() => ({ kind: 'JSON, utf-8 charset', target: 'none', body: JSON.stringify(pushBody(String(g.cursor))), contentType: 'application/json; charset=utf-8', ...ok('covered') }),
		() => ({ kind: 'empty body', xml: true, target: 'none', body: '', contentType: g.pick([JSON_TYPE, 'text/plain', 'application/xml', undefined]), ...rejected }),
		() => ({ kind: 'JSON with a BOM', target: 'none', body: `\uFEFF${JSON.stringify(pushBody(String(g.cursor)))}`, contentType: JSON_TYPE, expect: [200, 422], accepted: ['covered', 'ignored'] }),
	];
	return g.pick(variants)();
}

function oversized(g: Gen): FuzzRequest {
	const size = g.pick([5_000, 50_000, 300_000, 1_000_000]);
	return g.pick<() => FuzzRequest>([
		() => jsonRequest('oversized data', g.envelope('A'.repeat(size)), rejected),
		// A valid duplicate carrying a large irrelevant attribute: still just a duplicate.
		() => jsonRequest('oversized envelope (duplicate)', g.envelope(g.data(g.notification(EMAIL, String(g.cursor))), { padding: 'p'.repeat(size) }), ok('covered')),
		() => ({ kind: 'oversized text', target: 'none', body: 't'.repeat(size), contentType: 'text/plain', ...rejected }),
		() => jsonRequest('many keys', Object.fromEntries(Array.from({ length: 5000 }, (_, k) => [`k${k}`, k])), rejected),
		() => jsonRequest('deep nesting', JSON.parse(`${'{"message":'.repeat(200)}{}${'}'.repeat(200)}`), rejected),
	])();
}

/** Junk credentials on a notification above the cursor to the OIDC and shared-secret workflows. */
function authJunk(g: Gen, audiences: Record<'oidc' | 'secret', string>, rig: Rig): FuzzRequest {
	const body = JSON.stringify(pushBody(String(g.cursor + BigInt(g.int(1, 1_000_000))), String(g.int(1, 1e9))));
	if (g.chance(0.4)) {
		const token = g.pick([undefined, '', g.string(g.int(1, 40), 'abcdef0123456789-_'), SECRET.slice(0, g.int(0, SECRET.length - 1)), `${SECRET} `, SECRET.toUpperCase()]);
		return {
			kind: 'shared secret junk',
			target: 'secret',
			body,
			contentType: JSON_TYPE,
			...(token !== undefined && { query: { token } }),
			...(g.chance(0.3) && { headers: { authorization: `Bearer ${SECRET}` } }),
			expect: token ? [403] : [401],
		};
	}
	const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
	const oidc = rig.fake.oidc;
	const claims = { aud: audiences.oidc, email: PUSH_SERVICE_ACCOUNT };
	const now = Math.floor(Date.now() / 1000);
	// [token, status]: 403 only for a genuine token naming the wrong account or an unverified one.
	const [token, status] = g.pick<() => [string, number]>([
		() => [g.string(g.int(1, 120), 'abcdefghijklmnopqrstuvwxyz0123456789-_.'), 401],
		() => [`${b64(g.value())}.${b64(g.value())}.${g.string(g.int(0, 40), 'abc-_')}`, 401],
		() => [`${b64({ alg: g.pick(['RS256', 'none', 'HS256', 'ES256', 'socket']), kid: g.pick([oidc.kid, 'fetch', 'certs', g.string(8)]) })}.${b64(claims)}.${g.string(g.int(0, 342), 'abcXYZ-_')}`, 401],
		() => [oidc.sign({ ...claims, email: g.otherMailbox() }), 403],
		() => [oidc.sign({ ...claims, aud: g.pick([audiences.secret, 'https://evil.example.com/', '']) }), 401],
		() => [oidc.sign({ ...claims, email_verified: g.pick([false, 'true', 1, null]) }), 403],
		() => [oidc.sign({ ...claims, iat: now - 7200, exp: now - g.int(600, 3600) }), 401],
		() => [oidc.sign({ ...claims, iss: g.pick(['accounts.google.com.evil', 'https://evil.example.com', '']) }), 401],
		() => [oidc.sign(claims, { key: oidc.foreignKey().privateKey }), 401],
		() => [oidc.sign(claims, { alg: g.pick(['none', 'HS256']) }), 401],
	])();
	return {
		kind: `OIDC junk ${status}`,
		target: 'oidc',
		body,
		contentType: JSON_TYPE,
		headers: { authorization: g.pick(['Bearer ', 'bearer ', 'BEARER  ']) + token },
		expect: [status],
	};
}

// ---- the run ---------------------------------------------------------------------------------

describe.each(MAJORS)('fuzzing the push webhook, in n8n %i.x', (major) => {
	let rig: Rig;
	const workflows = {} as Record<Target, PushWorkflow>;

	beforeAll(async () => {
		rig = await startRig(major);
		workflows.none = await rig.deploy(pushWorkflow('fuzz none', { pushAuthentication: 'none', pushSecret: undefined }));
		workflows.oidc = await rig.deploy(pushWorkflow('fuzz OIDC', { pushAuthentication: 'oidc', pushServiceAccountEmail: PUSH_SERVICE_ACCOUNT, pushSecret: undefined }));
		workflows.secret = await rig.deploy(pushWorkflow('fuzz secret', { pushAuthentication: 'sharedSecret', pushSecret: SECRET }));
	}, 300_000);

	afterAll(async () => {
		await rig?.close();
	});

	it(`${REQUESTS} generated requests: no 5xx, each answered as predicted, no Gmail call, no execution, state unchanged; then a genuine push still works`, async () => {
		await rig.step(async () => {
			const healthz = `${rig.session.n8n.baseUrl}/healthz`;
			expect((await http(healthz)).status).toBe(200);
			const waiting = rig.fake.mailbox.deliver({ subject: 'waiting through the fuzz' });
			const states = {} as Record<Target, TriggerState>;
			for (const t of Object.keys(workflows) as Target[]) states[t] = await rig.storedState(workflows[t].id);
			const cursor = BigInt(states.none.cursor!);
			expect(states.oidc.cursor).toBe(String(cursor));
			expect(BigInt(rig.fake.mailbox.historyId)).toBeGreaterThan(cursor);
			const audiences = { oidc: workflows.oidc.url, secret: workflows.secret.url };
			const executionsBefore = await Promise.all(Object.values(workflows).map((w) => rig.executionCount(w.id)));
			expect(executionsBefore).toEqual([0, 0, 0]);

			const since = Date.now();
			const statuses = new Map<number, number>();
			const byKind = new Map<string, Map<number, number>>();
			const surprises: string[] = [];
			let next = 0;
			let sent = 0;
			let healthChecks = 0;
			let unexpected = 0;
			const deadline = since + TIME_CAP_MS;
			/** One XML body in flight at a time (n8n's shared XML parser, see the top). */
			let xmlTurn: Promise<unknown> = Promise.resolve();
			const lane = async () => {
				while (next < REQUESTS && Date.now() < deadline) {
					const i = next++;
					const req = generate(i, cursor, audiences, rig);
					const headers: Record<string, string> = { ...req.headers };
					if (req.contentType !== undefined) headers['content-type'] = req.contentType;
					const query = new URLSearchParams(req.query ?? {}).toString();
					let status = 0; // no answer at all
					let answer = '';
					const send = async () => {
						try {
							const reply = await http<{ status?: string }>(workflows[req.target].url + (query ? `?${query}` : ''), {
								method: 'POST',
								headers,
								body: req.body as string,
								signal: AbortSignal.timeout(30_000),
							});
							status = reply.status;
							answer = reply.json?.status ?? reply.text.slice(0, 120);
						} catch (error) {
							answer = (error as Error).message;
						}
					};
					if (req.xml) {
						const turn = xmlTurn.then(send);
						xmlTurn = turn;
						await turn;
					} else {
						await send();
					}
					sent++;
					statuses.set(status, (statuses.get(status) ?? 0) + 1);
					const kind = byKind.get(req.kind) ?? new Map<number, number>();
					kind.set(status, (kind.get(status) ?? 0) + 1);
					byKind.set(req.kind, kind);
					const fine = req.expect.includes(status) && (status !== 200 || !req.accepted || req.accepted.includes(answer as 'covered'));
					if (!fine) unexpected++;
					if (!fine && surprises.length < 25) {
						surprises.push(`#${i} ${req.kind} → ${req.target}: ${status} ${answer} (expected ${req.expect.join('/')}${req.accepted ? ` ${req.accepted.join('/')}` : ''}); body ${String(req.body).slice(0, 160)}`);
					}
					if (i % 1000 === 999) {
						healthChecks++;
						const health = await http(healthz);
						if (health.status !== 200) surprises.push(`#${i}: /healthz answered ${health.status}`);
					}
				}
			};
			await Promise.all(Array.from({ length: CONCURRENCY }, lane));
			const elapsed = Date.now() - since;
			const gmail = gmailCallsSince(rig.fake, since);

			await sleep(SETTLE_MS);
			const executions = (await Promise.all(Object.values(workflows).map((w) => rig.executionCount(w.id)))).reduce((a, b) => a + b, 0);
			const health = await http(healthz);
			const count = (test: (s: number) => boolean) => [...statuses].filter(([s]) => test(s)).reduce((sum, [, n]) => sum + n, 0);
			const fivexx = count((s) => s >= 500 || s === 0);
			console.log(
				`fuzz, n8n ${major}.x: ${sent} requests in ${seconds(elapsed)} (${Math.round(sent / (elapsed / 1000))}/s, ${CONCURRENCY} in flight, seed ${SEED}), ` +
					`${count((s) => s >= 200 && s < 300)} 2xx, ${count((s) => s >= 400 && s < 500)} 4xx, ${fivexx} 5xx, ${gmail.length} gmail calls, ${executions} executions\n` +
					`fuzz: ${sent} requests, ${count((s) => s >= 200 && s < 300)} 2xx, ${count((s) => s >= 400 && s < 500)} 4xx, ${fivexx} 5xx, ${gmail.length} gmail calls, ${executions} executions\n` +
					[...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([kind, s]) => `  ${kind}: ${[...s].map(([st, n]) => `${n}×${st}`).join(', ')}`).join('\n') +
					`\n  /healthz checked ${healthChecks + 2} times` +
					(unexpected > 0 ? `\n  ${unexpected} unexpected answers, the first ones:\n    ${surprises.join('\n    ')}` : ''),
			);

			expect(sent).toBe(REQUESTS);
			expect(fivexx).toBe(0);
			expect(surprises).toEqual([]);
			expect(health.status).toBe(200);
			expect(gmail.map((c) => `${c.method} ${c.path}`)).toEqual([]);
			expect(executions).toBe(0);
			for (const t of Object.keys(workflows) as Target[]) expect([t, await rig.storedState(workflows[t].id)]).toEqual([t, states[t]]);

			// The node still works: the genuine notification emits the mail that waited, once.
			const reply = await rig.postUntilRunning(workflows.none, pushBody(rig.fake.mailbox.historyId, randomUUID()));
			expect(reply.status).toBe(200);
			const { items, executions: after } = await rig.waitForItems(workflows.none.id, 1);
			expect(items.map((i) => i.id)).toEqual([waiting.id]);
			expect(after).toBe(1);
		});
	});
});
