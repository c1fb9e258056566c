/**
 * n8n's queue mode for real (n8n 1.123 and 2.41): PostgreSQL and Redis from Debian's packages,
 * one main process, two workers and one webhook process (test/support/queueStack.ts), Google's
 * Pub/Sub emulator and the fake Gmail, with n8n's default queue settings: a dead worker's job
 * counts as stalled once its 60 s lock lapses, checked every 30 s.
 *
 * Pull and poll, side by side on one mailbox: QUEUE_EMAILS (default 1,000) emails arrive in
 * bursts; each execution waits 3 s on a worker (a Wait node), so that killing a worker hits
 * executions. While they run, the worker that runs a poll execution is killed with SIGKILL and
 * started again: n8n marks its executions crashed and never runs them again, and the trigger
 * emits their emails again in new executions. Then the main process is restarted once while mail
 * keeps coming: the executions whose outcome it had not learned go out again after the restart,
 * marked possibleDuplicate. In the end every email is in a successful execution of each
 * workflow, in a second one only marked so, and every execution ran on a worker.
 *
 * A rolling deploy: a worker killed during a pull execution (and started again) and the main
 * restarted 20 s later, before n8n's stall detection reports the killed executions (the
 * restarted main never hears of them): the trigger emits what the state it saved lists as
 * unsettled again at its start, marked possibleDuplicate, so every email is in a successful
 * execution.
 *
 * Push delivery with the main serving no production webhooks (N8N_DISABLE_PRODUCTION_MAIN_PROCESS,
 * the set-up with webhook processes) is refused at activation, naming pull.
 */
import { randomUUID } from 'node:crypto';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { startQueueStack, type QueueStack } from '../support/queueStack';
import { itemsOf, selectedMajors, sleep, waitFor, type ExecutionSummary, type N8nProcess, type WorkflowJson } from '../support/n8n';
import { PROJECT, TRIGGER, triggerWorkflow, type Delivery } from './deliveryHarness';

const EMAILS = Number(process.env.QUEUE_EMAILS ?? 1000);
/** Most of the mail comes over about 70 s, so executions of both workflows run when the worker is killed; the rest while the main restarts. */
const PRODUCE_SECONDS = 70;
const LATE_SHARE = 0.1;
const WAIT_SECONDS = 3;
const RESTART_EMAILS = Number(process.env.QUEUE_RESTART_EMAILS ?? 200);
/** A rolling deploy: the main restarts this long after the worker died (n8n needs 60 to 90 s to notice). */
const RESTART_AFTER_MS = 20_000;

jest.setTimeout(20 * 60_000);

let emulator: PubSubEmulator;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
}, 90_000);

afterAll(async () => {
	await emulator?.stop();
});

/** Trigger → Wait (3 s, in the worker's process) → No Operation. */
function slowWorkflow(name: string, delivery: Delivery, extra: { topicName?: string; subscriptionName?: string } = {}): WorkflowJson {
	const workflow = triggerWorkflow({ name, delivery, ...extra, pollIntervalMinutes: 1 });
	// Node ids and webhook ids are UUIDs, as the editor makes them: n8n 2.41 keeps trigger and
	// webhook node ids in varchar(36) columns and fails to record a longer one.
	const wait = { id: randomUUID(), name: 'Wait', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [120, 0] as [number, number], parameters: { resume: 'timeInterval', amount: WAIT_SECONDS, unit: 'seconds' }, webhookId: randomUUID() };
	workflow.nodes.splice(1, 0, wait);
	workflow.connections = {
		[TRIGGER]: { main: [[{ node: 'Wait', type: 'main', index: 0 }]] },
		Wait: { main: [[{ node: 'No Operation, do nothing', type: 'main', index: 0 }]] },
	};
	return workflow;
}

const finishedOk = (e: ExecutionSummary) => e.status === 'success';
const emailIds = (executions: ExecutionSummary[]) => executions.filter(finishedOk).flatMap((e) => itemsOf(e, TRIGGER).map((i) => String(i.id)));
const marked = (item: Record<string, unknown>) => item.possibleDuplicate === true;

/** Per email, in how many successful executions it is: plain, and marked possibleDuplicate. */
function successfulCounts(executions: ExecutionSummary[]): Map<string, { plain: number; marked: number }> {
	const counts = new Map<string, { plain: number; marked: number }>();
	for (const item of executions.filter(finishedOk).flatMap((e) => itemsOf(e, TRIGGER))) {
		const count = counts.get(String(item.id)) ?? { plain: 0, marked: 0 };
		if (marked(item)) count.marked += 1;
		else count.plain += 1;
		counts.set(String(item.id), count);
	}
	return counts;
}

/** A poll (or pull) execution with emails running on a worker, found in the database. */
async function executionOnAWorker(stack: QueueStack, workflowId: string, what: string): Promise<{ execution: string; worker: N8nProcess }> {
	return await waitFor(
		what,
		async () => {
			// The public API hides executions in progress: ask the database.
			const id = stack.sql(`SELECT id FROM execution_entity WHERE "workflowId" = '${workflowId}' AND status = 'running' ORDER BY id LIMIT 1`).trim();
			if (!id) return undefined;
			const worker = stack.workers.find((w) => w.grep(new RegExp(`Worker started execution ${id} `)).length > 0);
			return worker ? { execution: id, worker } : undefined;
		},
		180_000,
		100,
	);
}

/** Fails saying which emails are missing and what the trigger did, so that a failure can be read. */
async function allEmitted(stack: QueueStack, workflowId: string, delivered: string[], label: string, timeoutMs: number): Promise<void> {
	try {
		await waitFor(
			`all ${delivered.length} emails in successful ${label} executions`,
			async () => {
				const emitted = new Set(emailIds(await stack.api.executions(workflowId)));
				return delivered.every((id) => emitted.has(id));
			},
			timeoutMs,
			2000,
		);
	} catch (error) {
		const executions = await stack.api.executions(workflowId);
		const emitted = new Set(emailIds(executions));
		const missing = delivered.filter((id) => !emitted.has(id));
		const statuses = executions.map((e) => `${e.id}:${e.status}:${itemsOf(e, TRIGGER).length}`).join(' ');
		const trigger = stack.main.grep(/Gmail Push Trigger/).slice(-40).join('\n');
		throw new Error(`${(error as Error).message}\n${missing.length} of ${delivered.length} emails missing (first: ${missing.slice(0, 5).join(', ')})\nexecutions (id:status:items): ${statuses}\nthe main's last trigger lines:\n${trigger}`);
	}
}

describe.each(selectedMajors())('queue mode (PostgreSQL, Redis, a main, 2 workers, a webhook process) in n8n %i.x', (major) => {
	const topic = `projects/${PROJECT}/topics/gmail-queue-v${major}`;
	const subscription = `projects/${PROJECT}/subscriptions/n8n-queue-v${major}`;
	let stack: QueueStack;
	const publishing: Array<Promise<unknown>> = [];

	beforeAll(async () => {
		await emulator.createTopic(topic);
		await emulator.createPullSubscription(topic, subscription, 10);
		// n8n's default queue settings (QUEUE_WORKER_LOCK_DURATION etc. unset): a shorter stall
		// detection would report a killed worker's executions before a main restart can lose them.
		stack = await startQueueStack(major, {
			env: { PUBSUB_EMULATOR_HOST: emulator.host },
			mainEnv: { N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' },
		});
		stack.fake.mailbox.subscribe((change) => {
			if (change.notifies) publishing.push(emulator.publish(topic, change.notificationData));
		});
	}, 8 * 60_000);

	afterAll(async () => {
		await Promise.allSettled(publishing);
		await stack?.close();
	});

	it('push delivery is refused at activation: pushes would reach webhook processes, where the trigger does not run; the message names pull', async () => {
		await stack.step(async () => {
			const workflow = triggerWorkflow({ name: `queue push v${major}`, delivery: 'push', topicName: topic });
			const id = await stack.api.importWorkflow(workflow, [stack.credential]);
			const watches = stack.fake.count('users.watch');
			const from = stack.main.logOffset();
			const reply = await stack.api.api('POST', `/workflows/${id}/${major === 2 ? 'publish' : 'activate'}`, major === 2 ? {} : undefined, [400]);
			if (major === 1) {
				// 1.x activates synchronously: the API answers with our error.
				expect(reply.status).toBe(400);
				expect(reply.text).toMatch(/queue mode/);
				expect(reply.text).toMatch(/N8N_DISABLE_PRODUCTION_MAIN_PROCESS/);
				expect((await stack.api.getWorkflow(id)).active).toBe(false);
			} else {
				// 2.x publishes, then activates in the background, logs and records the activation error.
				expect(reply.status).toBe(200);
				await stack.main.waitForLog(/Push delivery cannot reach this trigger: n8n runs in queue mode/, 60_000, from);
			}
			await sleep(2000);
			expect(stack.fake.count('users.watch')).toBe(watches);
		});
	});

	/** The first test's workflows (the second deactivates them: they would take its mail too). */
	const ids: Record<'pull' | 'poll', string> = { pull: '', poll: '' };

	it(`${EMAILS} emails, pull and poll: a worker killed during executions and the main restarted; each email in one successful execution of each, in a second only marked possibleDuplicate`, async () => {
		await stack.step(async () => {
			const { api, fake, main } = stack;
			for (const delivery of ['pull', 'poll'] as const) {
				const workflow = slowWorkflow(`queue ${delivery} v${major}`, delivery, delivery === 'pull' ? { topicName: topic, subscriptionName: subscription } : {});
				ids[delivery] = await api.importWorkflow(workflow, [stack.credential]);
				const histories = fake.count('history.list');
				const reply = await api.activate(ids[delivery]);
				if (reply.status !== 200) throw new Error(`activation of ${delivery}: ${reply.status} ${reply.text.slice(0, 400)}`);
				await waitFor(`the first sync of ${delivery}`, () => fake.count('history.list') > histories, 60_000);
			}

			const delivered: string[] = [];
			const produce = async (until: number, perSecond: number) => {
				while (delivered.length < until) {
					for (let i = 0; i < perSecond && delivered.length < until; i++) {
						delivered.push(fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject: `queue ${delivered.length + 1}` }).id);
					}
					await sleep(1000);
				}
			};
			const early = Math.round(EMAILS * (1 - LATE_SHARE));
			const producer = produce(early, Math.ceil(early / PRODUCE_SECONDS));

			// A poll execution with emails running on a worker: kill that worker, start it again.
			const running = await executionOnAWorker(stack, ids.poll, 'a poll execution running on a worker');
			const workerIndex = stack.workers.indexOf(running.worker);
			running.worker.killGroupSync();
			await waitFor('the killed worker to exit', () => !running.worker.running, 10_000);
			await sleep(2000);
			await running.worker.start();

			// n8n reports the crashed executions to the main, which emits their emails again: as
			// `crashed` (1.123: the worker came back and marked them) or as an `error` saying the job
			// stalled too often (2.41), once its stall detection saw them (60 to 90 s). These
			// workflows have no other way to end in an error.
			await waitFor(
				'the crashed executions to be reported and emitted again',
				async () => {
					const crashed = Number(stack.sql(`SELECT COUNT(*) FROM execution_entity WHERE "workflowId" IN ('${ids.pull}', '${ids.poll}') AND status IN ('crashed', 'error')`).trim());
					const again = main.grep(/emitted the \d+ email\(s\) of a crashed execution again/).length;
					return crashed > 0 && again >= crashed ? { crashed, again } : undefined;
				},
				240_000,
				1000,
			);

			// The main restarts once (gracefully) while the rest of the mail comes.
			await producer;
			const late = produce(EMAILS, Math.ceil((EMAILS - early) / 10));
			await main.restart();
			await late;

			for (const delivery of ['pull', 'poll'] as const) await allEmitted(stack, ids[delivery], delivered, delivery, delivery === 'poll' ? 300_000 : 180_000);
			// Let stragglers (a late emission again) land before counting.
			await sleep(8000);
			await waitFor(
				'no execution left running',
				() => stack.sql(`SELECT COUNT(*) FROM execution_entity WHERE "workflowId" IN ('${ids.pull}', '${ids.poll}') AND status IN ('new', 'running')`).trim() === '0',
				120_000,
				1000,
			);

			const report: string[] = [];
			for (const delivery of ['pull', 'poll'] as const) {
				const executions = await api.executions(ids[delivery]);
				const counts = successfulCounts(executions);
				const lost = delivered.filter((id) => !counts.has(id));
				// A second execution of an email only after the main's restart, and marked.
				const doubled = [...counts].filter(([, n]) => n.plain > 1).map(([id]) => id);
				const statuses = executions.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.status]: (acc[e.status] ?? 0) + 1 }), {});
				const again = [...counts.values()].filter((n) => n.marked > 0).length;
				report.push(`${delivery}: ${executions.length} executions ${JSON.stringify(statuses)}, ${emailIds(executions).length} emails in successful ones, ${again} marked possibleDuplicate`);
				expect({ delivery, lost, doubled }).toEqual({ delivery, lost: [], doubled: [] });
				expect(counts.size).toBe(EMAILS);
				// Every execution ran on a worker, none in the main.
				for (const e of executions.filter(finishedOk)) {
					expect(stack.workers.some((w) => w.grep(new RegExp(`Worker started execution ${e.id} `)).length > 0)).toBe(true);
				}
			}
			const pollCrashed = (await api.executions(ids.poll)).filter((e) => e.status === 'crashed' || e.status === 'error');
			expect(pollCrashed.length).toBeGreaterThan(0); // the kill hit the poll execution
			expect(main.grep(/emitted the \d+ email\(s\) of a crashed execution again/).length).toBeGreaterThan(0);
			console.log(`queue mode n8n ${major}.x: worker ${workerIndex + 1} killed during poll execution ${running.execution}; ${report.join('; ')}`);
		});
	});
	it(`a rolling deploy: a worker killed during a pull execution, the main restarted ${RESTART_AFTER_MS / 1000} s later, before n8n reports it; every email in a successful execution, the ones emitted again after the restart marked possibleDuplicate`, async () => {
		await stack.step(async () => {
			const { api, fake, main } = stack;
			for (const id of Object.values(ids)) if (id) await api.deactivate(id);
			const restartSubscription = `projects/${PROJECT}/subscriptions/n8n-queue-restart-v${major}`;
			await emulator.createPullSubscription(topic, restartSubscription, 10);
			const workflowId = await api.importWorkflow(slowWorkflow(`queue restart v${major}`, 'pull', { topicName: topic, subscriptionName: restartSubscription }), [stack.credential]);
			const histories = fake.count('history.list');
			const reply = await api.activate(workflowId);
			if (reply.status !== 200) throw new Error(`activation: ${reply.status} ${reply.text.slice(0, 400)}`);
			await waitFor('the first sync', () => fake.count('history.list') > histories, 60_000);

			// Ten emails a second, on through the kill and the restart.
			const delivered: string[] = [];
			const producer = (async () => {
				while (delivered.length < RESTART_EMAILS) {
					for (let i = 0; i < 10 && delivered.length < RESTART_EMAILS; i++) delivered.push(fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject: `deploy ${delivered.length + 1}` }).id);
					await sleep(1000);
				}
			})();

			const running = await executionOnAWorker(stack, workflowId, 'a pull execution running on a worker');
			const killedFrom = main.logOffset();
			running.worker.killGroupSync();
			const killedAt = Date.now();
			await waitFor('the killed worker to exit', () => !running.worker.running, 10_000);
			// It comes back at once (and marks its executions crashed, 1.123), but n8n tells the main
			// only once its stall detection gives the job up, 60 to 90 s after the kill.
			await sleep(2000);
			await running.worker.start();
			await sleep(killedAt + RESTART_AFTER_MS - Date.now());
			// Gracefully, as a deploy stops it (its trigger waits for what it is emitting).
			const stoppingAfterMs = Date.now() - killedAt;
			await main.stop(60_000);
			const stoppedAfterMs = Date.now() - killedAt;
			// The old main did not emit the killed executions' emails again: n8n had not told it yet.
			expect(main.grep(/emitted the \d+ email\(s\) of a crashed execution again/, killedFrom)).toEqual([]);
			const lastBefore = Number(stack.sql(`SELECT COALESCE(MAX(id), 0) FROM execution_entity WHERE "workflowId" = '${workflowId}'`).trim());
			const restartFrom = main.logOffset();
			await main.start();
			await producer;

			await allEmitted(stack, workflowId, delivered, 'pull', 180_000);
			// The killed executions end once n8n's stall detection sees them (60 to 90 s after the kill).
			await waitFor(
				'no execution left running',
				() => stack.sql(`SELECT COUNT(*) FROM execution_entity WHERE "workflowId" = '${workflowId}' AND status IN ('new', 'running')`).trim() === '0',
				240_000,
				1000,
			);
			await sleep(5000);

			const executions = await api.executions(workflowId);
			const counts = successfulCounts(executions);
			const lost = delivered.filter((id) => !counts.has(id));
			const doubled = [...counts].filter(([, n]) => n.plain > 1).map(([id]) => id);
			expect({ lost, doubled }).toEqual({ lost: [], doubled: [] });

			const before = executions.filter((e) => Number(e.id) <= lastBefore);
			const after = executions.filter((e) => Number(e.id) > lastBefore && finishedOk(e));
			// The killed worker's executions did not succeed; which emails they held, their stored
			// data tells (as n8n queued them: it never ran them to the end).
			const killed = before.filter((e) => !finishedOk(e));
			expect(killed.map((e) => e.id)).toContain(running.execution);
			const killedData = killed.map((e) => stack.sql(`SELECT data FROM execution_data WHERE "executionId" = ${Number(e.id)}`)).join('\n');
			const killedEmails = delivered.filter((id) => killedData.includes(id));
			const emittedBefore = new Set([...emailIds(before), ...killedEmails]);
			const afterItems = after.flatMap((e) => itemsOf(e, TRIGGER));
			// After the restart an email emitted before comes again only marked, and marked only such.
			expect(afterItems.filter((item) => emittedBefore.has(String(item.id)) && !marked(item)).map((item) => item.id)).toEqual([]);
			const markedAfter = new Set(afterItems.filter(marked).map((item) => String(item.id)));
			expect([...markedAfter].filter((id) => !emittedBefore.has(id))).toEqual([]);
			expect(main.grep(/emitting them again, marked possibleDuplicate/, restartFrom)).toHaveLength(1);
			expect(killedEmails.length).toBeGreaterThan(0);
			expect(killedEmails.filter((id) => !markedAfter.has(id))).toEqual([]);
			for (const e of executions.filter(finishedOk)) {
				expect(stack.workers.some((w) => w.grep(new RegExp(`Worker started execution ${e.id} `)).length > 0)).toBe(true);
			}
			const statuses = executions.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.status]: (acc[e.status] ?? 0) + 1 }), {});
			console.log(
				`queue mode n8n ${major}.x, rolling deploy: the main stopping ${(stoppingAfterMs / 1000).toFixed(1)} s after the kill, stopped at ${(stoppedAfterMs / 1000).toFixed(1)} s; ${executions.length} executions ${JSON.stringify(statuses)}; ` +
					`${killed.length} killed with ${killedEmails.length} emails; ${markedAfter.size} emails emitted again marked possibleDuplicate`,
			);
		});
	});
});
