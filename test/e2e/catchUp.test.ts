/**
 * The stale-cursor catch-up with Whole Email in a real n8n (1.123 and 2.41; E2E_N8N_VERSIONS=1,2),
 * push delivery against the fake Gmail. 25 emails arrive while n8n is stopped for longer than
 * Gmail keeps history: at start the catch-up emits them in executions of at most 10 (the live
 * path's bound), not in one execution holding 25 raw emails. n8n killed (SIGKILL) between two
 * of those executions starts again from the static data it saved at the last one: the rest goes
 * out without a new listing, every email exactly once.
 */
import { itemsOf, selectedMajors, sleep, waitFor } from '../support/n8n';
import type { StoredMessage } from '../support/fakeGoogle';
import { pendingIds } from '../../nodes/GmailPushTrigger/core/recovery';
import { seenKeys } from '../../nodes/GmailPushTrigger/core/seen';
import { SETTLE_MS, TRIGGER, activateAndWait, startE2e, triggerStartedLog, triggerWorkflow, type E2eContext } from './deliveryHarness';

jest.setTimeout(180_000);

/** Slow raw fetches (5 in parallel, so about 3 s per batch of 10): room to kill n8n between two executions. */
const FETCH_LATENCY_MS = 1500;

describe.each(selectedMajors())('Gmail Push Trigger: a Whole Email catch-up after a stale cursor, in n8n %i.x', (major) => {
	const workflow = triggerWorkflow({
		name: `Gmail catch-up e2e v${major}`,
		delivery: 'push',
		parameters: { output: 'email', options: { downloadAttachments: true } },
	});
	let ctx: E2eContext;
	let workflowId: string;

	beforeAll(async () => {
		ctx = await startE2e(major);
		workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
	}, 240_000);

	afterAll(async () => {
		await ctx?.close();
	});

	const deliver = (subject: string): StoredMessage =>
		ctx.fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject, text: `Body of ${subject}`, attachments: [{ filename: `${subject}.txt`, mimeType: 'text/plain', content: `file of ${subject}` }] });

	it('goes out in executions of at most 10 and resumes after a SIGKILL between two of them, each email once', async () => {
		await ctx.step(async () => {
			await activateAndWait(ctx, workflowId, workflow.name);
			await ctx.session.api.waitForWebhookRegistered(`${workflow.webhookId}/webhook`);
			const stale = (await ctx.stateInDb(workflowId)).cursor!;

			// n8n is down longer than Gmail keeps history; 25 emails arrive meanwhile.
			await ctx.session.n8n.stop();
			ctx.fake.mailbox.advanceHistoryId();
			ctx.fake.mailbox.expireAllHistory();
			const missed = Array.from({ length: 25 }, (_, i) => deliver(`missed ${i + 1}`));
			const restartFrom = ctx.fake.mailbox.historyId;
			ctx.fake.faults.latency('messages.get', FETCH_LATENCY_MS);

			// At start the trigger syncs: history.list 404, then the catch-up's first execution.
			let from = ctx.session.n8n.logOffset();
			await ctx.session.n8n.start();
			await ctx.session.n8n.waitForLog(triggerStartedLog(major, workflow.name), 60_000, from);
			const saved = await waitFor(
				'the first catch-up execution done, with the rest pending in the DB',
				async () => {
					const { executions } = await ctx.triggerItems(workflowId);
					const state = await ctx.stateInDb(workflowId);
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
			await ctx.session.n8n.waitForLog(triggerStartedLog(major, workflow.name), 60_000, from);
			const { items, executions } = await ctx.waitForItems(workflowId, 25, 90_000);
			await sleep(SETTLE_MS);

			expect(items.map((i) => i.id)).toEqual(missed.map((m) => m.id));
			expect(executions.every((e) => e.mode === 'trigger' && e.status === 'success')).toBe(true);
			expect(executions.map((e) => itemsOf(e, TRIGGER).length).sort((a, b) => a - b)).toEqual([5, 10, 10]);
			// After the restart: only the rest's raw fetches, no history.list, no new listing.
			const after = ctx.fake.calls.filter((c) => c.at >= restartedAt);
			expect(after.filter((c) => c.method === 'messages.list')).toEqual([]);
			expect(after.filter((c) => c.method === 'history.list')).toEqual([]);
			expect(after.filter((c) => c.method === 'messages.get')).toHaveLength(15);
			expect(ctx.session.n8n.grep(/caught up after the stale cursor; restarting from historyId/, from)).toHaveLength(1);
			const state = await ctx.stateInDb(workflowId);
			expect(state.cursor).toBe(restartFrom);
			expect(state.pendingCatchUp).toBeUndefined();
			ctx.fake.faults.latency('messages.get', 0);
		});
	});
});
