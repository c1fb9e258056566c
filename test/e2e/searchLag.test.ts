/**
 * Search with a lagging index, in a real n8n (1.123 and 2.41; E2E_N8N_VERSIONS=1,2), push
 * delivery against the fake Gmail whose search index learns a new email 5 s after it arrives.
 *
 * The notification's sync asks Search at once and the index does not know the invoice yet: the
 * node holds it and asks again 30 to 60 s later, by its own timer (no further notification),
 * and the invoice comes out then, once; the email that does not match never does.
 */
import { selectedMajors, sleep } from '../support/n8n';
import { SETTLE_MS, activateAndWait, pushUntilAccepted, startE2e, triggerWorkflow, type E2eContext } from './deliveryHarness';

jest.setTimeout(240_000);

const INDEX_LAG_MS = 5000;

describe.each(selectedMajors())('Gmail Push Trigger, Search with a lagging index, in n8n %i.x', (major) => {
	const workflow = triggerWorkflow({ name: `Gmail search lag e2e v${major}`, delivery: 'push', parameters: { filters: { q: 'subject:invoice' } } });
	let ctx: E2eContext;
	let workflowId: string;

	beforeAll(async () => {
		ctx = await startE2e(major);
		ctx.fake.mailbox.searchLagMs = INDEX_LAG_MS;
		workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
	}, 240_000);

	afterAll(async () => {
		await ctx?.close();
	});

	it('an invoice the index did not know yet is emitted once, by the second ask within a minute', async () => {
		await ctx.step(async () => {
			await activateAndWait(ctx, workflowId, workflow.name);
			await ctx.session.api.waitForWebhookRegistered(`${workflow.webhookId}/webhook`);
			await sleep(SETTLE_MS); // the start-up sync has run
			ctx.fake.resetCalls();

			const invoice = ctx.deliver('Your invoice 42');
			ctx.deliver('Hello');
			const deliveredAt = Date.now();
			expect(await pushUntilAccepted(ctx, workflow.webhookId, ctx.fake.mailbox.historyId)).toBe(200);
			await sleep(SETTLE_MS);
			// Asked at once, the index knew neither email: nothing yet.
			expect(ctx.fake.count('messages.list')).toBe(1);
			expect((await ctx.triggerItems(workflowId)).items).toEqual([]);

			const { items, executions } = await ctx.waitForItems(workflowId, 1, 90_000);
			expect(items.map((i) => i.id)).toEqual([invoice.id]);
			expect(executions).toHaveLength(1);
			expect(executions[0]).toMatchObject({ status: 'success', mode: 'trigger' });
			// Alone in its half minute, the invoice is asked again a full minute after the first ask.
			const lateBy = Date.parse(executions[0].startedAt) - deliveredAt;
			expect(lateBy).toBeGreaterThan(55_000);
			expect(lateBy).toBeLessThan(75_000);
			// The second ask: one messages.list for both emails, one messages.get for the invoice.
			expect(ctx.fake.count('messages.list')).toBe(2);
			expect(ctx.fake.count('messages.get')).toBe(3);
			expect((await ctx.stateInDb(workflowId)).searchRecheck).toBeUndefined();

			// Each asked again once: nothing more is asked or emitted.
			await sleep(65_000);
			expect(ctx.fake.count('messages.list')).toBe(2);
			expect((await ctx.triggerItems(workflowId)).items.map((i) => i.id)).toEqual([invoice.id]);
		});
	});
});
