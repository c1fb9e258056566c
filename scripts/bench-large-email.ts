/**
 * Large-email benchmark (not a test): how much n8n's memory grows while the trigger emits one
 * 25 MB email with its attachment downloaded as binary data (Whole Email + Download
 * Attachments), beside n8n's built-in Gmail Trigger (Simplify off + Download Attachments).
 *
 *   npm run bench:large                    # n8n 1.123; ours in n8n's default and filesystem binary modes, then the built-in
 *   BENCH_N8N_MAJOR=2 BENCH_SKIP_BUILTIN=1 npm run bench:large
 *
 * Each phase starts its own n8n (with the packed package) and the fake Google over HTTPS, and
 * samples the n8n process's resident memory (/proc/<pid>/status, VmRSS) every 20 ms from just
 * before the email is delivered until its execution is saved. The figure is the peak minus the
 * resident memory before: how much more memory n8n needed for this email.
 */
import { randomBytes } from 'crypto';
import { readFileSync } from 'fs';
import { sleep, waitFor, type N8nMajor } from '../test/support/n8n';
import { activateAndWait, pushNotification, startE2e, triggerWorkflow, type E2eContext } from '../test/e2e/deliveryHarness';
import { BUILT_IN, builtInCredential, builtInWorkflow } from '../test/e2e/helpers/builtInGmailTrigger';

const MAJOR = Number(process.env.BENCH_N8N_MAJOR ?? 1) as N8nMajor;
const SKIP_BUILTIN = process.env.BENCH_SKIP_BUILTIN === '1';
/** Gmail's limit is 25 MB for the whole message: an 18.3 MB file is 25 MB once base64-encoded. */
const ATTACHMENT_BYTES = Number(process.env.BENCH_ATTACHMENT_BYTES ?? 18_300_000);
const MB = 1024 * 1024;

function rssOf(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples the RSS until stopped; returns the peak. */
function sampler(pid: number): { stop(): number } {
	let peak = rssOf(pid);
	const timer = setInterval(() => {
		try {
			peak = Math.max(peak, rssOf(pid));
		} catch {
			// the process is gone: keep the peak so far
		}
	}, 20);
	return {
		stop() {
			clearInterval(timer);
			return peak;
		},
	};
}

interface Result {
	phase: string;
	rawBytes: number;
	before: number;
	peak: number;
	seconds: number;
	binaryBytes?: number;
}

async function measure(phase: string, env: Record<string, string>, setUp: (ctx: E2eContext) => Promise<{ id: string; node: string; notify?: () => Promise<void> }>): Promise<Result> {
	const ctx = await startE2e(MAJOR, env);
	try {
		const { id, node, notify } = await setUp(ctx);
		const pid = ctx.session.n8n.pid;
		if (!pid) throw new Error('n8n has no pid');
		await sleep(5000); // let start-up work settle
		const before = rssOf(pid);
		const watch = sampler(pid);
		const started = Date.now();
		const message = ctx.fake.mailbox.deliver({
			subject: 'A large email',
			text: 'The file is attached.',
			attachments: [{ filename: 'large.bin', mimeType: 'application/octet-stream', content: randomBytes(ATTACHMENT_BYTES) }],
		});
		await notify?.();
		const executions = await waitFor(
			'the execution with the large email',
			async () => {
				const list = (await ctx.session.api.executions(id)).filter((e) => e.stoppedAt);
				return list.length > 0 ? list : undefined;
			},
			180_000,
			500,
		);
		const seconds = (Date.now() - started) / 1000;
		await sleep(1000);
		const peak = watch.stop();
		const item = executions[0].data?.resultData.runData[node]?.[0]?.data?.main?.[0]?.[0] as { binary?: Record<string, { fileSize?: string }> } | undefined;
		const fileSize = item?.binary?.attachment_0?.fileSize;
		console.log(`bench: ${phase}: attachment in the item: ${fileSize ?? 'none'}`);
		return { phase, rawBytes: message.built.raw.length, before, peak, seconds };
	} finally {
		await ctx.close();
	}
}

async function ours(ctx: E2eContext): Promise<{ id: string; node: string; notify: () => Promise<void> }> {
	const workflow = triggerWorkflow({ name: 'bench large email', delivery: 'push', parameters: { output: 'email', options: { downloadAttachments: true } } });
	// The trigger alone, as in the built-in's workflow: a second node would store the item twice.
	workflow.nodes = workflow.nodes.slice(0, 1);
	workflow.connections = {};
	const id = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
	await activateAndWait(ctx, id, workflow.name);
	await ctx.session.api.waitForWebhookRegistered(`${workflow.webhookId}/webhook`);
	return { id, node: 'Gmail Push Trigger', notify: async () => void (await pushNotification(ctx, workflow.webhookId, ctx.fake.mailbox.historyId)) };
}

async function builtIn(ctx: E2eContext): Promise<{ id: string; node: string }> {
	const credential = await builtInCredential(ctx.session, ctx.privateKey);
	const workflow = builtInWorkflow('bench large email, built-in', { simple: false, options: { downloadAttachments: true } }, credential, true);
	const id = await ctx.session.api.importWorkflow(workflow, [credential]);
	const lists = ctx.fake.count('messages.list');
	const reply = await ctx.session.api.activate(id);
	if (reply.status !== 200) throw new Error(`activation of the built-in: ${reply.status} ${reply.text.slice(0, 300)}`);
	await waitFor('the built-in trigger\'s first poll', () => ctx.fake.count('messages.list') > lists, 90_000, 250);
	return { id, node: BUILT_IN };
}

async function main(): Promise<void> {
	const results: Result[] = [];
	results.push(await measure("ours, n8n's default binary mode (in memory)", {}, ours));
	results.push(await measure('ours, filesystem binary mode', { N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem' }, ours));
	if (!SKIP_BUILTIN) results.push(await measure("n8n's built-in Gmail Trigger, default binary mode", {}, builtIn));
	console.log(`\nn8n ${MAJOR}.x, one email of ${(results[0].rawBytes / MB).toFixed(1)} MiB raw (an attachment of ${(ATTACHMENT_BYTES / MB).toFixed(1)} MiB):`);
	console.log('| trigger | RSS before | peak | growth | growth / email size | email to saved execution |');
	console.log('|---|---|---|---|---|---|');
	for (const r of results) {
		const growth = r.peak - r.before;
		console.log(`| ${r.phase} | ${(r.before / MB).toFixed(0)} MiB | ${(r.peak / MB).toFixed(0)} MiB | ${(growth / MB).toFixed(0)} MiB | ${(growth / r.rawBytes).toFixed(1)}× | ${r.seconds.toFixed(1)} s |`);
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error);
		process.exit(1);
	},
);
