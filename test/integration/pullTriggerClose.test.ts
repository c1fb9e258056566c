/**
 * The pull trigger itself (subscribe(), as n8n runs it) with Set Up Google Cloud on: the fake
 * Gmail, the Pub/Sub emulator behind the fake IAM, and a hand-built trigger context whose emit
 * hands us n8n's donePromise and whose emitError records what n8n would be told.
 *
 * After a trigger reports an error, n8n closes it and adds it again later: that close is no
 * deactivation, so it must not schedule the removal of the subscription the set-up made
 * (shell/removal.ts). A deactivation's close does schedule it.
 */
import type { IDataObject, IDeferredPromise, IHttpRequestOptions, INode, INodeExecutionData, IRun, ITriggerResponse } from 'n8n-workflow';
import { subscribe } from '../../nodes/GmailPushTrigger/shell/trigger';
import { cancelRemoval } from '../../nodes/GmailPushTrigger/shell/removal';
import { SCOPES, type FakeGoogle } from '../support/fakeGoogle';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { waitFor } from '../support/n8n';
import { recordingLogger, startFake } from './harness';

jest.setTimeout(120_000);

const PUBSUB_SCOPE = 'https://www.googleapis.com/auth/pubsub';
const TOPIC = 'projects/close-project/topics/gmail-push';
const SUBSCRIPTION = 'projects/close-project/subscriptions/gmail-push-n8n';
const NODE = { id: 'pull-node-1', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1.1, position: [0, 0], parameters: {} } as INode;
const PARAMETERS: Record<string, unknown> = { delivery: 'pull', topicName: TOPIC, setUpGoogleCloud: true, authentication: 'oAuth2', labelIds: [] };

let emulator: PubSubEmulator;
let iam: FakeIam;
let fake: FakeGoogle;
const savedHost = process.env.PUBSUB_EMULATOR_HOST;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
	process.env.PUBSUB_EMULATOR_HOST = emulator.host;
	iam = await startFakeIam(emulator.baseUrl);
	fake = await startFake();
	for (const route of pubSubAdminRoutes(iam)) fake.addRoute(route);
}, 90_000);

afterAll(async () => {
	if (savedHost === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
	else process.env.PUBSUB_EMULATOR_HOST = savedHost;
	await fake?.close();
	await iam?.close();
	await emulator?.stop();
});

/** What n8n hands trigger(): one workflow's static data, its emits and its error path. */
/** Each workflow its own subscription: the set-up refuses one made for another workflow's trigger. */
const subscriptionOf = (workflowId: string) => `${SUBSCRIPTION}-${workflowId}`;

function triggerContext(workflowId: string) {
	const staticData: IDataObject = {};
	const emits: Array<{ items: INodeExecutionData[]; done?: IDeferredPromise<IRun> }> = [];
	const emitErrors: Error[] = [];
	const token = fake.issueToken({ scopes: [SCOPES.readonly, PUBSUB_SCOPE] });
	const context = {
		getMode: () => 'trigger',
		getActivationMode: () => 'activate',
		getNode: () => NODE,
		getWorkflow: () => ({ id: workflowId }),
		getNodeParameter: (name: string, fallback?: unknown) => (name === 'subscriptionName' ? subscriptionOf(workflowId) : name in PARAMETERS ? PARAMETERS[name] : fallback),
		getCredentials: async () => ({ clientId: 'client-id', clientSecret: 'client-secret', oauthTokenData: { access_token: token, refresh_token: 'refresh-token' } }),
		getWorkflowStaticData: () => staticData,
		logger: recordingLogger(),
		emit: (data: INodeExecutionData[][], _response?: unknown, done?: IDeferredPromise<IRun>) => emits.push({ items: data[0], done }),
		emitError: (error: Error) => emitErrors.push(error),
		helpers: {
			// n8n's OAuth2 request, with the token the fake issued; *.googleapis.com is the fake.
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
	};
	return { context: context as never, staticData, emits, emitErrors };
}

const crashed = { status: 'crashed', finished: false, data: { resultData: { runData: {} } } } as unknown as IRun;

describe('the close that follows a reported error keeps the subscription the set-up made', () => {
	let workflows = 0;
	const workflowId = () => `pull-close-${++workflows}-${process.pid}`;

	it('a deactivation (a close with no error reported) schedules the removal', async () => {
		const id = workflowId();
		const t = triggerContext(id);
		const trigger: ITriggerResponse = await subscribe.call(t.context);
		await trigger.closeFunction?.();
		expect(cancelRemoval(subscriptionOf(id))).toBe(true);
	});

	it('after the third crash in a row is reported, the close n8n runs schedules no removal', async () => {
		const id = workflowId();
		const t = triggerContext(id);
		const trigger: ITriggerResponse = await subscribe.call(t.context);
		try {
			const mail = fake.mailbox.deliver({ subject: 'crashes three times' });
			await emulator.publish(TOPIC, fake.mailbox.notificationData());
			for (let emission = 1; emission <= 3; emission++) {
				await waitFor(`emission ${emission}`, () => t.emits.length >= emission, 30_000, 20);
				expect(t.emits[emission - 1].items.map((i) => i.json.id)).toEqual([mail.id]);
				t.emits[emission - 1].done!.resolve(crashed);
			}
			await waitFor('the error reported', () => t.emitErrors.length > 0, 10_000, 20);
			expect(t.emitErrors[0].message).toMatch(/1 email\(s\) were in 3 executions in a row that crashed/);
		} finally {
			// What n8n does after emitError: close the trigger (and add it again later).
			await trigger.closeFunction?.();
		}
		expect(cancelRemoval(subscriptionOf(id))).toBe(false);
		expect(t.emits).toHaveLength(3);
	});

	it('a save that renamed the subscription schedules the removal of the one the node used before; the new one stays', async () => {
		const id = workflowId();
		const t = triggerContext(id);
		const previous = `${subscriptionOf(id)}-before-the-rename`;
		// What the node stored when it last ran with the old name.
		Object.assign(t.staticData, { madeSubscription: previous });
		const trigger: ITriggerResponse = await subscribe.call(t.context);
		try {
			expect(t.staticData).toMatchObject({ madeSubscription: subscriptionOf(id) });
			expect(cancelRemoval(previous)).toBe(true);
			expect(cancelRemoval(subscriptionOf(id))).toBe(false);
		} finally {
			await trigger.closeFunction?.();
		}
	});

	it('a second active trigger on the subscription another one reads is refused, naming it', async () => {
		const id = workflowId();
		const original = triggerContext(id);
		const trigger: ITriggerResponse = await subscribe.call(original.context);
		try {
			// A copy with the set-up off reads what it is told: only the readers here can tell.
			const copy = triggerContext(workflowId());
			const name = subscriptionOf(id);
			const parameters = { ...PARAMETERS, subscriptionName: name, setUpGoogleCloud: false };
			Object.assign(copy.context, { getNodeParameter: (p: string, fallback?: unknown) => (p in parameters ? parameters[p as keyof typeof parameters] : fallback) });
			await expect(subscribe.call(copy.context)).rejects.toThrow(new RegExp(`Subscription ${name} is already read by another active Gmail Push Trigger \\(workflow ${id}\\): give this trigger its own Subscription Name`));
		} finally {
			await trigger.closeFunction?.();
		}
	});

	it('two triggers starting at once on one subscription: one starts, the other is refused; a refused start holds nothing', async () => {
		const id = workflowId();
		const name = subscriptionOf(id);
		const parameters = { ...PARAMETERS, subscriptionName: name, setUpGoogleCloud: false };
		const both = [triggerContext(id), triggerContext(workflowId())];
		for (const t of both) Object.assign(t.context, { getNodeParameter: (p: string, fallback?: unknown) => (p in parameters ? parameters[p as keyof typeof parameters] : fallback) });
		await subscribe.call(triggerContext(id).context).then(async (t: ITriggerResponse) => await t.closeFunction?.()); // makes the subscription
		const started = await Promise.allSettled(both.map(async (t) => (await subscribe.call(t.context)) as ITriggerResponse));
		const fulfilled = started.filter((r): r is PromiseFulfilledResult<ITriggerResponse> => r.status === 'fulfilled');
		expect(fulfilled).toHaveLength(1);
		expect(started.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([expect.stringMatching(/is already read by another active Gmail Push Trigger/)]);
		await fulfilled[0].value.closeFunction?.();
		// Both gone: a third may read it.
		const third = (await subscribe.call(both[1].context)) as ITriggerResponse;
		await third.closeFunction?.();
	});
});
