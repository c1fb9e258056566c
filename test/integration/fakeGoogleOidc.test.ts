/**
 * The fake Google's OIDC signer, checked with the real google-auth-library verifier (the one the
 * node's push authentication uses): tokens it signs verify, forged ones do not, the certs are
 * served in both of Google's forms with a max-age the verifier honours, and faults reach them.
 */
import { createPublicKey, verify } from 'crypto';
import { OAuth2Client } from 'google-auth-library';
import { GOOGLE_ISSUER, startFakeGoogle, type FakeGoogle } from '../support/fakeGoogle';

const AUDIENCE = 'https://n8n.example.com/webhook/abc/webhook';
const EMAIL = 'pubsub-push@test-project.iam.gserviceaccount.com';

describe('fake Google OIDC signer', () => {
	let fake: FakeGoogle;
	const verifier = () => new OAuth2Client({ transporterOptions: { fetchImplementation: fake.fetch } });
	const reason = async (token: string, audience = AUDIENCE): Promise<string> => {
		try {
			await verifier().verifyIdToken({ idToken: token, audience });
		} catch (error) {
			return (error as Error).message;
		}
		return 'verified';
	};

	beforeAll(async () => {
		fake = await startFakeGoogle({ emailAddress: 'user@example.com' });
	});
	afterAll(() => fake.close());
	beforeEach(() => {
		fake.faults.clear();
		fake.resetCalls();
	});

	test('a signed token verifies with Google defaults for iss, email_verified, iat and exp', async () => {
		const token = fake.oidc.sign({ aud: AUDIENCE, email: EMAIL, sub: '1234567890' });
		const ticket = await verifier().verifyIdToken({ idToken: token, audience: AUDIENCE });
		const payload = ticket.getPayload()!;
		expect(payload).toMatchObject({ iss: GOOGLE_ISSUER, aud: AUDIENCE, email: EMAIL, email_verified: true, sub: '1234567890' });
		expect(payload.exp - payload.iat).toBe(3600);
		expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(5);
		expect(ticket.getEnvelope()).toMatchObject({ alg: 'RS256', kid: fake.oidc.kid, typ: 'JWT' });
		expect(fake.oidc.kid).toMatch(/^[0-9a-f]{40}$/);
		expect(fake.calls.map((c) => [c.method, c.path, c.status])).toEqual([['oidc.certs', '/oauth2/v1/certs', 200]]);
	});

	test('forged tokens are refused by the verifier for the reason Google would give', async () => {
		const good = { aud: AUDIENCE, email: EMAIL };
		const foreign = fake.oidc.foreignKey();
		expect(await reason(fake.oidc.sign(good, { key: foreign.privateKey }))).toMatch(/Invalid token signature/);
		expect(await reason(fake.oidc.sign(good, { key: foreign.privateKey, kid: foreign.kid }))).toMatch(/No pem found/);
		expect(await reason(fake.oidc.sign(good, { alg: 'none' }))).toMatch(/Invalid token signature/);
		expect(await reason(fake.oidc.sign(good, { alg: 'HS256' }))).toMatch(/Invalid token signature/);
		expect(await reason(fake.oidc.sign(good), 'https://elsewhere.example.com/')).toMatch(/Wrong recipient/);
		const now = Math.floor(Date.now() / 1000);
		expect(await reason(fake.oidc.sign({ ...good, iat: now - 7200, exp: now - 3600 }))).toMatch(/Token used too late/);
		expect(await reason(fake.oidc.sign({ ...good, iss: 'https://evil.example.com' }))).toMatch(/Invalid issuer/);
		expect(await reason(fake.oidc.sign({ ...good, exp: undefined }))).toMatch(/No expiration time/);
		expect(await reason('garbage')).toMatch(/Wrong number of segments/);
		// Not the verifier's business: these verify, the caller checks them (the node does).
		expect(await reason(fake.oidc.sign({ ...good, email_verified: false }))).toBe('verified');
		expect(await reason(fake.oidc.sign({ ...good, email: 'someone@else.iam.gserviceaccount.com' }))).toBe('verified');
	});

	test('certs are served as PEM certificates and as JWKs, with a max-age the verifier caches by', async () => {
		const pem = await fake.fetch('https://www.googleapis.com/oauth2/v1/certs');
		expect(pem.status).toBe(200);
		expect(pem.headers.get('cache-control')).toMatch(/max-age=21600/);
		const certs = (await pem.json()) as Record<string, string>;
		expect(Object.keys(certs)).toEqual([fake.oidc.kid]);
		expect(certs[fake.oidc.kid]).toMatch(/^-----BEGIN CERTIFICATE-----/);

		const jwk = await fake.fetch('https://www.googleapis.com/oauth2/v3/certs');
		const { keys } = (await jwk.json()) as { keys: Array<{ kid: string; n: string; e: string; kty: string; alg: string }> };
		expect(keys).toEqual([expect.objectContaining({ kid: fake.oidc.kid, kty: 'RSA', alg: 'RS256', use: 'sig' })]);
		const token = fake.oidc.sign({ aud: AUDIENCE });
		const [h, p, s] = token.split('.');
		const publicKey = createPublicKey({ key: { kty: 'RSA', n: keys[0].n, e: keys[0].e }, format: 'jwk' });
		expect(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))).toBe(true);

		// One client fetches once while the max-age lasts; with max-age 0 it fetches every time.
		fake.resetCalls();
		const client = verifier();
		await client.verifyIdToken({ idToken: token, audience: AUDIENCE });
		await client.verifyIdToken({ idToken: token, audience: AUDIENCE });
		expect(fake.count('oidc.certs')).toBe(1);
		fake.oidc.maxAgeSeconds = 0;
		try {
			const uncached = verifier();
			await uncached.verifyIdToken({ idToken: token, audience: AUDIENCE });
			await uncached.verifyIdToken({ idToken: token, audience: AUDIENCE });
			expect(fake.count('oidc.certs')).toBe(3);
		} finally {
			fake.oidc.maxAgeSeconds = 21600;
		}
	});

	test('a rotated-in key verifies once published, and not after it is removed', async () => {
		const added = fake.oidc.addKey();
		try {
			expect(Object.keys(fake.oidc.pemCerts())).toEqual([fake.oidc.kid, added.kid]);
			const token = fake.oidc.sign({ aud: AUDIENCE }, { kid: added.kid });
			expect(await reason(token)).toBe('verified');
			fake.oidc.removeKey(added.kid);
			expect(await reason(token)).toMatch(/No pem found/);
		} finally {
			fake.oidc.removeKey(added.kid);
		}
	});

	test("faults reach the certs only when named: '*' is for Gmail methods", async () => {
		fake.faults.failNext('*', 503, 1);
		expect((await fake.fetch('https://www.googleapis.com/oauth2/v1/certs')).status).toBe(200);
		fake.faults.clear();
		// google-auth-library retries a failed GET of the certs a few times: outlast it.
		fake.faults.failNext('oidc.certs', 503, 10);
		expect(await reason(fake.oidc.sign({ aud: AUDIENCE }))).toMatch(/Failed to retrieve verification certificates/);
	});

	test('a fault can be aimed at some requests of a method only (`when`)', async () => {
		const token = fake.issueToken();
		const a = fake.mailbox.deliver({ subject: 'a' });
		const b = fake.mailbox.deliver({ subject: 'b' });
		const injectedBefore = fake.faults.injected.length;
		fake.faults.failNext('messages.get', 503, 2, { when: (r) => r.path.endsWith(`/${b.id}`) });
		const get = async (id: string) =>
			(await fake.fetch(`https://gmail.googleapis.com/gmail/v1/users/me/messages/${id}`, { headers: { authorization: `Bearer ${token}` } })).status;
		expect([await get(a.id), await get(b.id), await get(a.id), await get(b.id), await get(b.id)]).toEqual([200, 503, 200, 503, 200]);
		expect(fake.faults.injected.slice(injectedBefore).map((f) => f.method)).toEqual(['messages.get', 'messages.get']);
	});
});
