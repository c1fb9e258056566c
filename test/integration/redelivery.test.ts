/**
 * Emitting the emails of a crashed execution again: the engine's emitAgain over our GmailPort
 * and the fake Gmail, and the shell's trackedDelivery with a hand-built trigger context whose
 * `emit` hands us n8n's donePromise, which the test resolves the way n8n does in queue mode.
 */
import type { IDeferredPromise, INode, INodeExecutionData, IRun } from 'n8n-workflow';
import { trackedDelivery } from '../../nodes/GmailPushTrigger/shell/redelivery';
import { RETRIES, RETRY_MS } from '../../nodes/GmailPushTrigger/engine/reEmission';
import type { MailboxEngine } from '../../nodes/GmailPushTrigger/engine/mailboxEngine';
import type { FakeGoogle } from '../support/fakeGoogle';
import { waitFor } from '../support/n8n';
import { activeEngine, ids, recordingLogger, startFake, type EngineHarness } from './harness';

const NODE = { id: 'n1', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1, position: [0, 0], parameters: {} } as INode;

/**
 * What n8n's emit receives, and the error path: `reported` through the trigger's reportError
 * (which also keeps the close after it from removing the subscription), `emitErrors` straight
 * through n8n's emitError, which would bypass that.
 */
function triggerContext() {
	const emits: Array<{ items: INodeExecutionData[]; done?: IDeferredPromise<IRun> }> = [];
	const reported: Error[] = [];
	const emitErrors: Error[] = [];
	const logger = recordingLogger();
	return {
		emits,
		reported,
		emitErrors,
		logger,
		report: (error: Error) => reported.push(error),
		context: {
			emit: (data: INodeExecutionData[][], _response?: unknown, done?: IDeferredPromise<IRun>) => emits.push({ items: data[0], done }),
			emitError: (error: Error) => emitErrors.push(error),
			getNode: () => NODE,
			logger,
		},
	};
}

const run = (status: string, message?: string) => ({ status, finished: status === 'success', data: { resultData: { runData: {}, ...(message && { error: { message } }) } } }) as unknown as IRun;
/** For what must not happen: long enough for an emission again (a few ms here) to have come. */
const settle = async () => await new Promise((resolve) => setTimeout(resolve, 300));
/** For what must happen: the emission again fetches over HTTPS, slower on a loaded machine. */
const secondBatch = async (h: EngineHarness) => await waitFor('the emission again', () => h.batches.length >= 2, 10_000, 20);
const idsOf = (items: INodeExecutionData[]) => items.map((i) => String(i.json.id));

describe('emitting a crashed execution’s emails again', () => {
	let fake: FakeGoogle;
	let h: EngineHarness;

	beforeEach(async () => {
		fake = await startFake();
		h = await activeEngine(fake);
	});
	afterEach(async () => {
		await fake.close();
	});

	it('emitAgain fetches the same emails afresh and hands them over as the next emission, cursor and dedupe record untouched', async () => {
		const mails = [1, 2, 3].map((i) => fake.mailbox.deliver({ subject: `crash ${i}` }));
		await h.engine.sync();
		expect(ids(h.items())).toEqual(mails.map((m) => m.id));
		const first = h.emissions[0];
		expect(first.number).toBe(1);
		expect(first.events.map((e) => e.ref.id)).toEqual(mails.map((m) => m.id));
		expect(first.events.every((e) => !('message' in e))).toBe(true); // held by id only
		const { unsettled: listed, ...before } = structuredClone(h.state);
		expect(listed?.map((e) => [e.at, e.n])).toEqual([[first.at, 1]]);
		fake.resetCalls();

		await expect(h.engine.emitAgain(first)).resolves.toBe(3);

		expect(ids(h.batches[1])).toEqual(mails.map((m) => m.id));
		expect(h.batches[1]).toEqual(h.batches[0]);
		expect(h.emissions[1].number).toBe(2);
		expect(fake.count('messages.get')).toBe(3);
		expect(fake.count('history.list')).toBe(0);
		const { unsettled, ...after } = h.state;
		expect(after).toEqual(before);
		// The emission again takes the first one's place in the list of unsettled emissions.
		expect(unsettled?.map((e) => [e.at, e.n])).toEqual([[h.emissions[1].at, 2]]);
		expect(h.emissions[1].at).toBeGreaterThan(first.at!);
		// A later sync still knows them: nothing is emitted a third time.
		await h.engine.sync();
		expect(h.batches).toHaveLength(2);
	});

	it('an email deleted since is left out, with a warning', async () => {
		const mails = [1, 2].map((i) => fake.mailbox.deliver({ subject: `gone ${i}` }));
		await h.engine.sync();
		fake.mailbox.deleteMessage(mails[0].id);
		await expect(h.engine.emitAgain(h.emissions[0])).resolves.toBe(1);
		expect(ids(h.batches[1])).toEqual([mails[1].id]);
		expect(h.logger.lines.some((l) => l.level === 'warn' && /1 email\(s\) of a crashed execution were deleted/.test(l.message))).toBe(true);
	});

	it('an emission again under way while the trigger closes still goes out; none once close() has returned', async () => {
		fake.mailbox.deliver({ subject: 'during close' });
		await h.engine.sync();
		const again = h.engine.emitAgain(h.emissions[0]);
		const closed = h.engine.close(10_000, 0);
		await expect(again).resolves.toBe(1);
		await closed;
		expect(h.batches).toHaveLength(2);
		await expect(h.engine.emitAgain(h.emissions[0])).rejects.toThrow(/stopping/);
		expect(h.batches).toHaveLength(2);
	});

	it('a retired (deactivated) engine emits nothing again', async () => {
		fake.mailbox.deliver({ subject: 'late' });
		await h.engine.sync();
		h.engine.retire();
		await expect(h.engine.emitAgain(h.emissions[0])).rejects.toThrow(/stopping/);
		expect(h.batches).toHaveLength(1);
	});

	describe('trackedDelivery: what n8n reports decides', () => {
		async function deliverThrough(t: ReturnType<typeof triggerContext>): Promise<string[]> {
			const mails = [1, 2].map((i) => fake.mailbox.deliver({ subject: `tracked ${i}` }));
			await h.engine.sync();
			const deliver = trackedDelivery(t.context, () => h.engine as MailboxEngine, t.report);
			deliver(h.delivered, h.emissions[0]);
			return mails.map((m) => m.id);
		}

		it('a crashed execution is emitted again, once, through emit with its own donePromise', async () => {
			const t = triggerContext();
			const mailIds = await deliverThrough(t);
			expect(t.emits).toHaveLength(1);
			// The harness's engine delivers to its own recorder; the second emission lands there.
			t.emits[0].done!.resolve(run('crashed'));
			await secondBatch(h);
			await settle();
			expect(h.batches).toHaveLength(2);
			expect(ids(h.batches[1])).toEqual(mailIds);
			expect(t.logger.lines.some((l) => l.level === 'warn' && /crashed .*emitting them again \(emission 2 of at most 3\)/.test(l.message))).toBe(true);
			expect(idsOf(t.emits[0].items)).toEqual(mailIds);
		});

		it("a run that Bull gave up on (MaxStalledCountError) is emitted again", async () => {
			const t = triggerContext();
			await deliverThrough(t);
			t.emits[0].done!.resolve(run('error', 'This execution failed to be processed too many times and will no longer retry.'));
			await secondBatch(h);
			await settle();
			expect(h.batches).toHaveLength(2);
		});

		it('success, an ordinary workflow error and an unknown outcome are not emitted again', async () => {
			for (const outcome of ['success', 'error', 'reject'] as const) {
				const t = triggerContext();
				await deliverThrough(t);
				const before = h.batches.length;
				if (outcome === 'reject') t.emits[0].done!.reject(new Error('no execution'));
				else t.emits[0].done!.resolve(run(outcome, outcome === 'error' ? 'Slack: channel_not_found' : undefined));
				await settle();
				expect(h.batches.length).toBe(before);
				expect([...t.reported, ...t.emitErrors]).toEqual([]);
			}
		});

		it('the third crash in a row is reported through the trigger\'s error path, with the message ids, and not emitted again', async () => {
			const t = triggerContext();
			const mailIds = await deliverThrough(t);
			const deliver = trackedDelivery(t.context, () => h.engine as MailboxEngine, t.report);
			deliver(h.delivered.slice(0, 2), { ...h.emissions[0], number: 3 });
			t.emits[1].done!.resolve(run('crashed'));
			await settle();
			expect(h.batches).toHaveLength(1);
			expect(t.emitErrors).toEqual([]);
			expect(t.reported).toHaveLength(1);
			expect(t.reported[0].message).toMatch(/2 email\(s\) were in 3 executions in a row that crashed/);
			expect((t.reported[0] as Error & { description?: string }).description).toContain(mailIds[0]);
		});

		it('a third crash reported after the trigger closed is logged, not reported (n8n would add the triggers of a deactivated workflow again)', async () => {
			const t = triggerContext();
			await deliverThrough(t);
			const deliver = trackedDelivery(t.context, () => h.engine as MailboxEngine, t.report);
			deliver(h.delivered.slice(0, 2), { ...h.emissions[0], number: 3 });
			await h.engine.close(0, 0);
			t.emits[1].done!.resolve(run('crashed'));
			await settle();
			expect(t.reported).toEqual([]);
			expect(t.emitErrors).toEqual([]);
			expect(t.logger.lines.some((l) => l.level === 'error' && /2 email\(s\) were in 3 executions in a row that crashed/.test(l.message))).toBe(true);
		});

		it(`an emission again that fails ${RETRIES} times is reported through the trigger's error path, with the message ids and what to do`, async () => {
			const t = triggerContext();
			const mailIds = await deliverThrough(t);
			// Gmail refuses for good (the scope revoked): the engine backs off, and each try fails at
			// once without asking Google, so the tries need no network and the clock can be faked.
			fake.faults.failNext('history.list', 403, 1, { reason: 'insufficientPermissions', message: 'Request had insufficient authentication scopes.' });
			fake.mailbox.deliver({ subject: 'starts the back-off' });
			await expect(h.engine.sync()).rejects.toThrow(/insufficient/);
			const calls = fake.calls.length;
			jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval'] });
			try {
				t.emits[0].done!.resolve(run('crashed'));
				await jest.advanceTimersByTimeAsync((RETRIES - 1) * RETRY_MS - 1);
				expect(t.reported).toEqual([]);
				await jest.advanceTimersByTimeAsync(1);
			} finally {
				jest.useRealTimers();
			}
			const retries = t.logger.lines.filter((l) => l.level === 'warn' && /crashed execution again failed, next try in 30 s/.test(l.message));
			expect(retries).toHaveLength(RETRIES - 1);
			expect(t.emitErrors).toEqual([]);
			expect(t.reported).toHaveLength(1);
			expect(t.reported[0].message).toMatch(/2 email\(s\) of a crashed execution could not be emitted again \(5 tries\): Gmail history\.list failed \(403\): Request had insufficient authentication scopes/);
			const description = (t.reported[0] as Error & { description?: string }).description;
			expect(description).toContain(`Message ids: ${mailIds.join(', ')}`);
			expect(description).toMatch(/retry the crashed execution from the executions list/);
			expect(h.batches).toHaveLength(1);
			expect(fake.calls.length).toBe(calls);
		});

		it('a trigger that closed before the emission again logs it and reports nothing through it (n8n would add its triggers again)', async () => {
			const t = triggerContext();
			await deliverThrough(t);
			await h.engine.close(0, 0);
			t.emits[0].done!.resolve(run('crashed'));
			await waitFor('the error logged', () => t.logger.lines.some((l) => l.level === 'error'), 10_000, 20);
			expect(t.logger.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
				'Gmail Push Trigger: could not emit the 2 email(s) of a crashed execution again: Gmail Push Trigger is stopping',
			]);
			expect([...t.reported, ...t.emitErrors]).toEqual([]);
		});
	});
});
