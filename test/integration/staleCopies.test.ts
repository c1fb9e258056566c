/**
 * The webhook hooks (checkExists, create, delete) must never write back a copy of the static
 * data that is older than what the trigger saved. With several mains (n8n multi-main) every
 * main runs checkExists/create at its start while the leader's trigger keeps emitting, and
 * delete() may run in a main without the trigger; n8n saves a hook's copy afterwards whenever
 * the hook changed it (`__dataChanged`, set by n8n's own ObservableObject used here).
 *
 * The hooks run with a hand-built hook context over the fake Gmail; Google's answers are the
 * fake's, the static data is n8n-workflow's ObservableObject as n8n builds it for a workflow.
 */
import { ObservableObject, type IDataObject, type IHttpRequestOptions, type INode, type WorkflowActivateMode } from 'n8n-workflow';
import { checkExists, create, remove } from '../../nodes/GmailPushTrigger/shell/hooks';
import { registerEngine } from '../../nodes/GmailPushTrigger/shell/runtime';
import type { TriggerState } from '../../nodes/GmailPushTrigger/engine/triggerState';
import type { FakeGoogle } from '../support/fakeGoogle';
import { engineFor, recordingLogger, startFake, TOPIC } from './harness';

const NODE = { id: 'n1', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1, position: [0, 0], parameters: {} } as INode;
const PARAMETERS: Record<string, unknown> = { delivery: 'push', topicName: TOPIC, labelIds: [], pushAuthentication: 'none', authentication: 'oAuth2' };
const DAY = 24 * 60 * 60 * 1000;

let workflows = 0;

/** n8n's static data for one workflow: an ObservableObject, the node's part under `node:<name>`. */
function workflowStaticData(node: TriggerState | undefined): IDataObject & { __dataChanged?: boolean } {
	return ObservableObject.create(node ? { [`node:${NODE.name}`]: structuredClone(node) as IDataObject } : {}) as IDataObject & { __dataChanged?: boolean };
}

function hookContext(fake: FakeGoogle, staticData: IDataObject, activation: WorkflowActivateMode, workflowId: string) {
	const token = fake.issueToken();
	return {
		getMode: () => 'trigger',
		getActivationMode: () => activation,
		getNode: () => NODE,
		getWorkflow: () => ({ id: workflowId }),
		getNodeParameter: (name: string, fallback?: unknown) => (name in PARAMETERS ? PARAMETERS[name] : fallback),
		getCredentials: async () => ({}),
		getNodeWebhookUrl: () => `https://n8n.example.com/webhook/${workflowId}/webhook`,
		// What Workflow.getStaticData('node') does: the node's object, created when missing.
		getWorkflowStaticData: (type: string) => {
			const key = `${type}:${NODE.name}`;
			if (staticData[key] === undefined) staticData[key] = {};
			return staticData[key] as IDataObject;
		},
		logger: recordingLogger(),
		helpers: {
			// n8n's OAuth2 request, with the token the fake issued.
			httpRequestWithAuthentication: async (_type: string, request: IHttpRequestOptions) => {
				const response = await fake.fetch(String(request.url), {
					method: request.method,
					headers: { ...(request.headers as Record<string, string>), authorization: `Bearer ${token}`, 'content-type': 'application/json' },
					...(request.body !== undefined && { body: JSON.stringify(request.body) }),
				});
				const text = await response.text();
				if (!response.ok) throw Object.assign(new Error(text), { httpCode: String(response.status) });
				return { body: text ? JSON.parse(text) : '', statusCode: response.status, headers: Object.fromEntries(response.headers) };
			},
		},
	} as never;
}

describe('the webhook hooks never write back an older copy of the static data', () => {
	let fake: FakeGoogle;
	let workflowId: string;
	beforeEach(async () => {
		fake = await startFake();
		workflowId = `stale-copies-${++workflows}-${process.pid}`;
	});
	afterEach(async () => {
		await fake.close();
	});

	/** What the leader saved: a cursor, a seen record, and a watch renewed two days ago. */
	function savedState(): TriggerState {
		fake.mailbox.deliver({ subject: 'before' });
		const historyId = fake.mailbox.profile().historyId;
		const now = Date.now();
		return {
			cursor: historyId,
			emailAddress: 'user@example.com',
			seen: 'AAAAAAAAAAE',
			lastEmittedAt: now - DAY,
			watch: { topicName: TOPIC, labelIds: [], labelFilterBehavior: 'include', historyId, expiration: now + 5 * DAY, renewedAt: now - 2 * DAY },
		};
	}

	it('a main starting beside the leader renews an old watch and changes nothing n8n would save', async () => {
		const before = savedState();
		const staticData = workflowStaticData(before);
		const context = hookContext(fake, staticData, 'init', workflowId);

		await expect(checkExists.call(context)).resolves.toBe(false); // a day old: create renews it
		await expect(create.call(context)).resolves.toBe(true);

		expect(fake.count('users.watch')).toBe(1);
		expect(staticData.__dataChanged).toBe(false);
		expect(JSON.parse(JSON.stringify(staticData))).toEqual({ [`node:${NODE.name}`]: before });
		// This process now knows the watch is fresh: a second start of the hooks leaves it to the trigger.
		await expect(checkExists.call(hookContext(fake, workflowStaticData(before), 'init', workflowId))).resolves.toBe(true);
	});

	it('the trigger in the same process takes the watch create() made into the state it saves, without a second watch call', async () => {
		const staticData = workflowStaticData(savedState());
		const context = hookContext(fake, staticData, 'init', workflowId);
		expect(await checkExists.call(context)).toBe(false);
		await create.call(context);
		const state = (context as { getWorkflowStaticData(t: string): IDataObject }).getWorkflowStaticData('node') as TriggerState;
		const trigger = engineFor(fake, { state });

		await expect(trigger.engine.ensureWatch(`${workflowId}:${NODE.id}`)).resolves.toBe('fresh');

		expect(fake.count('users.watch')).toBe(1);
		expect(Date.now() - (state.watch?.renewedAt ?? 0)).toBeLessThan(60_000);
		expect(staticData.__dataChanged).toBe(true); // the leader's trigger: n8n saves this after activation
	});

	it('a first activation sets the cursor and the watch in the static data', async () => {
		const staticData = workflowStaticData(undefined);
		const context = hookContext(fake, staticData, 'activate', workflowId);
		await expect(checkExists.call(context)).resolves.toBe(false);
		await create.call(context);

		const node = staticData[`node:${NODE.name}`] as TriggerState;
		expect(node.cursor).toBe(fake.mailbox.profile().historyId);
		expect(node.watch?.topicName).toBe(TOPIC);
		expect(staticData.__dataChanged).toBe(true);
	});

	it('a user’s activation or save always renews the watch; a start or a leader change trusts a fresh one', async () => {
		const fresh = { ...savedState(), watch: { ...savedState().watch!, renewedAt: Date.now() - 60_000 } };
		const answers: Record<string, boolean> = {};
		for (const mode of ['init', 'leadershipChange', 'activate', 'update'] as const) {
			answers[mode] = await checkExists.call(hookContext(fake, workflowStaticData(fresh), mode, workflowId));
		}
		expect(answers).toEqual({ init: true, leadershipChange: true, activate: false, update: false });
	});

	it('a re-activation watches anew although the record looks fresh (users.stop ran elsewhere or before a restart); the trigger takes that watch over', async () => {
		// What 2.x's delete() leaves: it stopped the watch without the trigger, and wrote nothing.
		const fresh = { ...savedState(), watch: { ...savedState().watch!, renewedAt: Date.now() - 60_000 } };
		const staticData = workflowStaticData(fresh);
		const context = hookContext(fake, staticData, 'activate', workflowId);
		expect(await checkExists.call(context)).toBe(false);
		await create.call(context);
		expect(fake.count('users.watch')).toBe(1);

		const state = (context as { getWorkflowStaticData(t: string): IDataObject }).getWorkflowStaticData('node') as TriggerState;
		const trigger = engineFor(fake, { state });
		await expect(trigger.engine.ensureWatch(`${workflowId}:${NODE.id}`, { force: true })).resolves.toBe('fresh');
		expect(fake.count('users.watch')).toBe(1);
	});

	it('a forced watch that meets a renewal under way which found the watch fresh still watches, once', async () => {
		const fresh = { ...savedState(), watch: { ...savedState().watch!, renewedAt: Date.now() - 60 * 60_000 } };
		const trigger = engineFor(fake, { state: structuredClone(fresh) });
		const key = `${workflowId}:${NODE.id}`;
		const renewal = trigger.engine.ensureWatch(key);
		const activation = trigger.engine.ensureWatch(key, { force: true });
		await expect(renewal).resolves.toBe('fresh');
		await expect(activation).resolves.toBe('forced');
		expect(fake.count('users.watch')).toBe(1);
	});

	it('a restart watches anew without failing the start when Google refuses; the next tick watches', async () => {
		const fresh = { ...savedState(), watch: { ...savedState().watch!, renewedAt: Date.now() - 60_000 } };
		const trigger = engineFor(fake, { state: structuredClone(fresh) });
		const key = `${workflowId}:${NODE.id}`;
		fake.faults.failNext('users.watch', 503, 1);
		await expect(trigger.engine.ensureWatchOnRestart(key)).resolves.toBeUndefined();
		expect(fake.count('users.watch')).toBe(1);
		await trigger.engine.tick({ watchKey: key, syncAfterMs: 60 * 60 * 1000 });
		expect(fake.count('users.watch')).toBe(2);
		await trigger.engine.tick({ watchKey: key, syncAfterMs: 60 * 60 * 1000 });
		expect(fake.count('users.watch')).toBe(2);
	});

	it('delete() in a main without the trigger stops the watch and writes nothing back', async () => {
		const before = savedState();
		const staticData = workflowStaticData(before);

		await expect(remove.call(hookContext(fake, staticData, 'update', workflowId))).resolves.toBe(true);

		expect(fake.count('users.stop')).toBe(1);
		expect(staticData.__dataChanged).toBe(false);
		expect(JSON.parse(JSON.stringify(staticData))).toEqual({ [`node:${NODE.name}`]: before });
	});

	it('delete() where the trigger runs brings its copy up to the engine’s and drops the watch', async () => {
		const older: TriggerState = { ...savedState(), searchRecheck: [{ at: Date.now() - 60_000, ids: ['00000000000000aa'] }] };
		const newer: TriggerState = { ...older, cursor: (BigInt(older.cursor!) + 5n).toString(), seen: 'AAAAAAAAAAI', searchRecheck: [{ at: Date.now(), ids: ['00000000000000bb'] }] };
		const trigger = engineFor(fake, { state: structuredClone(newer) });
		const unregister = registerEngine(`${workflowId}:${NODE.id}`, trigger.engine);
		try {
			const staticData = workflowStaticData(older);
			await remove.call(hookContext(fake, staticData, 'update', workflowId));

			const node = staticData[`node:${NODE.name}`] as TriggerState;
			expect(node.cursor).toBe(newer.cursor);
			expect(node.seen).toBe(newer.seen);
			// The emails held for Search's re-ask go with the cursor that moved past them.
			expect(node.searchRecheck).toEqual(newer.searchRecheck);
			expect(node.watch).toBeUndefined();
			expect(staticData.__dataChanged).toBe(true);
		} finally {
			unregister();
		}
	});
});
