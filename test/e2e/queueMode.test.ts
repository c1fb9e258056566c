/**
 * n8n's queue mode for real (n8n 1.123 and 2.41): PostgreSQL and Redis from Debian's packages,
 * one main process, two workers and one webhook process (test/support/queueStack.ts), Google's
 * Pub/Sub emulator and the fake Gmail.
 *
 * Pull and poll, side by side on one mailbox: QUEUE_EMAILS (default 1,000) emails arrive in
 * bursts; each execution waits 3 s on a worker (a Wait node), so that killing a worker hits
 * executions. While they run, the worker that runs a poll execution is killed with SIGKILL and
 * started again: n8n marks its executions crashed and never runs them again, and the trigger
 * emits their emails again in new executions. Then the main process is restarted once while mail
 * keeps coming. In the end every email is in exactly one successful execution of each workflow,
 * and every execution ran on a worker.
 *
 * Push delivery with the main serving no production webhooks (N8N_DISABLE_PRODUCTION_MAIN_PROCESS,
 * the set-up with webhook processes) is refused at activation, naming pull.
 */
import { randomUUID } from 'node:crypto';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { startQueueStack, type QueueStack } from '../support/queueStack';
import { itemsOf, selectedMajors, sleep, waitFor, type ExecutionSummary, type WorkflowJson } from '../support/n8n';
import { PROJECT, TRIGGER, triggerWorkflow, type Delivery } from './deliveryHarness';

const EMAILS = Number(process.env.QUEUE_EMAILS ?? 1000);
/** Most of the mail comes over about 70 s, so executions of both workflows run when the worker is killed; the rest while the main restarts. */
const PRODUCE_SECONDS = 70;
const LATE_SHARE = 0.1;
const WAIT_SECONDS = 3;

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

describe.each(selectedMajors())('queue mode (PostgreSQL, Redis, a main, 2 workers, a webhook process) in n8n %i.x', (major) => {
	const topic = `projects/${PROJECT}/topics/gmail-queue-v${major}`;
	const subscription = `projects/${PROJECT}/subscriptions/n8n-queue-v${major}`;
	let stack: QueueStack;
	const publishing: Array<Promise<unknown>> = [];

	beforeAll(async () => {
		await emulator.createTopic(topic);
		await emulator.createPullSubscription(topic, subscription, 10);
		stack = await startQueueStack(major, {
			env: {
				PUBSUB_EMULATOR_HOST: emulator.host,
				// n8n's own settings for how soon a dead worker's job counts as stalled (defaults: a
				// 60 s lock, checked every 30 s): shorter here so the suite waits less.
				QUEUE_WORKER_LOCK_DURATION: '15000',
				QUEUE_WORKER_LOCK_RENEW_TIME: '5000',
				QUEUE_WORKER_STALLED_INTERVAL: '5000',
			},
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

	it(`${EMAILS} emails, pull and poll: a worker killed during executions and the main restarted; each email in exactly one successful execution of each`, async () => {
		await stack.step(async () => {
			const { api, fake, main } = stack;
			const ids: Record<'pull' | 'poll', string> = { pull: '', poll: '' };
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
			const running = await waitFor(
				'a poll execution running on a worker',
				async () => {
					// The public API hides executions in progress: ask the database.
					const id = stack.sql(`SELECT id FROM execution_entity WHERE "workflowId" = '${ids.poll}' AND status = 'running' ORDER BY id LIMIT 1`).trim();
					if (!id) return undefined;
					const worker = stack.workers.find((w) => w.grep(new RegExp(`Worker started execution ${id} `)).length > 0);
					return worker ? { execution: id, worker } : undefined;
				},
				180_000,
				100,
			);
			const workerIndex = stack.workers.indexOf(running.worker);
			running.worker.killGroupSync();
			await waitFor('the killed worker to exit', () => !running.worker.running, 10_000);
			await sleep(2000);
			await running.worker.start();

			// n8n reports the crashed executions to the main, which emits their emails again: as
			// `crashed` (1.123: the worker came back and marked them) or as an `error` saying the job
			// stalled too often (2.41). These workflows have no other way to end in an error.
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

			for (const delivery of ['pull', 'poll'] as const) {
				try {
					await waitFor(
						`all ${EMAILS} emails in successful ${delivery} executions`,
						async () => new Set(emailIds(await api.executions(ids[delivery]))).size >= EMAILS,
						delivery === 'poll' ? 300_000 : 180_000,
						2000,
					);
				} catch (error) {
					// Say what is missing and what the trigger did, so that a failure can be read.
					const executions = await api.executions(ids[delivery]);
					const emitted = new Set(emailIds(executions));
					const missing = delivered.filter((id) => !emitted.has(id));
					const statuses = executions.map((e) => `${e.id}:${e.status}:${itemsOf(e, TRIGGER).length}`).join(' ');
					const trigger = main.grep(/Gmail Push Trigger/).slice(-40).join('\n');
					throw new Error(`${(error as Error).message}\n${missing.length} of ${delivered.length} emails missing (first: ${missing.slice(0, 5).join(', ')})\nexecutions (id:status:items): ${statuses}\nthe main's last trigger lines:\n${trigger}`);
				}
			}
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
				const emitted = emailIds(executions);
				const counts = new Map<string, number>();
				for (const id of emitted) counts.set(id, (counts.get(id) ?? 0) + 1);
				const lost = delivered.filter((id) => !counts.has(id));
				const doubled = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
				const statuses = executions.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.status]: (acc[e.status] ?? 0) + 1 }), {});
				report.push(`${delivery}: ${executions.length} executions ${JSON.stringify(statuses)}, ${emitted.length} emails in successful ones`);
				expect({ delivery, lost, doubled }).toEqual({ delivery, lost: [], doubled: [] });
				expect(emitted.length).toBe(EMAILS);
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
});
