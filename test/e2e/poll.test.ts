/**
 * Poll delivery end to end, in a real n8n (1.123 and 2.41; E2E_N8N_VERSIONS=1,2) against the
 * fake Gmail, with no Pub/Sub anywhere: activation reads the mailbox's historyId (no watch), and
 * one poll cycle (Poll Every 1 minute) later the emails that arrived meanwhile are emitted, each
 * once. One cycle is the slowest thing the suites wait for, so the selected n8n versions start
 * and wait side by side (each its own fake Google and n8n) and each version asserts its own.
 */
import { selectedMajors, sleep, waitFor, type N8nMajor } from '../support/n8n';
import type { StoredMessage } from '../support/fakeGoogle';
import { SETTLE_MS, activateAndWait, startE2e, triggerWorkflow, type E2eContext } from './deliveryHarness';
import { seenKeys } from '../../nodes/GmailPushTrigger/core/seen';

jest.setTimeout(240_000);

/** One cycle of Poll Every 1 minute, plus n8n's and the machine's slack. */
const ONE_POLL_MS = 75_000;

interface Run {
	ctx: E2eContext;
	workflowId: string;
	activatedAt: number;
	/** Delivered right after activation. */
	mails: StoredMessage[];
}

const majors = selectedMajors();
const runs = new Map<N8nMajor, Promise<Run>>();
const contexts: E2eContext[] = [];

async function startRun(major: N8nMajor): Promise<Run> {
	// No PUBSUB_EMULATOR_HOST: a Pub/Sub client would reach the fake Google, which would list the call.
	const ctx = await startE2e(major);
	contexts.push(ctx);
	const workflow = triggerWorkflow({ name: `Gmail poll e2e v${major}`, delivery: 'poll', pollIntervalMinutes: 1 });
	const workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
	ctx.fake.mailbox.deliver({ subject: 'before activation' }); // a first activation starts from now
	await ctx.step(async () => {
		await activateAndWait(ctx, workflowId, workflow.name);
		// n8n reports the trigger started before its start-up sync has read history: deliver only
		// after that read, or the start-up sync (not the poll) would emit the emails.
		await waitFor('the start-up sync to read history', () => ctx.fake.count('history.list') >= 1, 30_000, 50);
		await sleep(SETTLE_MS);
	});
	const activatedAt = Date.now();
	const mails = [ctx.deliver('poll one'), ctx.deliver('poll two'), ctx.deliver('poll three')];
	return { ctx, workflowId, activatedAt, mails };
}

beforeAll(() => {
	for (const major of majors) {
		const run = startRun(major);
		run.catch(() => undefined); // reported by that version's tests
		runs.set(major, run);
	}
});

afterAll(async () => {
	await Promise.allSettled([...runs.values()]);
	await Promise.all(contexts.map(async (ctx) => await ctx.close()));
}, 60_000);

describe.each(majors)('Gmail Push Trigger, poll delivery, in n8n %i.x', (major) => {
	it('emails that arrive after activation are emitted once by the next poll, without a watch or Pub/Sub', async () => {
		const { ctx, workflowId, activatedAt, mails } = await runs.get(major)!;
		await ctx.step(async () => {
			expect(ctx.fake.count('users.getProfile')).toBe(1); // the cursor: the mailbox's historyId
			const { executions, items } = await ctx.waitForItems(workflowId, 3, ONE_POLL_MS);
			expect(items.map((i) => i.id)).toEqual(mails.map((m) => m.id)); // in Gmail's order, each once
			expect(items.map((i) => i.Subject)).toEqual(['poll one', 'poll two', 'poll three']);
			expect(executions).toHaveLength(1);
			expect(executions[0]).toMatchObject({ status: 'success', mode: 'trigger' });
			// Not before the poll came round: the start-up sync ran before the emails arrived. Timed
			// from the execution, not from now: the versions' tests run one after the other.
			expect(Date.parse(executions[0].startedAt) - activatedAt).toBeGreaterThan(50_000);

			expect(ctx.fake.count('users.watch')).toBe(0);
			expect(ctx.fake.count('users.stop')).toBe(0);
			expect(ctx.fake.mailbox.watch).toBeUndefined();
			// Only Gmail was asked: nothing went to Pub/Sub (the fake lists every Google call it gets).
			expect(ctx.fake.calls.filter((c) => !/^(users|history|messages|labels)\.|^token$/.test(c.method))).toEqual([]);
			expect(ctx.fake.calls.some((c) => /pubsub/i.test(c.host ?? ''))).toBe(false);
			expect(ctx.session.n8n.log).not.toMatch(/Pub\/Sub stream/);
			// The start-up sync and one poll: history.list twice, not more.
			expect(ctx.fake.count('history.list')).toBe(2);

			const state = await ctx.stateInDb(workflowId);
			expect(state.cursor).toBe(ctx.fake.mailbox.historyId);
			expect(state.watch).toBeUndefined();
			expect(seenKeys(state, state.recent)).toEqual(expect.arrayContaining(mails.map((m) => `added:${m.id}`)));
		});
	});

	it('deactivation calls neither users.stop nor anything else', async () => {
		const { ctx, workflowId } = await runs.get(major)!;
		await ctx.step(async () => {
			const calls = ctx.fake.calls.length;
			expect((await ctx.session.api.deactivate(workflowId)).status).toBe(200);
			await sleep(SETTLE_MS);
			expect(ctx.fake.calls.slice(calls).map((c) => c.method)).toEqual([]);
		});
	});
});
