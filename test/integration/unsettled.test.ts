/**
 * Emissions whose outcome the trigger never learned, settled at the next start: the engine over
 * our GmailPort and the fake Gmail, the shell's tracked delivery with a hand-built trigger
 * context whose `emit` hands us n8n's donePromise, and the start-up step subscribe() runs
 * (resumeUnsettled). A restart is a new engine on the state as n8n saved it at an emit, with
 * the ledger of a new process (empty); a save is a new engine in the same process (same ledger).
 */
import type { IDataObject, IDeferredPromise, IHttpRequestOptions, INode, INodeExecutionData, IRun, ITriggerResponse } from 'n8n-workflow';
import { MAX_EMISSIONS } from '../../nodes/GmailPushTrigger/core/outcome';
import { UNSETTLED_MAX_AGE_MS, eventsOf, readUnsettled } from '../../nodes/GmailPushTrigger/core/unsettled';
import { redelivery } from '../../nodes/GmailPushTrigger/shell/redelivery';
import type { TriggerState } from '../../nodes/GmailPushTrigger/engine/triggerState';
import { resumeUnsettled, type EmissionLedger } from '../../nodes/GmailPushTrigger/engine/emissionLedger';
import { subscribe } from '../../nodes/GmailPushTrigger/shell/trigger';
import { SCOPES, type FakeGoogle } from '../support/fakeGoogle';
import { waitFor } from '../support/n8n';
import { engineFor, ids, recordingLogger, startFake, uniqueKey, type EngineHarness } from './harness';

// subscribe()'s close gives n8n 3 s after the last emit (MailboxEngine.close).
jest.setTimeout(60_000);

const NODE = { id: 'n1', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1, position: [0, 0], parameters: {} } as INode;
const run = (status: string) => ({ status, finished: status === 'success', data: { resultData: { runData: {} } } }) as unknown as IRun;
const newProcess = (): EmissionLedger => ({ outcomes: new Map() });
/** For what must not happen: long enough for an emission again (a few ms here) to have come. */
const settle = async () => await new Promise((resolve) => setTimeout(resolve, 300));
const flags = (items: Array<Record<string, unknown>>) => items.map((item) => item.possibleDuplicate);
const listed = (state: TriggerState) => readUnsettled(state.unsettled).map((entry) => ({ n: entry.n, ids: eventsOf(entry).map((e) => e.ref.id) }));

/** A trigger as subscribe() builds it, in the process whose ledger is given, on `state`. */
async function triggerOn(fake: FakeGoogle, ledger: EmissionLedger, state: TriggerState = {}) {
	const emits: Array<{ items: INodeExecutionData[]; done: IDeferredPromise<IRun> }> = [];
	const logger = recordingLogger();
	const reported: Error[] = [];
	let h: EngineHarness | undefined;
	const context = { emit: (data: INodeExecutionData[][], _response?: unknown, done?: IDeferredPromise<IRun>) => emits.push({ items: data[0], done: done! }), getNode: () => NODE, logger };
	const tracking = redelivery(context, () => h?.engine, (error) => reported.push(error), ledger);
	h = engineFor(fake, { state, deliver: tracking.deliver });
	await h.engine.ensureWatch(uniqueKey());
	const harness = h;
	return {
		h: harness,
		emits,
		logger,
		reported,
		/** What subscribe() does before its first sync. */
		start: () => {
			ledger.current = { state: harness.state, emitAgain: tracking.emitAgain };
			resumeUnsettled(harness.state, ledger, tracking.emitAgain, logger, harness.clock.now);
		},
		/** What its closeFunction does. */
		close: async () => {
			await harness.engine.close(0, 0);
			if (ledger.current?.state === harness.state) ledger.current = undefined;
		},
	};
}

describe('an emission whose outcome the trigger never learned is settled at the next start', () => {
	let fake: FakeGoogle;

	beforeEach(async () => {
		fake = await startFake();
	});
	afterEach(async () => {
		await fake.close();
	});

	it('after a restart it goes out again once, fetched afresh, marked possibleDuplicate, before the mail that came meanwhile; cursor and dedupe record untouched', async () => {
		const before = await triggerOn(fake, newProcess());
		before.start();
		const mails = [1, 2, 3].map((i) => fake.mailbox.deliver({ subject: `unsettled ${i}` }));
		await before.h.engine.sync();
		expect(before.emits).toHaveLength(1);
		// n8n saved the state at that emit; its execution's outcome never reaches this process.
		const saved = structuredClone(before.h.stateAtDelivery[0]);
		expect(listed(saved)).toEqual([{ n: 1, ids: mails.map((m) => m.id) }]);

		const meanwhile = fake.mailbox.deliver({ subject: 'while n8n restarted' });
		const after = await triggerOn(fake, newProcess(), structuredClone(saved));
		fake.resetCalls();
		after.start();
		await after.h.engine.sync();

		expect(after.h.batches.map(ids)).toEqual([mails.map((m) => m.id), [meanwhile.id]]);
		expect(flags(after.h.batches[0])).toEqual([true, true, true]);
		expect(flags(after.h.batches[1])).toEqual([undefined]);
		expect(after.emits[0].items.map((i) => i.json.possibleDuplicate)).toEqual([true, true, true]);
		expect(fake.count('messages.get')).toBe(4); // the three afresh, the new one
		expect(after.logger.lines).toContainEqual({
			level: 'warn',
			message: 'Gmail Push Trigger: 3 email(s) in 1 execution(s) whose outcome n8n never reported to the trigger (n8n restarted before it could); emitting them again, marked possibleDuplicate',
		});
		// Saved with the emission again: the cursor and the record as before, the list names it instead.
		const atAgain = after.h.stateAtDelivery[0];
		expect(atAgain.cursor).toBe(saved.cursor);
		expect(atAgain.seen).toBe(saved.seen);
		expect(listed(atAgain)).toEqual([{ n: 2, ids: mails.map((m) => m.id) }]);

		// Both executions end: nothing is listed; a later start emits nothing again.
		for (const emit of after.emits) emit.done.resolve(run('success'));
		await settle();
		expect(after.h.state.unsettled).toBeUndefined();
		const third = await triggerOn(fake, newProcess(), structuredClone(after.h.state));
		third.start();
		await third.h.engine.sync();
		await settle();
		expect(third.h.batches).toEqual([]);
	});

	it('one whose outcome came before a later emit is saved as settled with it and does not go out again', async () => {
		const before = await triggerOn(fake, newProcess());
		before.start();
		const first = [1, 2].map((i) => fake.mailbox.deliver({ subject: `settled ${i}` }));
		await before.h.engine.sync();
		before.emits[0].done.resolve(run('success'));
		await settle();
		const last = fake.mailbox.deliver({ subject: 'outcome never came' });
		await before.h.engine.sync();
		const saved = structuredClone(before.h.stateAtDelivery[1]);
		expect(listed(saved)).toEqual([{ n: 1, ids: [last.id] }]);

		const after = await triggerOn(fake, newProcess(), saved);
		after.start();
		await waitFor('the emission again', () => after.h.batches.length >= 1, 10_000, 20);
		await settle();
		expect(after.h.batches.map(ids)).toEqual([[last.id]]);
		expect(flags(after.h.batches[0])).toEqual([true]);
		expect(first.map((m) => m.id)).not.toContain(last.id);
	});

	it(`bounds: at most ${MAX_EMISSIONS} emissions across restarts that each lose the outcome, none older than ${UNSETTLED_MAX_AGE_MS / 60_000} min`, async () => {
		let trigger = await triggerOn(fake, newProcess());
		trigger.start();
		const mail = fake.mailbox.deliver({ subject: 'every execution of it is cut off' });
		await trigger.h.engine.sync();
		for (let emission = 2; emission <= MAX_EMISSIONS; emission++) {
			trigger = await triggerOn(fake, newProcess(), structuredClone(trigger.h.stateAtDelivery[0]));
			trigger.start();
			await waitFor(`emission ${emission}`, () => trigger.h.batches.length >= 1, 10_000, 20);
			expect(listed(trigger.h.stateAtDelivery[0])).toEqual([{ n: emission, ids: [mail.id] }]);
		}
		const last = await triggerOn(fake, newProcess(), structuredClone(trigger.h.stateAtDelivery[0]));
		last.start();
		await settle();
		expect(last.h.batches).toEqual([]);
		expect(last.logger.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
			`Gmail Push Trigger: 1 email(s) already went out ${MAX_EMISSIONS} times, the last in an execution whose outcome the trigger never learned; not emitted again`,
		]);
		expect(last.h.state.unsettled).toBeUndefined();

		// A start more than the age bound after the emission: n8n reported long ago, or the
		// emails are that late anyway; they are let go, with a warning.
		const old = await triggerOn(fake, newProcess());
		old.start();
		fake.mailbox.deliver({ subject: 'emitted before a long stop' });
		await old.h.engine.sync();
		const late = await triggerOn(fake, newProcess(), structuredClone(old.h.stateAtDelivery[0]));
		late.h.clock.now = old.h.clock.now + UNSETTLED_MAX_AGE_MS + 1;
		late.start();
		await settle();
		expect(late.h.batches).toEqual([]);
		expect(late.logger.lines).toContainEqual({ level: 'warn', message: "Gmail Push Trigger: 1 email(s) of executions whose outcome the trigger never learned are more than 10 min old; not emitted again" });
		expect(late.h.state.unsettled).toBeUndefined();
	});

	it('a save (a new trigger in the same process) emits nothing again that this process saw end, and takes over a crash reported to the closed trigger', async () => {
		const ledger = newProcess();
		const before = await triggerOn(fake, ledger);
		before.start();
		const first = fake.mailbox.deliver({ subject: 'ends after the last emit' });
		await before.h.engine.sync();
		const second = fake.mailbox.deliver({ subject: 'still running at the save' });
		await before.h.engine.sync();
		// The first ends after the last emit: only this process knows.
		before.emits[0].done.resolve(run('success'));
		await settle();
		await before.close();

		const saved = structuredClone(before.h.stateAtDelivery[1]);
		expect(listed(saved).map((e) => e.ids)).toEqual([[first.id], [second.id]]);
		const after = await triggerOn(fake, ledger, saved);
		after.start();
		await settle();
		expect(after.h.batches).toEqual([]);
		expect(listed(after.h.state)).toEqual([{ n: 1, ids: [second.id] }]);

		// The second crashes: n8n tells the closed trigger, the running one emits it again.
		before.emits[1].done.resolve(run('crashed'));
		await waitFor('the emission again', () => after.h.batches.length >= 1, 10_000, 20);
		expect(after.h.batches.map(ids)).toEqual([[second.id]]);
		expect(flags(after.h.batches[0])).toEqual([undefined]);
		expect(listed(after.h.stateAtDelivery[0])).toEqual([{ n: 2, ids: [second.id] }]);
		after.emits[0].done.resolve(run('success'));
		await settle();
		expect(after.h.state.unsettled).toBeUndefined();
		expect([...before.reported, ...after.reported]).toEqual([]);
	});

	it('a crash reported to a trigger that closed with none after it (a deactivation) is logged, and the next start here emits it again', async () => {
		const ledger = newProcess();
		const before = await triggerOn(fake, ledger);
		before.start();
		const mail = fake.mailbox.deliver({ subject: 'crashes after the deactivation' });
		await before.h.engine.sync();
		await before.close();
		before.emits[0].done.resolve(run('crashed'));
		await waitFor('the error logged', () => before.logger.lines.some((l) => l.level === 'error'), 10_000, 20);

		const reactivated = await triggerOn(fake, ledger, structuredClone(before.h.stateAtDelivery[0]));
		reactivated.start();
		await waitFor('the emission again', () => reactivated.h.batches.length >= 1, 10_000, 20);
		expect(reactivated.h.batches.map(ids)).toEqual([[mail.id]]);
		expect(flags(reactivated.h.batches[0])).toEqual([true]);
	});
});

/**
 * subscribe() as n8n runs it, with poll delivery (no Pub/Sub needed): OAuth2 through n8n's
 * httpRequestWithAuthentication, which here reaches the fake Gmail.
 */
function pollTrigger(fake: FakeGoogle, workflowId: string, staticData: IDataObject) {
	const emits: Array<{ items: INodeExecutionData[]; done: IDeferredPromise<IRun>; saved: IDataObject }> = [];
	const token = fake.issueToken({ scopes: [SCOPES.readonly] });
	const parameters: Record<string, unknown> = { delivery: 'poll', authentication: 'oAuth2', labelIds: [] };
	const context = {
		getMode: () => 'trigger',
		getActivationMode: () => 'activate',
		getNode: () => NODE,
		getWorkflow: () => ({ id: workflowId }),
		getNodeParameter: (name: string, fallback?: unknown) => (name in parameters ? parameters[name] : fallback),
		getCredentials: async () => ({ clientId: 'client-id', clientSecret: 'client-secret', oauthTokenData: { access_token: token } }),
		getWorkflowStaticData: () => staticData,
		logger: recordingLogger(),
		// n8n saves the static data at the emit: `saved` is that copy.
		emit: (data: INodeExecutionData[][], _response?: unknown, done?: IDeferredPromise<IRun>) => emits.push({ items: data[0], done: done!, saved: structuredClone(staticData) }),
		emitError: (error: Error) => {
			throw error;
		},
		helpers: {
			httpRequestWithAuthentication: async (_type: string, request: IHttpRequestOptions) => {
				const response = await fake.fetch(String(request.url), { method: request.method, headers: { authorization: `Bearer ${token}` } });
				const text = await response.text();
				if (!response.ok) throw Object.assign(new Error(text), { httpCode: String(response.status) });
				return { body: text ? JSON.parse(text) : '', statusCode: response.status, headers: Object.fromEntries(response.headers) };
			},
		},
	};
	return { context: context as never, emits, logger: context.logger };
}

describe('subscribe(): a trigger start settles the saved list first', () => {
	let fake: FakeGoogle;
	let workflows = 0;
	const workflowId = () => `unsettled-${++workflows}-${process.pid}`;

	beforeEach(async () => {
		fake = await startFake();
	});
	afterEach(async () => {
		await fake.close();
	});

	it('a start on what another process saved emits its unsettled emission again before the first sync; a save after it emits nothing again', async () => {
		const cursor = fake.mailbox.historyId;
		const mails = [1, 2].map((i) => fake.mailbox.deliver({ subject: `before the restart ${i}` }));
		const first = pollTrigger(fake, workflowId(), { cursor, emailAddress: fake.mailbox.emailAddress });
		const stopped: ITriggerResponse = await subscribe.call(first.context);
		await waitFor('the first sync', () => first.emits.length >= 1, 10_000, 20);
		await stopped.closeFunction?.();

		// n8n starts elsewhere (this process never ran that workflow) on what it saved at the emit.
		const meanwhile = fake.mailbox.deliver({ subject: 'while n8n was down' });
		const id = workflowId();
		const restarted = pollTrigger(fake, id, structuredClone(first.emits[0].saved));
		const running: ITriggerResponse = await subscribe.call(restarted.context);
		try {
			await waitFor('the emission again and the sync', () => restarted.emits.length >= 2, 10_000, 20);
			const items = restarted.emits.map((e) => e.items.map((i) => [i.json.id, i.json.possibleDuplicate]));
			expect(items).toEqual([mails.map((m) => [m.id, true]), [[meanwhile.id, undefined]]]);
			for (const emit of restarted.emits) emit.done.resolve(run('success'));
			await settle();
		} finally {
			await running.closeFunction?.();
		}

		// A save: n8n starts the trigger again here, on what it saved at the last emit.
		const saved = pollTrigger(fake, id, structuredClone(restarted.emits[1].saved));
		const again: ITriggerResponse = await subscribe.call(saved.context);
		try {
			await settle();
			expect(saved.emits).toEqual([]);
		} finally {
			await again.closeFunction?.();
		}
	});
});
