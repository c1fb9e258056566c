/**
 * Restarts, in a real n8n (1.123 and 2.41; E2E_N8N_VERSIONS=1,2) with a push workflow against
 * the fake Gmail: mail that arrives while n8n is stopped is emitted once when it starts again
 * with the same user folder (the trigger syncs at start, no notification needed), and a late
 * duplicate notification emits nothing. The last execution before a stop, whose success n8n
 * reported after it last saved the node's state, goes out again first, marked possibleDuplicate
 * (README, What "exactly once" means): the id checks below leave those repeats out.
 *
 * And the single-writer rule: only the trigger's engine writes the cursor and the dedupe record
 * (the webhook hands notifications to it). Whatever path emitted (webhook → engine, the start-up
 * sync after a restart), the node's static data in n8n's DB only ever moves forward: every
 * cursor read is ≥ every cursor read before it, and `recent` keeps every emitted id.
 *
 * Deactivated, restarted and activated again, Gmail watches anew. A Whole Email catch-up after a
 * stale cursor goes out in executions of at most 10, and resumes after a SIGKILL between two.
 */
import { itemsOf, selectedMajors, sleep, waitFor } from '../support/n8n';
import type { StoredMessage } from '../support/fakeGoogle';
import { pendingIds } from '../../nodes/GmailPushTrigger/core/recovery';
import { seenKeys } from '../../nodes/GmailPushTrigger/core/seen';
import {
	SETTLE_MS,
	TRIGGER,
	activateAndWait,
	pushNotification,
	pushUntilAccepted,
	startE2e,
	triggerStartedLog,
	triggerWorkflow,
	type E2eContext,
	type TriggerStateInDb,
} from './deliveryHarness';

jest.setTimeout(180_000);

/** Items that are no repeat after a restart (those carry possibleDuplicate: true). */
const plain = (items: Array<Record<string, unknown>>) => items.filter((item) => item.possibleDuplicate !== true);

describe.each(selectedMajors())('Gmail Push Trigger across an n8n restart, in n8n %i.x', (major) => {
	const workflow = triggerWorkflow({ name: `Gmail restart e2e v${major}`, delivery: 'push' });
	const webhookPath = `${workflow.webhookId}/webhook`;
	let ctx: E2eContext;
	let workflowId: string;
	/** Every email emitted so far, in order. */
	const emitted: StoredMessage[] = [];
	/** Every cursor read from the DB, in order. */
	const cursors: bigint[] = [];

	beforeAll(async () => {
		ctx = await startE2e(major);
		workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
	}, 240_000);

	afterAll(async () => {
		await ctx?.close();
	});

	/**
	 * The node's state in the DB once it holds `cursor` (n8n saves it right after the emit);
	 * checks it never went back: cursor ≥ every earlier read, every emitted id still in `recent`.
	 */
	const readState = async (cursor: string): Promise<TriggerStateInDb> => {
		const state = await waitFor(
			`the cursor ${cursor} in the DB`,
			async () => {
				const s = await ctx.stateInDb(workflowId);
				return s.cursor !== undefined && BigInt(s.cursor) >= BigInt(cursor) ? s : undefined;
			},
			15_000,
			250,
		);
		const value = BigInt(state.cursor!);
		for (const earlier of cursors) expect(value).toBeGreaterThanOrEqual(earlier);
		cursors.push(value);
		expect(seenKeys(state, state.recent)).toEqual(expect.arrayContaining(emitted.map((m) => `added:${m.id}`)));
		expect(state.emailAddress).toBe(ctx.fake.mailbox.emailAddress);
		return state;
	};

	/** Delivers, pushes the notification to the Production URL, waits for the items. */
	const deliverAndPush = async (subjects: string[]) => {
		const { items: before } = await ctx.triggerItems(workflowId);
		const mails = subjects.map((s) => ctx.deliver(s));
		expect(await pushUntilAccepted(ctx, workflow.webhookId, ctx.fake.mailbox.historyId)).toBe(200);
		const { items, executions } = await ctx.waitForItems(workflowId, before.length + mails.length);
		expect(items.slice(before.length).map((i) => i.id)).toEqual(mails.map((m) => m.id));
		expect(executions.every((e) => e.mode === 'trigger' && e.status === 'success')).toBe(true);
		emitted.push(...mails);
		return mails;
	};

	/** Slow raw fetches (5 in parallel, so about 3 s per batch of 10): room to kill n8n between two executions. */
	const FETCH_LATENCY_MS = 1500;
	const deliverWithAttachment = (subject: string): StoredMessage =>
		ctx.fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject, text: `Body of ${subject}`, attachments: [{ filename: `${subject}.txt`, mimeType: 'text/plain', content: `file of ${subject}` }] });

	it('a Whole Email catch-up after a stale cursor goes out in executions of at most 10 and resumes after a SIGKILL between two of them, each email once (the execution before the kill again, marked)', async () => {
		await ctx.step(async () => {
			// First in this n8n, alone on a fresh mailbox: the counts below are this workflow's.
			const catchUp = triggerWorkflow({
				name: `Gmail catch-up e2e v${major}`,
				delivery: 'push',
				parameters: { output: 'email', options: { downloadAttachments: true } },
			});
			const catchUpId = await ctx.session.api.importWorkflow(catchUp, [ctx.credential]);
			await activateAndWait(ctx, catchUpId, catchUp.name);
			await ctx.session.api.waitForWebhookRegistered(`${catchUp.webhookId}/webhook`);
			const stale = (await ctx.stateInDb(catchUpId)).cursor!;

			// n8n is down longer than Gmail keeps history; 25 emails arrive meanwhile.
			await ctx.session.n8n.stop();
			ctx.fake.mailbox.advanceHistoryId();
			ctx.fake.mailbox.expireAllHistory();
			const missed = Array.from({ length: 25 }, (_, i) => deliverWithAttachment(`missed ${i + 1}`));
			const restartFrom = ctx.fake.mailbox.historyId;
			ctx.fake.faults.latency('messages.get', FETCH_LATENCY_MS);

			// At start the trigger syncs: history.list 404, then the catch-up's first execution.
			let from = ctx.session.n8n.logOffset();
			await ctx.session.n8n.start();
			await ctx.session.n8n.waitForLog(triggerStartedLog(major, catchUp.name), 60_000, from);
			const saved = await waitFor(
				'the first catch-up execution done, with the rest pending in the DB',
				async () => {
					const { executions } = await ctx.triggerItems(catchUpId);
					const state = await ctx.stateInDb(catchUpId);
					return executions.length === 1 && executions[0].status === 'success' && state.pendingCatchUp ? state : undefined;
				},
				60_000,
				100,
			);
			ctx.session.n8n.killGroupSync();
			await ctx.session.n8n.stop();

			// What n8n saved at that execution: the stale cursor, 15 left, the first 10 as emitted.
			expect(saved.cursor).toBe(stale);
			expect(saved.pendingCatchUp?.cursor).toBe(restartFrom);
			expect(pendingIds(saved.pendingCatchUp!)).toEqual(missed.slice(10).map((m) => m.id));
			expect(seenKeys(saved, saved.recent)).toEqual(expect.arrayContaining(missed.slice(0, 10).map((m) => `added:${m.id}`)));
			expect(ctx.session.n8n.grep(/25 listed, 25 not yet emitted, emitted in executions of at most 10\)/, from)).toHaveLength(1);

			const restartedAt = Date.now();
			from = ctx.session.n8n.logOffset();
			await ctx.session.n8n.start();
			await ctx.session.n8n.waitForLog(triggerStartedLog(major, catchUp.name), 60_000, from);
			const { items, executions } = await ctx.waitForItems(catchUpId, 35, 90_000);
			await sleep(SETTLE_MS);

			expect(plain(items).map((i) => i.id)).toEqual(missed.map((m) => m.id));
			// The first execution's outcome came after the last save: it goes out again first, marked.
			expect(items.slice(10, 20).map((i) => [i.id, i.possibleDuplicate])).toEqual(missed.slice(0, 10).map((m) => [m.id, true]));
			expect(executions.every((e) => e.mode === 'trigger' && e.status === 'success')).toBe(true);
			expect(executions.map((e) => itemsOf(e, TRIGGER).length).sort((a, b) => a - b)).toEqual([5, 10, 10, 10]);
			// After the restart: the repeat's and the rest's raw fetches, no history.list, no new listing.
			const after = ctx.fake.calls.filter((c) => c.at >= restartedAt);
			expect(after.filter((c) => c.method === 'messages.list')).toEqual([]);
			expect(after.filter((c) => c.method === 'history.list')).toEqual([]);
			expect(after.filter((c) => c.method === 'messages.get')).toHaveLength(25);
			expect(ctx.session.n8n.grep(/caught up after the stale cursor; restarting from historyId/, from)).toHaveLength(1);
			const state = await ctx.stateInDb(catchUpId);
			expect(state.cursor).toBe(restartFrom);
			expect(state.pendingCatchUp).toBeUndefined();
			ctx.fake.faults.latency('messages.get', 0);
			expect((await ctx.session.api.deactivate(catchUpId)).status).toBe(200);
		});
	});

	it('notifications through the webhook are emitted by the engine; the DB cursor only moves forward', async () => {
		await ctx.step(async () => {
			await activateAndWait(ctx, workflowId, workflow.name);
			await ctx.session.api.waitForWebhookRegistered(webhookPath);
			const activated = await readState(ctx.fake.mailbox.historyId);
			expect(activated.watch).toBeDefined();

			await deliverAndPush(['first', 'second']);
			await readState(ctx.fake.mailbox.historyId);
			await deliverAndPush(['third']);
			await readState(ctx.fake.mailbox.historyId);
			expect(cursors[cursors.length - 1]).toBe(BigInt(ctx.fake.mailbox.historyId));
		});
	});

	it('5 emails that arrive while n8n is stopped are emitted exactly once at start, without a notification, after the last execution before the stop again, marked', async () => {
		await ctx.step(async () => {
			const { items: before } = await ctx.triggerItems(workflowId);
			const watches = ctx.fake.count('users.watch');
			await ctx.session.n8n.stop();
			const missed = ['down 1', 'down 2', 'down 3', 'down 4', 'down 5'].map((s) => ctx.deliver(s));
			const from = ctx.session.n8n.logOffset();
			await ctx.session.n8n.start();
			await ctx.session.n8n.waitForLog(triggerStartedLog(major, workflow.name), 60_000, from);

			const { items, executions } = await ctx.waitForItems(workflowId, before.length + 6);
			expect(items.slice(before.length).map((i) => [i.id, i.possibleDuplicate])).toEqual([[emitted[emitted.length - 1].id, true], ...missed.map((m) => [m.id, undefined])]);
			expect(executions.slice(-1)[0]).toMatchObject({ mode: 'trigger', status: 'success' });
			emitted.push(...missed);
			// No email twice unmarked, over everything emitted so far.
			const ids = plain(items).map((i) => i.id);
			expect(new Set(ids).size).toBe(ids.length);
			expect(ids).toEqual(emitted.map((m) => m.id));
			// The node cannot know whether a users.stop ran while it was down: it watches once anew.
			await waitFor('one watch at start', () => ctx.fake.count('users.watch') > watches, 30_000);
			expect(ctx.fake.count('users.watch')).toBe(watches + 1);
			await readState(ctx.fake.mailbox.historyId);
		});
	});

	it('after the restart, a late duplicate notification emits nothing and the DB state stays put', async () => {
		await ctx.step(async () => {
			await ctx.session.api.waitForWebhookRegistered(webhookPath);
			const executions = (await ctx.session.api.executions(workflowId)).length;
			const gmailCalls = ctx.fake.calls.length;
			const stored = await ctx.stateInDb(workflowId);
			// The newest notification again (as Pub/Sub may redeliver it), and an older one.
			expect(await pushUntilAccepted(ctx, workflow.webhookId, ctx.fake.mailbox.historyId)).toBe(200);
			expect(await pushNotification(ctx, workflow.webhookId, String(cursors[1]))).toBe(200);
			await sleep(SETTLE_MS);
			expect((await ctx.session.api.executions(workflowId)).length).toBe(executions);
			expect(ctx.fake.calls.length).toBe(gmailCalls); // covered by the cursor: no Gmail call
			expect(await ctx.stateInDb(workflowId)).toEqual(stored);
		});
	});

	it('the webhook → engine path after the restart moves the same cursor on; nothing was rolled back', async () => {
		await ctx.step(async () => {
			await deliverAndPush(['after the restart']);
			const state = await readState(ctx.fake.mailbox.historyId);
			expect(state.cursor).toBe(ctx.fake.mailbox.historyId);
			expect(seenKeys(state, state.recent)).toEqual(expect.arrayContaining(emitted.map((m) => `added:${m.id}`)));
			expect(emitted).toHaveLength(9);
			const ids = plain((await ctx.triggerItems(workflowId)).items).map((i) => i.id);
			expect(ids).toEqual(emitted.map((m) => m.id));
			// Strictly forward whenever something was emitted.
			expect(cursors[cursors.length - 1]).toBeGreaterThan(cursors[0]);
		});
	});

	it('deactivated, n8n restarted, activated again the same day: Gmail watches again and the next email comes by push', async () => {
		await ctx.step(async () => {
			const stops = ctx.fake.count('users.stop');
			expect((await ctx.session.api.deactivate(workflowId)).status).toBe(200);
			await waitFor('users.stop at deactivation', () => ctx.fake.count('users.stop') > stops, 30_000);
			await ctx.session.n8n.restart();
			const watches = ctx.fake.count('users.watch');
			const count = (await ctx.triggerItems(workflowId)).items.length;
			await activateAndWait(ctx, workflowId, workflow.name);
			await waitFor('a watch at the re-activation', () => ctx.fake.count('users.watch') > watches, 30_000);
			await ctx.session.api.waitForWebhookRegistered(webhookPath);
			// Another process emitted the last execution, minutes ago: it goes out again, marked.
			const { items: repeated } = await ctx.waitForItems(workflowId, count + 1);
			expect(repeated.slice(count).map((i) => [i.id, i.possibleDuplicate])).toEqual([[emitted[emitted.length - 1].id, true]]);
			expect(ctx.fake.mailbox.watch).toBeDefined();
			await deliverAndPush(['after deactivate, restart, activate']);
			expect(ctx.fake.count('users.watch')).toBe(watches + 1); // create() watched, the trigger took it over
		});
	});
});
