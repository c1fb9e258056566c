/**
 * Forged pushes, in a real n8n (1.123 / 2.41; E2E_N8N_VERSIONS=1,2): the Production URL is
 * public, so anyone may POST a well-formed notification to it. With OIDC push authentication
 * (Google ID tokens signed by the fake Google's signer, verified by the node against the certs
 * the fake publishes on www.googleapis.com) and with a shared secret, every forged push must be
 * refused with 401/403, make no Gmail call and start no execution, while a mail is waiting, and
 * the genuine push right after must emit that mail once.
 */
import { PUSH_SERVICE_ACCOUNT, SETTLE_MS, gmailCallsSince, pushBody, pushWorkflow, seconds, startRig, type PushWorkflow, type Rig } from './helpers/pushRig';
import { selectedMajors, sleep } from '../support/n8n';

jest.setTimeout(180_000);

const SECRET = 'forged-push-e2e-secret-0123456789';
const CUSTOM_AUDIENCE = 'https://n8n.example.com/gmail-push-audience';

interface Case {
	name: string;
	/** Headers and query of the request; the body is a valid notification for a waiting mail. */
	headers?: Record<string, string>;
	query?: Record<string, string>;
	expect: number[];
}

describe.each(selectedMajors())('forged pushes are refused, in n8n %i.x', (major) => {
	let rig: Rig;
	let oidc: PushWorkflow;
	let secret: PushWorkflow;
	let custom: PushWorkflow;
	let startedAt = Date.now();
	const lines: string[] = [];

	const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
	const now = () => Math.floor(Date.now() / 1000);

	/** Sends each case to `target`; each must get one of its statuses, 0 Gmail calls, 0 executions. */
	const refuseAll = async (target: PushWorkflow, cases: Case[]) => {
		const executionsBefore = await rig.executionCount(target.id);
		const stateBefore = await rig.storedState(target.id);
		const body = pushBody(rig.fake.mailbox.historyId, 'forged');
		const results: Array<{ name: string; status: number; gmail: number; executions: number; error: string }> = [];
		for (const c of cases) {
			const since = Date.now();
			const reply = await rig.post(target, body, { headers: c.headers, query: c.query });
			const gmail = gmailCallsSince(rig.fake, since).length;
			const executions = (await rig.executionCount(target.id)) - executionsBefore;
			results.push({ name: c.name, status: reply.status, gmail, executions, error: String(reply.json?.error ?? reply.text).slice(0, 90) });
		}
		await sleep(SETTLE_MS);
		const executionsAfter = (await rig.executionCount(target.id)) - executionsBefore;
		for (const r of results) {
			lines.push(`  ${target.workflow.name.replace(/^.*\(push\) /, '')} | ${r.name}: ${r.status}, ${r.gmail} gmail calls, ${r.executions} executions (${r.error})`);
		}
		expect(results.map((r) => [r.name, cases.find((c) => c.name === r.name)!.expect.includes(r.status) ? 'refused as expected' : r.status])).toEqual(
			cases.map((c) => [c.name, 'refused as expected']),
		);
		expect(results.filter((r) => r.gmail > 0 || r.executions > 0)).toEqual([]);
		expect(executionsAfter).toBe(0);
		expect(await rig.storedState(target.id)).toEqual(stateBefore);
	};

	/** The genuine push: 200 and exactly the waiting mail, once. */
	const acceptOnce = async (target: PushWorkflow, mailId: string, init: { headers?: Record<string, string>; query?: Record<string, string> }) => {
		const reply = await rig.postUntilRunning(target, pushBody(rig.fake.mailbox.historyId, 'genuine'), init);
		expect(reply.status).toBe(200);
		const { executions, items } = await rig.waitForItems(target.id, 1);
		expect(items.map((i) => i.id)).toEqual([mailId]);
		expect(executions).toBe(1);
		lines.push(`  ${target.workflow.name.replace(/^.*\(push\) /, '')} | genuine: ${reply.status}, ${items.length} item`);
	};

	beforeAll(async () => {
		startedAt = Date.now();
		rig = await startRig(major);
		oidc = await rig.deploy(pushWorkflow('OIDC', { pushAuthentication: 'oidc', pushServiceAccountEmail: PUSH_SERVICE_ACCOUNT, pushSecret: undefined }));
		secret = await rig.deploy(pushWorkflow('shared secret', { pushAuthentication: 'sharedSecret', pushSecret: SECRET }));
		custom = await rig.deploy(
			pushWorkflow('OIDC custom audience', { pushAuthentication: 'oidc', pushServiceAccountEmail: PUSH_SERVICE_ACCOUNT, pushAudience: CUSTOM_AUDIENCE, pushSecret: undefined }),
		);
	}, 300_000);

	afterAll(async () => {
		if (lines.length > 0) console.log(`forged push, n8n ${major}.x (${seconds(Date.now() - startedAt)}):\n${lines.join('\n')}`);
		await rig?.close();
	});

	it("OIDC: while Google's certs cannot be fetched, even a genuine push gets 503 (Pub/Sub retries) and reaches nothing", async () => {
		await rig.step(async () => {
			// First OIDC push of this n8n: the verifier has no certs cached yet. google-auth-library
			// retries the GET a few times; outlast it.
			rig.fake.faults.failNext('oidc.certs', 503, 20);
			try {
				const executions = await rig.executionCount(oidc.id);
				const since = Date.now();
				const token = rig.fake.oidc.sign({ aud: oidc.url, email: PUSH_SERVICE_ACCOUNT });
				const reply = await rig.postUntilRunning(oidc, pushBody(rig.fake.mailbox.historyId, 'certs-down'), { headers: bearer(token) });
				expect(reply.status).toBe(503);
				expect(String(reply.json?.error)).toMatch(/public keys/);
				expect(gmailCallsSince(rig.fake, since)).toEqual([]);
				expect(rig.fake.count('oidc.certs')).toBeGreaterThanOrEqual(2);
				await sleep(SETTLE_MS);
				expect(await rig.executionCount(oidc.id)).toBe(executions);
				lines.push(`  OIDC | certs unreachable, genuine token: ${reply.status}, 0 gmail calls, 0 executions (${rig.fake.count('oidc.certs')} certs attempts)`);
			} finally {
				rig.fake.faults.clear();
			}
		});
	});

	it('OIDC: every forged or mis-addressed token is refused before Gmail; the genuine one emits the mail once', async () => {
		await rig.step(async () => {
			const mail = rig.fake.mailbox.deliver({ subject: 'waiting behind forged pushes', text: 'forged pushes must not fetch me' });
			const signer = rig.fake.oidc;
			const good = { aud: oidc.url, email: PUSH_SERVICE_ACCOUNT, sub: '104857600000000000001', azp: '104857600000000000001' };
			const certsBefore = rig.fake.count('oidc.certs');
			const foreign = signer.foreignKey();
			const cases: Case[] = [
				{ name: 'no Authorization header', expect: [401] },
				{ name: 'Bearer garbage', headers: bearer('garbage'), expect: [401] },
				{ name: 'Bearer with no token', headers: { authorization: 'Bearer ' }, expect: [401] },
				{ name: 'Basic credentials', headers: { authorization: `Basic ${Buffer.from('user:password').toString('base64')}` }, expect: [401] },
				{ name: 'the token in ?token= instead of the header', query: { token: signer.sign(good) }, expect: [401] },
				{ name: 'three junk segments', headers: bearer('socket.fetch.certs'), expect: [401] },
				{ name: 'alg none, no signature', headers: bearer(signer.sign(good, { alg: 'none' })), expect: [401] },
				{ name: 'alg none without kid', headers: bearer(signer.sign(good, { alg: 'none', header: { kid: undefined } })), expect: [401] },
				{ name: 'HS256 keyed with the public certificate', headers: bearer(signer.sign(good, { alg: 'HS256' })), expect: [401] },
				{ name: 'signed by a foreign key, genuine kid', headers: bearer(signer.sign(good, { key: foreign.privateKey })), expect: [401] },
				{ name: 'signed by a foreign key, its own kid', headers: bearer(signer.sign(good, { key: foreign.privateKey, kid: foreign.kid })), expect: [401] },
				{ name: 'genuine signature, payload swapped', headers: bearer(swapPayload(signer.sign({ ...good, email: 'attacker@evil.example.com' }), signer.claims(good))), expect: [401] },
				{ name: 'wrong audience (another URL)', headers: bearer(signer.sign({ ...good, aud: 'https://attacker.example.com/hook' })), expect: [401] },
				{ name: 'audience of another workflow', headers: bearer(signer.sign({ ...good, aud: secret.url })), expect: [401] },
				{ name: 'no audience', headers: bearer(signer.sign({ ...good, aud: undefined })), expect: [401] },
				{ name: 'wrong email', headers: bearer(signer.sign({ ...good, email: 'attacker@evil-project.iam.gserviceaccount.com' })), expect: [403] },
				{ name: 'no email', headers: bearer(signer.sign({ ...good, email: undefined })), expect: [403] },
				{ name: 'email_verified false', headers: bearer(signer.sign({ ...good, email_verified: false })), expect: [403] },
				{ name: 'email_verified "true" (a string)', headers: bearer(signer.sign({ ...good, email_verified: 'true' })), expect: [403] },
				{ name: 'expired an hour ago', headers: bearer(signer.sign({ ...good, iat: now() - 7200, exp: now() - 3600 })), expect: [401] },
				{ name: 'issued an hour from now', headers: bearer(signer.sign({ ...good, iat: now() + 3600, exp: now() + 7200 })), expect: [401] },
				{ name: 'valid for two days', headers: bearer(signer.sign({ ...good, exp: now() + 2 * 86400 })), expect: [401] },
				{ name: 'no exp', headers: bearer(signer.sign({ ...good, exp: undefined })), expect: [401] },
				{ name: 'wrong issuer', headers: bearer(signer.sign({ ...good, iss: 'https://accounts.evil.example.com' })), expect: [401] },
				{ name: 'no issuer', headers: bearer(signer.sign({ ...good, iss: undefined })), expect: [401] },
			];
			await refuseAll(oidc, cases);
			// The node fetched Google's certs (from the fake, through the DNS preload) once and cached
			// them for their max-age.
			expect(rig.fake.count('oidc.certs') - certsBefore).toBe(1);
			expect(rig.fake.calls.filter((c) => c.method === 'oidc.certs').every((c) => c.host === 'www.googleapis.com')).toBe(true);

			const token = signer.sign(good);
			await acceptOnce(oidc, mail.id, { headers: bearer(token) });
			// The same genuine push again is a duplicate: 200, nothing new, no Gmail call.
			const since = Date.now();
			const again = await rig.post(oidc, pushBody(rig.fake.mailbox.historyId, 'genuine'), { headers: bearer(token) });
			expect(again.status).toBe(200);
			expect(gmailCallsSince(rig.fake, since)).toEqual([]);
			// A bearer token that verifies is a credential: it must not be written to n8n's log.
			expect(rig.session.n8n.log.includes(token.split('.')[2])).toBe(false);
		});
	});

	it('OIDC with a Push Audience: only that audience is accepted', async () => {
		await rig.step(async () => {
			const mail = rig.fake.mailbox.deliver({ subject: 'for the custom audience' });
			const signer = rig.fake.oidc;
			const good = { aud: CUSTOM_AUDIENCE, email: PUSH_SERVICE_ACCOUNT };
			await refuseAll(custom, [
				{ name: 'the Production URL as audience', headers: bearer(signer.sign({ ...good, aud: custom.url })), expect: [401] },
				{ name: 'both audiences in an array', headers: bearer(signer.sign({ ...good, aud: [CUSTOM_AUDIENCE, custom.url] })), expect: [401] },
				{ name: 'wrong email', headers: bearer(signer.sign({ ...good, email: 'someone@else.iam.gserviceaccount.com' })), expect: [403] },
			]);
			// This workflow's cursor predates both mails; the custom one is the newest.
			const before = (await rig.triggerItems(custom.id)).items.length;
			expect(before).toBe(0);
			const reply = await rig.postUntilRunning(custom, pushBody(rig.fake.mailbox.historyId, 'genuine'), { headers: bearer(signer.sign(good)) });
			expect(reply.status).toBe(200);
			const { items } = await rig.waitForItems(custom.id, 2);
			expect(items.map((i) => i.id)).toContain(mail.id);
			expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
			lines.push(`  OIDC custom audience | genuine: ${reply.status}, ${items.length} items (both waiting mails, each once)`);
		});
	});

	it('shared secret: a missing or wrong token is refused before Gmail; the right one emits the mails once', async () => {
		await rig.step(async () => {
			await refuseAll(secret, [
				{ name: 'no token', expect: [401] },
				{ name: 'empty token', query: { token: '' }, expect: [401] },
				{ name: 'wrong token', query: { token: 'wrong-secret-0123456789abcdef' }, expect: [403] },
				{ name: 'the secret with one character changed', query: { token: `${SECRET.slice(0, -1)}X` }, expect: [403] },
				{ name: 'a prefix of the secret', query: { token: SECRET.slice(0, 16) }, expect: [403] },
				{ name: 'the secret and more', query: { token: `${SECRET}0` }, expect: [403] },
				{ name: 'the secret upper-cased', query: { token: SECRET.toUpperCase() }, expect: [403] },
				{ name: 'the secret as a Bearer header', headers: bearer(SECRET), expect: [401] },
				{ name: 'the secret in another parameter', query: { secret: SECRET }, expect: [401] },
				{ name: 'a valid OIDC token instead', headers: bearer(rig.fake.oidc.sign({ aud: secret.url, email: PUSH_SERVICE_ACCOUNT })), expect: [401] },
			]);
			const before = (await rig.triggerItems(secret.id)).items.length;
			expect(before).toBe(0);
			const reply = await rig.postUntilRunning(secret, pushBody(rig.fake.mailbox.historyId, 'genuine'), { query: { token: SECRET } });
			expect(reply.status).toBe(200);
			const { items, executions } = await rig.waitForItems(secret.id, 2);
			expect(executions).toBe(1);
			expect(items).toHaveLength(2);
			expect(new Set(items.map((i) => i.id)).size).toBe(2);
			lines.push(`  shared secret | genuine: ${reply.status}, ${items.length} items in 1 execution (the two waiting mails)`);
		});
	});

	it('refusals are logged as warnings without the secret', async () => {
		await rig.step(async () => {
			const refusals = rig.session.n8n.grep(/Gmail Push Trigger: push refused \((401|403)\)/);
			expect(refusals.length).toBeGreaterThanOrEqual(10);
			expect(rig.session.n8n.log.includes(SECRET)).toBe(false);
			expect(rig.session.n8n.log.includes(rig.privateKey.split('\n')[1])).toBe(false);
			lines.push(`  ${refusals.length} refusals logged as warnings, no secret in the log`);
		});
	});
});

/** A token whose header and signature are genuine but whose payload was replaced. */
function swapPayload(token: string, claims: Record<string, unknown>): string {
	const [header, , signature] = token.split('.');
	return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}
