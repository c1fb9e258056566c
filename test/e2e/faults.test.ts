/**
 * Faults between Gmail and a real n8n (1.123 / 2.41; E2E_N8N_VERSIONS=1,2), push delivery with
 * the full output (bodies fetched), and the rule that nothing is lost or doubled:
 * (a) a stale cursor (history.list 404) is caught up with messages.list, each email once, and
 *     the log names the bound that applied;
 * (b) a 429 storm on history.list: the push is answered non-2xx, no execution, the cursor in the
 *     DB unchanged; once the storm is over Pub/Sub's redelivery emits every email once;
 * (c) messages.get failing for some messages: nothing is partially emitted; the redelivery
 *     emits all of them once; a short blip is absorbed by the retries;
 * (d) n8n's log (debug level) holds neither the credential's private key, nor an access token
 *     the fake issued, nor what the emails say.
 */
import { randomBytes } from 'crypto';
import { SETTLE_MS, pushBody, pushWorkflow, seconds, startRig, type PushWorkflow, type Rig } from './helpers/pushRig';
import { selectedMajors, sleep } from '../support/n8n';
import { seenKeys } from '../../nodes/GmailPushTrigger/core/seen';

jest.setTimeout(180_000);

const SECRET = 'faults-e2e-shared-secret-0123456789';
/** Put at the start of every email body; 24 characters, so its base64 is a clean prefix of the body's. */
const MARKER = `BODYMARK-${randomBytes(15).toString('hex').slice(0, 15)}`;

describe.each(selectedMajors())('faults, in n8n %i.x', (major) => {
	let rig: Rig;
	let wf: PushWorkflow;
	let startedAt = Date.now();
	const lines: string[] = [];
	/** Every email delivered, in order. */
	const delivered: string[] = [];

	const deliver = (subject: string) => {
		const mail = rig.fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject, text: `${MARKER} confidential text of ${subject}` });
		delivered.push(mail.id);
		return mail;
	};
	const push = async (id: string) => await rig.postUntilRunning(wf, pushBody(rig.fake.mailbox.historyId, id), { query: { token: SECRET } });
	const post = async (id: string) => await rig.post(wf, pushBody(rig.fake.mailbox.historyId, id), { query: { token: SECRET } });

	beforeAll(async () => {
		expect(MARKER).toHaveLength(24);
		startedAt = Date.now();
		rig = await startRig(major);
		wf = await rig.deploy(pushWorkflow('faults', { pushAuthentication: 'sharedSecret', pushSecret: SECRET, output: 'full' }));
	}, 300_000);

	afterAll(async () => {
		if (lines.length > 0) console.log(`faults, n8n ${major}.x (${seconds(Date.now() - startedAt)}):\n${lines.join('\n')}`);
		await rig?.close();
	});

	it('(a) stale cursor: the catch-up emits the 3 emails once, logs its bound, and a later push adds nothing', async () => {
		await rig.step(async () => {
			const stale = (await rig.storedState(wf.id)).cursor!;
			// Gmail no longer keeps history from the node's cursor on.
			rig.fake.mailbox.advanceHistoryId();
			rig.fake.mailbox.expireAllHistory();
			const mails = [deliver('stale one'), deliver('stale two'), deliver('stale three')];
			const from = rig.session.n8n.logOffset();
			const since = Date.now();
			const reply = await push('stale-1');
			expect(reply.status).toBe(200);
			const { items, executions } = await rig.waitForItems(wf.id, 3);
			expect(items.map((i) => i.id)).toEqual(mails.map((m) => m.id));
			expect(executions).toBe(1);
			const calls = rig.fake.calls.filter((c) => c.at >= since).map((c) => `${c.method} ${c.status}`);
			expect(calls).toEqual(expect.arrayContaining(['history.list 404', 'users.getProfile 200', 'messages.list 200']));
			const [line] = rig.session.n8n.grep(/older than the history Gmail keeps/, from);
			expect(line).toMatch(
				new RegExp(
					`history cursor ${stale} is older than the history Gmail keeps \\(history\\.list 404\\)\\. Caught up with messages\\.list since \\S+ ` +
						`\\(at most 168 h and 500 messages back; 3 listed, 3 not yet emitted\\); restarting from historyId ${rig.fake.mailbox.historyId}\\.`,
				),
			);
			const state = await rig.storedState(wf.id);
			expect(state.cursor).toBe(rig.fake.mailbox.historyId);
			expect(seenKeys(state, state.recent)).toEqual(expect.arrayContaining(mails.map((m) => `added:${m.id}`)));

			// The same notification again: covered by the new cursor, no Gmail call.
			const again = Date.now();
			expect((await post('stale-1')).status).toBe(200);
			expect(rig.fake.calls.filter((c) => c.at >= again)).toEqual([]);
			// A newer one with nothing new behind it: one history.list (now available), no execution.
			rig.fake.mailbox.advanceHistoryId();
			const later = Date.now();
			expect((await post('stale-2')).status).toBe(200);
			expect(rig.fake.calls.filter((c) => c.at >= later).map((c) => `${c.method} ${c.status}`)).toEqual(['history.list 200']);
			await sleep(SETTLE_MS);
			expect((await rig.triggerItems(wf.id)).items).toHaveLength(3);
			lines.push(`  (a) stale cursor: ${items.length} items in ${executions} execution via ${calls.join(', ')}; log: "${line.replace(/^.*Gmail Push Trigger: /, '').slice(0, 230)}…"`);
		});
	});

	it('(b) a 429 storm on history.list: non-2xx, no execution, cursor unchanged; after it, the redelivery emits each email once', async () => {
		await rig.step(async () => {
			const mails = [deliver('storm one'), deliver('storm two'), deliver('storm three')];
			const before = await rig.storedState(wf.id);
			const itemsBefore = (await rig.triggerItems(wf.id)).items.length;
			const executionsBefore = await rig.executionCount(wf.id);
			rig.fake.faults.failNext('history.list', 429, 10_000, { retryAfterSeconds: 1 });
			const since = Date.now();
			let stormReply;
			try {
				stormReply = await post('storm-1');
				expect([429, 503]).toContain(stormReply.status);
				const attempts = rig.fake.calls.filter((c) => c.at >= since && c.method === 'history.list');
				expect(attempts.length).toBeGreaterThanOrEqual(2);
				expect(attempts.every((c) => c.status === 429)).toBe(true);
				// Retry-After: 1 was honoured between the attempts.
				const gaps = attempts.slice(1).map((c, i) => c.at - attempts[i].at);
				expect(Math.min(...gaps)).toBeGreaterThanOrEqual(900);
				expect(rig.fake.calls.filter((c) => c.at >= since && c.method === 'messages.get')).toEqual([]); // history never got through
				await sleep(SETTLE_MS);
				expect(await rig.executionCount(wf.id)).toBe(executionsBefore);
				expect(await rig.storedState(wf.id)).toEqual(before);
				lines.push(
					`  (b) 429 storm: answered ${stormReply.status} after ${seconds(Date.now() - since - SETTLE_MS)}, ${attempts.length} history.list attempts ${gaps.map((g) => `${g}ms`).join('/')} apart, 0 executions, cursor unchanged`,
				);
			} finally {
				rig.fake.faults.clear();
			}
			// The storm is over: Pub/Sub delivers the same message again.
			const redelivery = await post('storm-1');
			expect(redelivery.status).toBe(200);
			const { items, executions } = await rig.waitForItems(wf.id, itemsBefore + 3);
			expect(items.slice(itemsBefore).map((i) => i.id)).toEqual(mails.map((m) => m.id));
			expect(executions).toBe(executionsBefore + 1);
			// And once more (Pub/Sub may deliver twice): nothing new.
			expect((await post('storm-1')).status).toBe(200);
			await sleep(SETTLE_MS);
			expect((await rig.triggerItems(wf.id)).items).toHaveLength(itemsBefore + 3);
			lines.push(`  (b) after the storm: redelivery ${redelivery.status}, ${items.length - itemsBefore} items in 1 execution, a second redelivery adds nothing`);
		});
	});

	it('(c) messages.get failing for some messages: nothing partially emitted; the redelivery emits all once', async () => {
		await rig.step(async () => {
			const mails = [deliver('fetch one'), deliver('fetch two'), deliver('fetch three'), deliver('fetch four')];
			const failing = [mails[1].id, mails[3].id];
			const before = await rig.storedState(wf.id);
			const itemsBefore = (await rig.triggerItems(wf.id)).items.length;
			const executionsBefore = await rig.executionCount(wf.id);
			rig.fake.faults.failNext('messages.get', 503, 10_000, { when: (r) => failing.some((id) => r.path.endsWith(`/messages/${id}`)) });
			const since = Date.now();
			try {
				const reply = await post('fetch-1');
				expect(reply.status).toBe(503);
				const gets = rig.fake.calls.filter((c) => c.at >= since && c.method === 'messages.get');
				// The two healthy messages were fetched, the two others failed until the budget ran out.
				expect(gets.filter((c) => c.status === 200).map((c) => c.path.split('/').pop()).sort()).toEqual([mails[0].id, mails[2].id].sort());
				expect(gets.filter((c) => c.status === 503).length).toBeGreaterThanOrEqual(4);
				await sleep(SETTLE_MS);
				expect(await rig.executionCount(wf.id)).toBe(executionsBefore);
				expect(await rig.storedState(wf.id)).toEqual(before);
				lines.push(`  (c) messages.get 503 for 2 of 4: answered ${reply.status}, ${gets.length} messages.get (${gets.filter((c) => c.status === 503).length} failed), 0 executions, cursor unchanged`);
			} finally {
				rig.fake.faults.clear();
			}
			const redelivery = await post('fetch-1');
			expect(redelivery.status).toBe(200);
			const { items, executions } = await rig.waitForItems(wf.id, itemsBefore + 4);
			expect(items.slice(itemsBefore).map((i) => i.id)).toEqual(mails.map((m) => m.id));
			expect(executions).toBe(executionsBefore + 1);

			// A short blip (two 503s) is absorbed by the retries: 200 on the first delivery.
			const blip = deliver('fetch after a blip');
			rig.fake.faults.failNext('messages.get', 503, 2);
			const blipReply = await post('fetch-2');
			expect(blipReply.status).toBe(200);
			const after = await rig.waitForItems(wf.id, itemsBefore + 5);
			expect(after.items.slice(itemsBefore + 4).map((i) => i.id)).toEqual([blip.id]);
			lines.push(`  (c) redelivery ${redelivery.status}: ${items.length - itemsBefore} items in 1 execution; a 2×503 blip: ${blipReply.status} at once, 1 item`);
		});
	});

	it('(d) every email was emitted exactly once, and n8n logged no private key, access token or email text', async () => {
		await rig.step(async () => {
			const { items } = await rig.triggerItems(wf.id);
			expect(items.map((i) => i.id)).toEqual(delivered);
			// The marker really went through n8n (full output carries the text) ...
			expect(items.every((i) => String(i.text).startsWith(MARKER))).toBe(true);
			const log = rig.session.n8n.log;
			// ... but not into its log, neither as text nor as Gmail's base64url nor as base64.
			const leaks: string[] = [];
			for (const needle of [MARKER, Buffer.from(MARKER).toString('base64url'), Buffer.from(MARKER).toString('base64'), 'confidential text of']) {
				if (log.includes(needle)) leaks.push(`email text ${needle}`);
			}
			const keyBody = rig.privateKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
			for (let i = 0; i + 32 <= keyBody.length; i += 32) if (log.includes(keyBody.slice(i, i + 32))) leaks.push(`private key chunk at ${i}`);
			for (const line of rig.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) if (log.includes(line)) leaks.push('private key line');
			const tokens = [...rig.fake.auth.tokens.keys()];
			expect(tokens.length).toBeGreaterThanOrEqual(1);
			for (const token of tokens) if (log.includes(token.replace(/^ya29\.fake-/, ''))) leaks.push(`access token ${token.slice(0, 16)}…`);
			expect(leaks).toEqual([]);
			lines.push(`  (d) ${items.length} items, each email once; log (${log.length} chars, debug level) free of the private key, ${tokens.length} access token(s) and the body marker`);
		});
	});
});
