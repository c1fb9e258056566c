/**
 * Many-triggers benchmark (not a test): what 100 active Gmail Push Triggers, one per mailbox,
 * add to one n8n, idle and when each mailbox receives one email a minute, and what each trigger
 * spends of its mailbox's Gmail quota.
 *
 *   npm run bench:many
 *   BENCH_TRIGGERS=20 BENCH_IDLE_SECONDS=60 BENCH_ACTIVE_MINUTES=2 BENCH_N8N_MAJOR=2 npm run bench:many
 *
 * A real n8n (1.123 by default) with the packed package, the fake Google over HTTPS (n8n's
 * preload redirects Google's 443 there) holding one mailbox per trigger: each workflow has its
 * own service-account credential impersonating its own user. Push delivery, the bench playing
 * Pub/Sub: each email is followed by Gmail's notification POSTed to that workflow's Production
 * URL. Phases:
 * - baseline: n8n with no workflow, BENCH_IDLE_SECONDS;
 * - idle: the triggers active, no mail, BENCH_IDLE_SECONDS (after a settle of 30 s);
 * - active: BENCH_ACTIVE_MINUTES minutes, the emails spread evenly: every mailbox one a minute.
 * Memory is the resident set of n8n's process group (n8n 2.x adds its task runner), sampled
 * every second (median and largest); CPU is the group's user+system time over the phase's
 * wall time. Gmail calls and quota units are counted by the fake. A day of idling is not
 * waited out: the idle phase counts what the triggers call when nothing happens, and the day's
 * quota is the node's two periodic duties at Gmail's prices (a watch renewal a day, a
 * safety-net history.list an hour by default).
 */
import { readFileSync, readdirSync } from 'fs';
import { randomUUID } from 'crypto';
import { QUOTA_UNITS } from '../test/support/fakeGoogle';
import { http, sleep, sqlite, waitFor, type CredentialRef, type N8nMajor } from '../test/support/n8n';
import { SERVICE_ACCOUNT, TRIGGER, pushBody, pushWorkflow } from '../test/e2e/helpers/pushRig';
import { startChaosRig } from '../test/e2e/chaos/rig';

const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 100);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 120);
const ACTIVE_MINUTES = Number(process.env.BENCH_ACTIVE_MINUTES ?? 4);
const MAJOR = Number(process.env.BENCH_N8N_MAJOR ?? 1) as N8nMajor;
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** The processes of n8n's group (n8n itself, and its task runner on 2.x). */
function groupPids(leader: number): number[] {
	const pids: number[] = [];
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		try {
			const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(fields[2]) === leader) pids.push(Number(name)); // field 5: process group
		} catch {
			// gone meanwhile
		}
	}
	return pids;
}

function sample(leader: number): { rssBytes: number; cpuSeconds: number } {
	let rssBytes = 0;
	let ticks = 0;
	for (const pid of groupPids(leader)) {
		try {
			const status = readFileSync(`/proc/${pid}/status`, 'utf8');
			rssBytes += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
			const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
		} catch {
			// gone meanwhile
		}
	}
	return { rssBytes, cpuSeconds: ticks / CLOCK_TICKS };
}

interface Phase {
	name: string;
	seconds: number;
	rssMedian: number;
	rssMax: number;
	cpuPercent: number;
	gmailCalls: number;
	quota: number;
}

/** Samples n8n every second while `during` runs; returns the phase's figures. */
async function measure(name: string, leader: number, calls: () => Array<{ method: string }>, during: () => Promise<void>): Promise<Phase> {
	const callsBefore = calls().length;
	const start = sample(leader);
	const startedAt = Date.now();
	const rss: number[] = [];
	let running = true;
	const sampler = (async () => {
		while (running) {
			rss.push(sample(leader).rssBytes);
			await sleep(1000);
		}
	})();
	await during();
	running = false;
	await sampler;
	const end = sample(leader);
	const seconds = (Date.now() - startedAt) / 1000;
	const made = calls().slice(callsBefore).filter((c) => c.method !== 'token' && !c.method.startsWith('oidc.'));
	const sorted = [...rss].sort((a, b) => a - b);
	return {
		name,
		seconds,
		rssMedian: sorted[Math.floor(sorted.length / 2)] ?? end.rssBytes,
		rssMax: sorted[sorted.length - 1] ?? end.rssBytes,
		cpuPercent: ((end.cpuSeconds - start.cpuSeconds) / seconds) * 100,
		gmailCalls: made.length,
		quota: made.reduce((sum, c) => sum + (QUOTA_UNITS[c.method] ?? 0), 0),
	};
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

async function main(): Promise<void> {
	const rig = await startChaosRig(MAJOR);
	const { fake, session } = rig;
	const leader = session.n8n.pid;
	if (leader === undefined) throw new Error('n8n has no pid');
	const calls = () => fake.calls;
	try {
		// n8n's own start-up work settles first (its resident set falls for the first minute or so).
		await sleep(Number(process.env.BENCH_SETTLE_SECONDS ?? 90) * 1000);
		const baseline = await measure('baseline (no workflow)', leader, calls, () => sleep(IDLE_SECONDS * 1000));

		const mailboxes = Array.from({ length: TRIGGERS }, (_, i) => (i === 0 ? fake.mailbox : fake.addMailbox(`user${i}@example.com`)));
		const setupStarted = Date.now();
		const deployed: Array<{ id: string; url: string; email: string }> = [];
		for (const [i, mailbox] of mailboxes.entries()) {
			const credential: CredentialRef =
				i === 0
					? rig.credential
					: await session.api.createCredential(`Gmail Push ${mailbox.emailAddress}`, 'gmailPushServiceAccountApi', {
							email: SERVICE_ACCOUNT,
							privateKey: rig.privateKey,
							delegatedEmail: mailbox.emailAddress,
						});
			const workflow = pushWorkflow(`many ${i}`, { pushAuthentication: 'none', pushSecret: undefined });
			const trigger = workflow.nodes.find((n) => n.name === TRIGGER)!;
			trigger.webhookId = randomUUID();
			const id = await session.api.importWorkflow(workflow, [credential]);
			const activation = await session.api.activate(id);
			if (activation.status !== 200) throw new Error(`activation ${i}: ${activation.status} ${activation.text.slice(0, 300)}`);
			const webhookPath = `${trigger.webhookId}/webhook`;
			await session.api.waitForWebhookRegistered(webhookPath, 120_000);
			deployed.push({ id, url: session.n8n.webhookUrl(webhookPath), email: mailbox.emailAddress });
		}
		await waitFor(`${TRIGGERS} watches`, () => mailboxes.every((m) => m.watch !== undefined), 300_000, 500);
		const setupSeconds = (Date.now() - setupStarted) / 1000;
		const activationCalls = fake.calls.filter((c) => c.method !== 'token' && !c.method.startsWith('oidc.'));
		const activationQuota = activationCalls.reduce((sum, c) => sum + (QUOTA_UNITS[c.method] ?? 0), 0);
		await sleep(30_000);

		const idle = await measure(`idle (${TRIGGERS} triggers)`, leader, calls, () => sleep(IDLE_SECONDS * 1000));

		let sent = 0;
		let refused = 0;
		const spacingMs = 60_000 / TRIGGERS;
		const active = await measure(`active (each mailbox 1 email/min)`, leader, calls, async () => {
			const startedAt = Date.now();
			const total = ACTIVE_MINUTES * TRIGGERS;
			const posts: Array<Promise<void>> = [];
			for (let n = 0; n < total; n++) {
				const wait = startedAt + n * spacingMs - Date.now();
				if (wait > 0) await sleep(wait);
				const k = n % TRIGGERS;
				const message = mailboxes[k].deliver({ subject: `bench ${n}` });
				sent++;
				posts.push(
					(async () => {
						const reply = await http(deployed[k].url, { method: 'POST', json: pushBody(String(message.historyId), String(n), deployed[k].email) });
						if (reply.status < 200 || reply.status >= 300) refused++;
					})(),
				);
			}
			await Promise.all(posts);
			await sleep(5000);
		});

		const ids = deployed.map((d) => `'${d.id}'`).join(',');
		const rows = await sqlite(session.userFolder, `SELECT status, COUNT(*) AS n FROM execution_entity WHERE workflowId IN (${ids}) GROUP BY status`);
		const statuses = Object.fromEntries(((rows.trim() ? JSON.parse(rows) : []) as Array<{ status: string; n: number }>).map((r) => [r.status, r.n]));

		// Every trigger's cursor reached its mailbox's head: every email was synced.
		let behind = 0;
		for (const [k, d] of deployed.entries()) if ((await rig.storedState(d.id)).cursor !== mailboxes[k].historyId) behind++;

		// A day of idling: its two duties, a watch renewal a day and a safety-net sync an hour
		// (one history.list when nothing is new), at Gmail's prices.
		const watchUnits = QUOTA_UNITS['users.watch'] ?? 0;
		const syncUnits = QUOTA_UNITS['history.list'] ?? 0;
		const perDay = watchUnits + syncUnits * 24;

		const row = (p: Phase) =>
			`| ${p.name} | ${p.seconds.toFixed(0)} s | ${mib(p.rssMedian)} MiB | ${mib(p.rssMax)} MiB | ${p.cpuPercent.toFixed(1)} % | ${p.gmailCalls} | ${p.quota} |`;
		console.log(
			[
				`bench-many: n8n ${MAJOR}.x, ${TRIGGERS} Gmail Push Triggers (push delivery), one mailbox each`,
				'',
				'| phase | length | RSS median | RSS max | CPU (of one core) | Gmail calls | quota units |',
				'|---|---|---|---|---|---|---|',
				row(baseline),
				row(idle),
				row(active),
				'',
				`added by ${TRIGGERS} idle triggers: ${mib(idle.rssMedian - baseline.rssMedian)} MiB (${((idle.rssMedian - baseline.rssMedian) / TRIGGERS / 1024).toFixed(0)} KiB each), ` +
					`CPU ${(idle.cpuPercent - baseline.cpuPercent).toFixed(2)} points`,
				`added when each receives one email a minute: ${mib(active.rssMedian - baseline.rssMedian)} MiB median, CPU ${(active.cpuPercent - baseline.cpuPercent).toFixed(1)} points; ` +
					`${sent} emails sent, ${refused} pushes refused, executions ${JSON.stringify(statuses)}, ${behind} triggers behind their mailbox; ` +
					`${(active.quota / Math.max(1, sent)).toFixed(1)} quota units and ${(active.gmailCalls / Math.max(1, sent)).toFixed(1)} Gmail calls per email`,
				`activation of all ${TRIGGERS}: ${setupSeconds.toFixed(0)} s, ${activationCalls.length} Gmail calls, ${activationQuota} units (${(activationQuota / TRIGGERS).toFixed(0)} per trigger)`,
				`idle quota per trigger: ${(idle.quota / TRIGGERS).toFixed(1)} units in the ${IDLE_SECONDS} s idle phase; ` +
					`per day ${perDay} units (one watch renewal ${watchUnits} + 24 hourly safety-net syncs × history.list ${syncUnits}) of the 21,600,000 a mailbox may spend a day (15,000 a minute)`,
			].join('\n'),
		);
		if (refused > 0 || behind > 0 || (statuses.error ?? 0) > 0) process.exitCode = 1;
	} finally {
		await rig.close();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
