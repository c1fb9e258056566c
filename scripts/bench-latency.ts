/**
 * Latency benchmark (not a test): how long from a new email to its item in an n8n execution,
 * and what it costs in Gmail calls and quota, per delivery.
 *
 *   npm run bench                         # push, pull (if the Pub/Sub emulator is installed), poll
 *   BENCH_SKIP_POLL=1 npm run bench       # without the poll phase (it takes ~5 minutes)
 *   BENCH_ONLY_BURSTS=1 npm run bench     # only the bursts (push, pull, n8n's built-in Gmail Trigger; ~13 minutes)
 *   BENCH_EMAILS=50 BENCH_POLL_EMAILS=20 BENCH_N8N_MAJOR=1 npm run bench
 *
 * A real n8n (1.123 by default) with the packed package, Google replaced by the fake Google over
 * HTTPS on a free port (n8n's preload redirects Google's 443 there), a service-account credential.
 * - push: Push Authentication none; per email: deliver, POST Gmail's notification to the
 *   Production URL as Pub/Sub would (the test plays Pub/Sub), poll n8n's API until an execution
 *   holds the item. One email at a time.
 * - pull: the Pub/Sub emulator (PUBSUB_EMULATOR_HOST in n8n's env); the fake publishes each
 *   notification to the topic, the node's StreamingPull subscriber receives it. One at a time.
 * - poll: every minute; emails arrive at random moments over a few poll intervals (waiting one
 *   by one would take 30 s per email); each email's latency is its wait for the next poll.
 * - bursts (push and pull): three emails 300 ms apart, then 4 s of silence, BENCH_BURSTS times,
 *   with the fake Gmail dropping notifications as Gmail does (one per second per mailbox): the
 *   second and third emails have no notification and come with the follow-up sync.
 * - built-in: n8n's own Gmail Trigger (n8n-nodes-base.gmailTrigger, polling every minute, same
 *   service account) on the same bursts, for comparison (BENCH_SKIP_BUILTIN=1 leaves it out).
 * The figures come from a fake Gmail on loopback: they measure n8n and the node, not Google.
 */
import { randomUUID } from 'crypto';
import { seededRandom } from '../test/support/fakeGoogle/random';
import { http, itemsOf, requireFromN8n, sleep, waitFor, type ExecutionData, type ExecutionSummary, type N8nMajor } from '../test/support/n8n';
import { findPubSubEmulator, startPubSubEmulator, type PubSubEmulator } from '../test/support/pubsubEmulator';
import { PROJECT, TRIGGER, pushBody, pushWorkflow } from '../test/e2e/helpers/pushRig';
import { startChaosRig, type ChaosRig } from '../test/e2e/chaos/rig';
import { BUILT_IN, builtInCredential, builtInWorkflow } from '../test/e2e/helpers/builtInGmailTrigger';

const EMAILS = Number(process.env.BENCH_EMAILS ?? 50);
const POLL_EMAILS = Number(process.env.BENCH_POLL_EMAILS ?? 20);
const POLL_INTERVALS = Number(process.env.BENCH_POLL_INTERVALS ?? 4);
const MAJOR = Number(process.env.BENCH_N8N_MAJOR ?? 1) as N8nMajor;
const SKIP_POLL = process.env.BENCH_SKIP_POLL === '1';
const SKIP_PULL = process.env.BENCH_SKIP_PULL === '1';
const SEED = Number(process.env.BENCH_SEED ?? 7);
const BURSTS = Number(process.env.BENCH_BURSTS ?? 10);
const BURST_SIZE = 3;
const BURST_GAP_MS = 300;
const SKIP_BUILTIN = process.env.BENCH_SKIP_BUILTIN === '1';
/** BENCH_ONLY_BURSTS=1: only the burst phases (push, pull, built-in). */
const ONLY_BURSTS = process.env.BENCH_ONLY_BURSTS === '1';

interface PhaseResult {
	delivery: string;
	emails: number;
	/** Email → item visible in an execution, ms. */
	latencies: number[];
	/** push only: email → Pub/Sub's POST answered 200 (the node has emitted), ms. */
	acks?: number[];
	gmailCalls: number;
	quota: number;
	seconds: number;
	note?: string;
}

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	if (sorted.length === 0) return NaN;
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

function fmt(ms: number): string {
	if (!Number.isFinite(ms)) return '-';
	return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Items of the workflow's newest executions (the public API lists newest first). */
async function newestItemIds(rig: ChaosRig, workflowId: string, limit = 5, nodeName = TRIGGER): Promise<Set<string>> {
	const query = new URLSearchParams({ workflowId, includeData: 'true', limit: String(limit) });
	const reply = await rig.session.api.api<{ data: ExecutionSummary[] }>('GET', `/executions?${query.toString()}`);
	const flatted = requireFromN8n<{ parse(text: string): unknown }>(MAJOR, 'flatted');
	const ids = new Set<string>();
	for (const execution of reply.json.data) {
		const data = typeof execution.data === 'string' ? (flatted.parse(execution.data) as ExecutionData) : execution.data;
		for (const item of itemsOf({ ...execution, data }, nodeName)) ids.add(String(item.id));
	}
	return ids;
}

/** Waits until an execution of the workflow holds `messageId`; returns when it was first seen. */
async function waitVisible(rig: ChaosRig, workflowId: string, messageId: string, timeoutMs: number, everyMs: number): Promise<number> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const ids = await newestItemIds(rig, workflowId);
		if (ids.has(messageId)) return Date.now();
		if (Date.now() > deadline) throw new Error(`email ${messageId} not emitted within ${timeoutMs} ms`);
		await sleep(everyMs);
	}
}

function gmailUsage(rig: ChaosRig, since: number): { calls: number; quota: number } {
	const calls = rig.fake.calls.filter((c) => c.at >= since && c.method !== 'token' && !c.method.startsWith('oidc.')).length;
	return { calls, quota: rig.fake.quotaUnits({ since }) };
}

function deliver(rig: ChaosRig, label: string): string {
	return rig.fake.mailbox.deliver({ from: 'Bench <bench@example.org>', subject: `bench ${label}`, text: `Body of ${label}` }).id;
}

async function deactivate(rig: ChaosRig, workflowId: string): Promise<void> {
	const reply = await rig.session.api.deactivate(workflowId);
	if (reply.status !== 200) throw new Error(`deactivation: ${reply.status}`);
	await sleep(1000);
}

async function benchPush(rig: ChaosRig): Promise<PhaseResult> {
	const workflow = pushWorkflow('bench push', { pushAuthentication: 'none', pushSecret: undefined });
	const { id, webhookPath } = await rig.deploy(workflow);
	const url = rig.session.n8n.webhookUrl(webhookPath!);
	const post = async (historyId: string) => {
		const now = new Date().toISOString();
		const messageId = randomUUID();
		return await http(url, {
			method: 'POST',
			json: {
				message: { data: Buffer.from(rig.fake.mailbox.notificationData(historyId)).toString('base64'), messageId, message_id: messageId, publishTime: now, publish_time: now },
				subscription: `projects/${PROJECT}/subscriptions/gmail-push-n8n`,
			},
		});
	};
	// One warm-up email (first execution, label cache), not measured.
	deliver(rig, 'push warm-up');
	await post(rig.fake.mailbox.historyId);
	await sleep(2000);

	const since = Date.now();
	const latencies: number[] = [];
	const acks: number[] = [];
	for (let i = 1; i <= EMAILS; i++) {
		const t0 = Date.now();
		const messageId = deliver(rig, `push ${i}`);
		let reply = await post(rig.fake.mailbox.historyId);
		while (reply.status !== 200) {
			// Pub/Sub would redeliver a non-2xx answer.
			await sleep(100);
			reply = await post(rig.fake.mailbox.historyId);
		}
		acks.push(Date.now() - t0);
		latencies.push((await waitVisible(rig, id, messageId, 60_000, 20)) - t0);
		await sleep(300);
	}
	const usage = gmailUsage(rig, since);
	await deactivate(rig, id);
	return { delivery: 'push', emails: EMAILS, latencies, acks, gmailCalls: usage.calls, quota: usage.quota, seconds: (Date.now() - since) / 1000 };
}

async function benchPull(rig: ChaosRig, emulator: PubSubEmulator): Promise<PhaseResult> {
	const topic = `projects/${PROJECT}/topics/gmail-bench`;
	const subscription = `projects/${PROJECT}/subscriptions/gmail-bench-pull`;
	await emulator.createTopic(topic);
	await emulator.createPullSubscription(topic, subscription, 60);
	const workflow = pushWorkflow('bench pull', { delivery: 'pull', topicName: topic, subscriptionName: subscription, pushAuthentication: undefined, pushSecret: undefined });
	const { id } = await rig.deploy(workflow);
	// Gmail's side: each change the watch covers is published to the topic.
	const unsubscribe = rig.fake.mailbox.subscribe((change) => {
		if (change.notifies) void emulator.publish(topic, change.notificationData);
	});
	try {
		deliver(rig, 'pull warm-up');
		await sleep(3000);
		const since = Date.now();
		const latencies: number[] = [];
		for (let i = 1; i <= EMAILS; i++) {
			const t0 = Date.now();
			const messageId = deliver(rig, `pull ${i}`);
			latencies.push((await waitVisible(rig, id, messageId, 60_000, 20)) - t0);
			await sleep(300);
		}
		const usage = gmailUsage(rig, since);
		await deactivate(rig, id);
		return { delivery: 'pull (Pub/Sub emulator)', emails: EMAILS, latencies, gmailCalls: usage.calls, quota: usage.quota, seconds: (Date.now() - since) / 1000 };
	} finally {
		unsubscribe();
	}
}

async function benchPoll(rig: ChaosRig): Promise<PhaseResult> {
	const workflow = pushWorkflow('bench poll', { delivery: 'poll', pollIntervalMinutes: 1, topicName: undefined, pushAuthentication: undefined, pushSecret: undefined });
	const { id } = await rig.deploy(workflow);
	const random = seededRandom(SEED);
	const windowMs = POLL_INTERVALS * 60_000;
	const since = Date.now();
	const offsets = Array.from({ length: POLL_EMAILS }, () => Math.floor(random() * windowMs)).sort((a, b) => a - b);
	const sentAt = new Map<string, number>();
	const seenAt = new Map<string, number>();
	let delivering = true;
	const delivery = (async () => {
		for (const [i, offset] of offsets.entries()) {
			const wait = since + offset - Date.now();
			if (wait > 0) await sleep(wait);
			const messageId = deliver(rig, `poll ${i + 1}`);
			sentAt.set(messageId, Date.now());
		}
		delivering = false;
	})();
	const deadline = since + windowMs + 3 * 60_000;
	while (delivering || seenAt.size < sentAt.size) {
		if (Date.now() > deadline) throw new Error(`poll: ${sentAt.size - seenAt.size} email(s) not emitted in time`);
		const ids = await newestItemIds(rig, id, 20);
		for (const messageId of ids) if (sentAt.has(messageId) && !seenAt.has(messageId)) seenAt.set(messageId, Date.now());
		await sleep(250);
	}
	await delivery;
	const usage = gmailUsage(rig, since);
	await deactivate(rig, id);
	const latencies = [...sentAt].map(([messageId, t0]) => seenAt.get(messageId)! - t0);
	return {
		delivery: 'poll (every 1 min)',
		emails: POLL_EMAILS,
		latencies,
		gmailCalls: usage.calls,
		quota: usage.quota,
		seconds: (Date.now() - since) / 1000,
		note: `emails at random moments over ${POLL_INTERVALS} min; calls include the idle polls`,
	};
}

/**
 * BURSTS bursts of BURST_SIZE emails BURST_GAP_MS apart, 4 s of silence between bursts; each
 * email's latency is from its arrival to its item in an execution. `notify` plays Pub/Sub for
 * the notifications the fake Gmail sends (it drops those within a second of the last, as Gmail).
 */
async function bursts(
	rig: ChaosRig,
	workflowId: string,
	label: string,
	options: { notify?: (data: string) => void; timeoutMs?: number; nodeName?: string; tolerateMissing?: boolean } = {},
): Promise<{ latencies: number[]; since: number; notifications: number; dropped: number; missed: number }> {
	const { notify, timeoutMs = 60_000, nodeName = TRIGGER, tolerateMissing = false } = options;
	const fake = rig.fake.mailbox;
	fake.notificationGapMs = 1000;
	let notifications = 0;
	const unsubscribe = fake.subscribe((change) => {
		if (!change.notifies) return;
		notifications++;
		notify?.(change.notificationData);
	});
	const dropped = fake.droppedNotifications;
	const since = Date.now();
	const latencies: number[] = [];
	let missed = 0;
	try {
		for (let b = 1; b <= BURSTS; b++) {
			const sent: Array<[string, number]> = [];
			for (let i = 1; i <= BURST_SIZE; i++) {
				if (i > 1) await sleep(BURST_GAP_MS);
				sent.push([deliver(rig, `${label} burst ${b}.${i}`), Date.now()]);
			}
			const seenAt = new Map<string, number>();
			const deadline = Date.now() + timeoutMs;
			while (seenAt.size < sent.length) {
				if (Date.now() > deadline) {
					if (!tolerateMissing) throw new Error(`${label}: burst ${b} not emitted within ${timeoutMs} ms`);
					missed += sent.length - seenAt.size;
					break;
				}
				const ids = await newestItemIds(rig, workflowId, 10, nodeName);
				for (const [id] of sent) if (ids.has(id) && !seenAt.has(id)) seenAt.set(id, Date.now());
				await sleep(20);
			}
			for (const [id, at] of sent) if (seenAt.has(id)) latencies.push(seenAt.get(id)! - at);
			await sleep(4000);
		}
	} finally {
		unsubscribe();
		fake.notificationGapMs = 0;
	}
	return { latencies, since, notifications, dropped: fake.droppedNotifications - dropped, missed };
}

/** "history.list 20, messages.get 30": the Gmail calls since `since`, by method. */
function callsByMethod(rig: ChaosRig, since: number): string {
	const counts = new Map<string, number>();
	for (const c of rig.fake.calls) if (c.at >= since && c.method !== 'token' && !c.method.startsWith('oidc.')) counts.set(c.method, (counts.get(c.method) ?? 0) + 1);
	return [...counts].map(([method, n]) => `${method} ${n}`).join(', ');
}

function burstResult(rig: ChaosRig, delivery: string, run: Awaited<ReturnType<typeof bursts>>): PhaseResult {
	const usage = gmailUsage(rig, run.since);
	const calls = callsByMethod(rig, run.since);
	return {
		delivery,
		emails: run.latencies.length,
		latencies: run.latencies,
		gmailCalls: usage.calls,
		quota: usage.quota,
		seconds: (Date.now() - run.since) / 1000,
		note:
			`${BURSTS} bursts of ${BURST_SIZE} emails ${BURST_GAP_MS} ms apart; Gmail (the fake) sent ${run.notifications} notifications and dropped ${run.dropped}; calls: ${calls}` +
			(run.missed > 0 ? `; ${run.missed} email(s) never emitted` : ''),
	};
}

async function benchPushBursts(rig: ChaosRig): Promise<PhaseResult> {
	const workflow = pushWorkflow('bench push bursts', { pushAuthentication: 'none', pushSecret: undefined });
	const { id, webhookPath } = await rig.deploy(workflow);
	const url = rig.session.n8n.webhookUrl(webhookPath!);
	// Plays a push subscription: POSTs each notification Gmail sent, again until answered 2xx.
	const posting: Array<Promise<unknown>> = [];
	const notify = (data: string) => {
		const historyId = String(JSON.parse(data.replace(/"historyId":(\d+)/, '"historyId":"$1"')).historyId);
		posting.push(
			(async () => {
				for (let attempt = 0; attempt < 100; attempt++) {
					const reply = await http(url, { method: 'POST', json: pushBody(historyId, randomUUID()) });
					if (reply.status >= 200 && reply.status < 300) return;
					await sleep(100);
				}
			})(),
		);
	};
	await sleep(2000);
	const run = await bursts(rig, id, 'push', { notify });
	await Promise.allSettled(posting);
	const result = burstResult(rig, 'push, bursts', run);
	await deactivate(rig, id);
	return result;
}

async function benchPullBursts(rig: ChaosRig, emulator: PubSubEmulator): Promise<PhaseResult> {
	const topic = `projects/${PROJECT}/topics/gmail-bench-bursts`;
	const subscription = `projects/${PROJECT}/subscriptions/gmail-bench-bursts-pull`;
	await emulator.createTopic(topic);
	await emulator.createPullSubscription(topic, subscription, 60);
	const workflow = pushWorkflow('bench pull bursts', { delivery: 'pull', topicName: topic, subscriptionName: subscription, pushAuthentication: undefined, pushSecret: undefined });
	const { id } = await rig.deploy(workflow);
	await sleep(2000);
	const run = await bursts(rig, id, 'pull', { notify: (data) => void emulator.publish(topic, data) });
	const result = burstResult(rig, 'pull (Pub/Sub emulator), bursts', run);
	await deactivate(rig, id);
	return result;
}

/** n8n's own Gmail Trigger (v1.3, simplified, INBOX), polling every minute, with the same service account. */
async function benchBuiltInBursts(rig: ChaosRig): Promise<PhaseResult> {
	const credential = await builtInCredential(rig.session, rig.privateKey);
	const workflow = builtInWorkflow('bench built-in Gmail Trigger', { simple: true, filters: { labelIds: ['INBOX'] } }, credential);
	const id = await rig.session.api.importWorkflow(workflow, [credential]);
	const activation = await rig.session.api.activate(id);
	if (activation.status !== 200) throw new Error(`activation of the built-in Gmail Trigger: ${activation.status} ${activation.text.slice(0, 300)}`);
	// Its first poll only notes the time (lastTimeChecked): the bursts start after it.
	const lists = rig.fake.count('messages.list');
	await waitFor('the built-in trigger\'s first poll', () => rig.fake.count('messages.list') > lists, 90_000, 250);
	const run = await bursts(rig, id, 'built-in', { timeoutMs: 3 * 60_000, nodeName: BUILT_IN, tolerateMissing: true });
	const result = burstResult(rig, "n8n's built-in Gmail Trigger (poll every 1 min), bursts", run);
	await deactivate(rig, id);
	return result;
}

function table(results: PhaseResult[]): string {
	const header = ['delivery', 'emails', 'median', 'p95', 'mean', 'max', 'Gmail calls/email', 'quota units/email'];
	const rows = results.map((r) => [
		r.delivery,
		String(r.emails),
		fmt(percentile(r.latencies, 50)),
		fmt(percentile(r.latencies, 95)),
		fmt(mean(r.latencies)),
		fmt(Math.max(...r.latencies)),
		(r.gmailCalls / r.emails).toFixed(2),
		(r.quota / r.emails).toFixed(1),
	]);
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
	const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
	return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
	const started = Date.now();
	const emulatorBin = SKIP_PULL ? undefined : findPubSubEmulator();
	const emulator = emulatorBin ? await startPubSubEmulator({ bin: emulatorBin }) : undefined;
	let rig: ChaosRig | undefined;
	try {
		console.log(`bench: starting n8n ${MAJOR}.x with the package and the fake Google…`);
		rig = await startChaosRig(MAJOR, { seed: SEED, env: emulator ? { PUBSUB_EMULATOR_HOST: emulator.host } : {} });
		const results: PhaseResult[] = [];
		if (!ONLY_BURSTS) {
			console.log(`bench: push, ${EMAILS} emails one at a time…`);
			results.push(await benchPush(rig));
		}
		if (emulator && !ONLY_BURSTS) {
			console.log(`bench: pull, ${EMAILS} emails one at a time…`);
			results.push(await benchPull(rig, emulator));
		} else if (!emulator) {
			console.log('bench: pull skipped (no Pub/Sub emulator found, or BENCH_SKIP_PULL=1)');
		}
		if (!SKIP_POLL && !ONLY_BURSTS) {
			console.log(`bench: poll, ${POLL_EMAILS} emails over ${POLL_INTERVALS} minutes…`);
			results.push(await benchPoll(rig));
		}
		console.log(`bench: push, ${BURSTS} bursts of ${BURST_SIZE} emails ${BURST_GAP_MS} ms apart…`);
		results.push(await benchPushBursts(rig));
		if (emulator) {
			console.log(`bench: pull, ${BURSTS} bursts…`);
			results.push(await benchPullBursts(rig, emulator));
		}
		if (!SKIP_BUILTIN) {
			console.log(`bench: n8n's built-in Gmail Trigger, ${BURSTS} bursts (it polls every minute)…`);
			results.push(await benchBuiltInBursts(rig));
		}
		const push = results.find((r) => r.acks);
		console.log(
			`\nLatency from a new email to its item in an n8n ${MAJOR}.x execution (fake Gmail on loopback, ${(Date.now() - started) / 1000 | 0} s in all):\n` +
				table(results) +
				(push ? `\npush: the Pub/Sub POST was answered 200 (items emitted) after ${fmt(percentile(push.acks!, 50))} median, ${fmt(percentile(push.acks!, 95))} p95` : '') +
				results
					.filter((r) => r.note)
					.map((r) => `\n${r.delivery}: ${r.note}`)
					.join(''),
		);
	} finally {
		await rig?.close();
		await emulator?.stop();
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error);
		process.exit(1);
	},
);
