/**
 * Chaos: never lose or double an email (push delivery, in a real n8n 1.123 / 2.41).
 *
 * The test plays Gmail and Pub/Sub around a real n8n with the packed package, the push workflow
 * (service account, INBOX, messageAdded, simplified output, Push Authentication: none):
 * - at least CHAOS_EMAILS (default 1,000) INBOX emails arrive in small random bursts (plus a few
 *   sent mails that must never be emitted); each INBOX email makes Gmail publish its
 *   notification (`mailbox.notificationData()` at that moment);
 * - Pub/Sub (chaos/pubsub.ts) drops 5% of the notifications, duplicates 20%, reorders its queue
 *   with random swaps within a window, POSTs with 4 in flight, and re-queues every non-2xx
 *   answer or connection error with backoff (at-least-once redelivery);
 * - 20% of history.list and messages.get calls fail with 429 or 503 (seeded faults of the fake),
 *   which the node's retries absorb; three storms outlast its retry budget (history.list failing
 *   8 times in a row, twice; messages.get of one email 8 times), so those pushes get 503 and
 *   must be redelivered;
 * - halfway, n8n is stopped gracefully; emails and pushes go on while it is down (the pushes fail
 *   and are re-queued); then it starts again on the same user folder;
 * - finally one notification that is not dropped carries the mailbox's current historyId (Gmail's
 *   next notification would), and the test waits until no push is pending and executions stop.
 * Then every item of every execution is collected: each INBOX email must be emitted exactly once,
 * apart from the executions whose outcome n8n reported only after the stop: they go out again
 * after the restart, marked possibleDuplicate (README, What "exactly once" means).
 *
 * Deterministic choices (bursts, pauses, drops, duplicates, swaps, faults, history-id gaps) come
 * from CHAOS_SEED (printed); timing on a loaded machine still varies from run to run.
 * Versions: E2E_N8N_VERSIONS=1,2 (default both); CHAOS_EMAILS=1000.
 * No timing is asserted: every wait is generous and only bounds a hang.
 */
import { seededRandom } from '../support/fakeGoogle/random';
import { itemsOf, selectedMajors, sleep } from '../support/n8n';
import { PROJECT, TRIGGER, pushWorkflow } from './helpers/pushRig';
import { PushSimulator } from './chaos/pubsub';
import { startChaosRig, type ChaosRig } from './chaos/rig';

const SEED = Number(process.env.CHAOS_SEED ?? 20250917);
const EMAILS = Number(process.env.CHAOS_EMAILS ?? 1000);
/** How long emails keep arriving (and pushes keep failing) while n8n is down. */
const DOWN_MS = 4000;

jest.setTimeout(15 * 60_000);

const secondsSince = (t: number): string => ((Date.now() - t) / 1000).toFixed(1);

// The versions of E2E_N8N_VERSIONS, like every suite: each half of scripts/test-e2e.sh runs its own.
describe.each(selectedMajors())('chaos, push delivery, in n8n %i.x', (major) => {
	let rig: ChaosRig;
	let workflowId: string;
	let webhookPath: string;
	let setupSeconds = '';
	/** Set while the Pub/Sub simulator runs, so a failed test still stops it. */
	let pubsubRunning: PushSimulator | undefined;

	beforeAll(async () => {
		const setupStartedAt = Date.now();
		rig = await startChaosRig(major, { seed: SEED });
		await rig.step(async () => {
			const workflow = pushWorkflow('chaos', { pushAuthentication: 'none', pushSecret: undefined, labelIds: ['INBOX'], events: ['messageAdded'], output: 'simplified' });
			const deployed = await rig.deploy(workflow);
			workflowId = deployed.id;
			webhookPath = deployed.webhookPath!;
		});
		setupSeconds = secondsSince(setupStartedAt);
	}, 10 * 60_000);

	afterAll(async () => {
		await pubsubRunning?.stop();
		await rig?.close();
	});

	it(`${EMAILS} emails through drops, duplicates, reordering, Gmail faults and a restart: each emitted exactly once (again only marked possibleDuplicate)`, async () => {
		await rig.step(async () => {
			const startedAt = Date.now();
			const { fake, session } = rig;
			const random = seededRandom(SEED);
			const pubsub = new PushSimulator({
				url: () => session.n8n.webhookUrl(webhookPath),
				subscription: `projects/${PROJECT}/subscriptions/gmail-push-n8n`,
				seed: SEED + 3,
				dropRate: 0.05,
				duplicateRate: 0.2,
				reorderWindow: 8,
				reorderRate: 0.5,
				concurrency: 4,
				minBackoffMs: 100,
				maxBackoffMs: 3000,
				ackDeadlineMs: 60_000,
			});
			fake.resetCalls();
			fake.faults.failRate('history.list', 0.2, [429, 503], SEED + 1);
			fake.faults.failRate('messages.get', 0.2, [429, 503], SEED + 2);
			pubsub.start();
			pubsubRunning = pubsub;

			/** INBOX emails, in delivery order: each must be emitted exactly once. */
			const delivered: string[] = [];
			/** Sent mails (no INBOX label): must never be emitted. */
			const sent: string[] = [];
			const restart: { at?: number; stopMs?: number; startMs?: number; exit?: string; deliveredWhileDown: number; done?: Promise<void>; downOver?: boolean } = { deliveredWhileDown: 0 };
			const restartAt = Math.floor(EMAILS / 2);
			/**
			 * Storms longer than the node's retry budget (7 s), so some pushes are answered 503 and
			 * must be redelivered: history.list failing 8 times in a row, and messages.get of one
			 * email failing 8 times (the other emails of that sync are fetched fine: nothing of it
			 * may be emitted until the redelivery gets them all).
			 */
			const storms = new Map<number, (id: string) => void>([
				[Math.floor(EMAILS * 0.2), () => fake.faults.failNext('history.list', 503, 8)],
				[Math.floor(EMAILS * 0.65), (id) => fake.faults.failNext('messages.get', 429, 8, { when: (r) => r.path.endsWith(`/${id}`) })],
				[Math.floor(EMAILS * 0.85), () => fake.faults.failNext('history.list', 429, 8)],
			]);
			let down = false;

			const restartN8n = async () => {
				restart.at = delivered.length;
				const t0 = Date.now();
				down = true;
				await session.n8n.stop(90_000);
				restart.stopMs = Date.now() - t0;
				restart.exit = session.n8n.tail(20).match(/n8n exited \(([^)]*)\)|did not stop within/)?.[0] ?? '?';
				await sleep(DOWN_MS); // emails keep arriving, pushes keep failing and are re-queued
				restart.downOver = true;
				const t1 = Date.now();
				await session.n8n.start();
				await session.api.waitForWebhookRegistered(webhookPath, 120_000);
				down = false;
				restart.startMs = Date.now() - t1;
			};

			while (delivered.length < EMAILS) {
				const burst = Math.min(EMAILS - delivered.length, 1 + Math.floor(random() * 8));
				for (let i = 0; i < burst; i++) {
					if (random() < 0.05) {
						sent.push(fake.mailbox.sendMail({ subject: `chaos sent ${sent.length + 1}` }).id);
					}
					const n = delivered.length + 1;
					const mail = fake.mailbox.deliver({ from: 'Chaos Monkey <chaos@example.org>', subject: `chaos ${n}`, text: `Body of chaos ${n}` });
					delivered.push(mail.id);
					if (down) restart.deliveredWhileDown++;
					pubsub.publish(fake.mailbox.notificationData());
					storms.get(delivered.length)?.(mail.id);
					if (delivered.length === restartAt) {
						restart.done = restartN8n();
						restart.done.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
					}
				}
				// Mostly short pauses (the engine falls behind and syncs grow), now and then a long
				// one (it catches up, so the next bursts get syncs of their own).
				await sleep(random() < 0.1 ? 800 + Math.floor(random() * 1700) : 30 + Math.floor(random() * 300));
				// Mail goes on for DOWN_MS of downtime; then wait for n8n to be back before the rest.
				if (restart.done && restart.downOver && down) await restart.done;
			}
			await restart.done;
			const deliveredAt = Date.now();

			// Gmail's next notification would carry the current historyId: this one is not dropped.
			pubsub.publish(fake.mailbox.notificationData(), { reliable: true });
			await pubsub.drained(5 * 60_000);
			const drainedAt = Date.now();
			const statuses = await executionsSettled(rig, workflowId);
			await pubsub.stop();
			pubsubRunning = undefined;
			fake.faults.clear();

			const executions = await session.api.executions(workflowId);
			const all = executions.flatMap((e) => itemsOf(e, TRIGGER));
			// The repeats after the restart, marked, are counted apart: each names an email emitted before.
			const repeats = all.filter((item) => item.possibleDuplicate === true);
			const items = all.filter((item) => item.possibleDuplicate !== true);
			const ids = items.map((item) => String(item.id));
			const timesEmitted = new Map<string, number>();
			for (const id of ids) timesEmitted.set(id, (timesEmitted.get(id) ?? 0) + 1);
			// An email whose first execution crashed with the stop is in a marked one only.
			for (const item of repeats) if (!timesEmitted.has(String(item.id))) timesEmitted.set(String(item.id), 1);
			const deliveredSet = new Set(delivered);
			const emitted = timesEmitted.size;
			const lost = delivered.filter((id) => !timesEmitted.has(id));
			const doubled = [...timesEmitted].filter(([, n]) => n > 1).map(([id, n]) => `${id}×${n}`);
			const strays = [...timesEmitted.keys()].filter((id) => !deliveredSet.has(id));
			const position = new Map(delivered.map((id, i) => [id, i]));
			const outOfOrder = ids.filter((id, i) => i > 0 && (position.get(id) ?? 0) < (position.get(ids[i - 1]) ?? 0)).length;

			const notProcessed = session.n8n.grep(/Gmail Push Trigger: notification not processed/).length;
			const gmailCalls = fake.calls.filter((c) => c.method !== 'token' && !c.method.startsWith('oidc.'));
			const failed = gmailCalls.filter((c) => c.status >= 400).length;
			const head = fake.mailbox.historyId;
			const stored = await rig.storedState(workflowId);
			const cursor = stored.cursor;
			const staticDataBytes = Buffer.byteLength(JSON.stringify(stored));
			const s = pubsub.stats;
			console.log(
				`chaos: delivered ${delivered.length}, pushes ${s.posts} (dropped ${s.dropped}, duplicated ${s.duplicated}, redelivered ${s.redelivered}), ` +
					`gmail calls ${gmailCalls.length} (failed ${failed}), quota ${fake.quotaUnits()} units, emitted ${emitted}, lost ${lost.length}, doubled ${doubled.length}, ` +
					`restarts 1, seed ${SEED}, ${secondsSince(startedAt)} s\n` +
					`  n8n ${major}.x: setup ${setupSeconds} s; deliveries ${((deliveredAt - startedAt) / 1000).toFixed(1)} s, drain ${((drainedAt - deliveredAt) / 1000).toFixed(1)} s; ` +
					`restart at email ${restart.at}: stop ${((restart.stopMs ?? 0) / 1000).toFixed(1)} s (${restart.exit}), start ${((restart.startMs ?? 0) / 1000).toFixed(1)} s, ${restart.deliveredWhileDown} emails while down\n` +
					`  notifications ${s.published}, swaps ${s.swapped}, answers ${JSON.stringify(s.answers)}, most attempts for one push ${s.maxAttempts}; ` +
					`storms ${storms.size} (pushes answered non-2xx after Gmail failures: ${notProcessed}); ` +
					`executions ${executions.length} ${JSON.stringify(statuses)}; items ${items.length} (and ${repeats.length} marked possibleDuplicate), out of order ${outOfOrder}; ` +
					`sent mails ${sent.length} (emitted ${strays.length}); history.list ${fake.count('history.list')}, messages.get ${fake.count('messages.get')}, labels.list ${fake.count('labels.list')}, users.watch ${fake.count('users.watch')}; ` +
					`cursor ${cursor} / head ${head}; static data ${staticDataBytes} bytes`,
			);

			expect(lost.slice(0, 20)).toEqual([]);
			expect(doubled.slice(0, 20)).toEqual([]);
			expect(strays.slice(0, 20)).toEqual([]);
			expect(lost.length).toBe(0);
			expect(doubled.length).toBe(0);
			expect(emitted).toBe(delivered.length);
			expect(items.length + repeats.filter((item) => !ids.includes(String(item.id))).length).toBe(delivered.length);
			// n8n rewrites the static data on every emit: it stays small however much mail went through.
			expect(staticDataBytes).toBeLessThanOrEqual(16 * 1024);
			expect(stored.recent).toBeUndefined();
		});
	});
});

/**
 * Waits until the workflow's executions stop arriving: no execution new, running or waiting, and
 * the count unchanged, for `quietMs` in a row. Returns the executions by status.
 */
async function executionsSettled(rig: ChaosRig, workflowId: string, quietMs = 5000, timeoutMs = 5 * 60_000): Promise<Record<string, number>> {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	let quietSince = Date.now();
	for (;;) {
		const statuses = await rig.executionStatuses(workflowId);
		const key = JSON.stringify(statuses);
		const active = (statuses.new ?? 0) + (statuses.running ?? 0) + (statuses.waiting ?? 0);
		if (key !== last || active > 0) {
			last = key;
			quietSince = Date.now();
		} else if (Date.now() - quietSince >= quietMs) {
			return statuses;
		}
		if (Date.now() > deadline) throw new Error(`executions still arriving after ${timeoutMs} ms: ${key}`);
		await sleep(500);
	}
}
