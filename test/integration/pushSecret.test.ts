/**
 * A shared-secret push set-up that fails, through the node's own create() hook: n8n's context
 * around it (OAuth2 requests with a token the fake issued), the fake Gmail, and Google's real
 * Pub/Sub emulator behind the fake IAM. After a secret rotation the subscription still pushes
 * to ?token=<old>; neither the old nor the new secret may show in the error n8n receives
 * (message, description, stack, what it saves of it) or in a log line.
 */
import type { IHttpRequestOptions, INode } from 'n8n-workflow';
import { create } from '../../nodes/GmailPushTrigger/shell/hooks';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../nodes/GmailPushTrigger/googleCloud/iam';
import { SCOPES, type FakeGoogle } from '../support/fakeGoogle';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { plainRequest, startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { recordingLogger, startFake, type RecordingLogger } from './harness';

const PUBSUB = 'https://www.googleapis.com/auth/pubsub';
const WEBHOOK = 'https://n8n.example.com/webhook/5f0c2b1e/webhook';
/** Characters a URL encodes, so the raw, encoded and decoded forms all differ. */
const OLD = 'old secret/with+plus&more=0123';
const NEW = 'new-Secret(2)!~*42/abcdef+xyz';
const at = (secret: string) => `${WEBHOOK}?token=${encodeURIComponent(secret)}`;
const forms = (secret: string) => [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')];
/** The secrets (in any form) that `text` shows. */
const leaks = (text: string) => [OLD, NEW].flatMap(forms).filter((form) => text.includes(form));

let emulator: PubSubEmulator;
let iam: FakeIam;
let fake: FakeGoogle;
let projects = 0;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
	iam = await startFakeIam(emulator.baseUrl);
	fake = await startFake();
	for (const route of pubSubAdminRoutes(iam)) fake.addRoute(route);
}, 60_000);
afterAll(async () => {
	await fake?.close();
	await iam?.close();
	await emulator?.stop();
});
afterEach(() => fake.faults.clear());

/** A project whose topic exists and lets Gmail publish; its subscription name. */
async function project(): Promise<{ topic: string; subscription: string }> {
	const id = `secret-project-${++projects}`;
	const topic = `projects/${id}/topics/gmail-push`;
	await emulator.createTopic(topic);
	iam.setPolicy(topic, { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
	return { topic, subscription: `projects/${id}/subscriptions/gmail-push-n8n` };
}

interface Hook {
	context: never;
	logger: RecordingLogger;
}

/** n8n's hook context for a push node with Set Up Google Cloud on and its secret in the credential. */
function hook(topic: string, subscription: string, secret: string, mode: 'trigger' | 'manual' = 'trigger'): Hook {
	const token = fake.issueToken({ scopes: [SCOPES.readonly, PUBSUB] });
	const node = { id: `node-${projects}-${mode}`, name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1.1, position: [0, 0], parameters: {} } as INode;
	const parameters: Record<string, unknown> = {
		authentication: 'oAuth2',
		delivery: 'push',
		topicName: topic,
		subscriptionName: subscription,
		setUpGoogleCloud: true,
		pushAuthentication: 'sharedSecretCredential',
		labelIds: ['INBOX'],
	};
	const staticData: Record<string, unknown> = {};
	const logger = recordingLogger();
	const context = {
		getMode: () => mode,
		getActivationMode: () => 'activate',
		getNode: () => node,
		getWorkflow: () => ({ id: `wf-${projects}` }),
		getNodeParameter: (name: string, fallback?: unknown) => (name in parameters ? parameters[name] : fallback),
		getCredentials: async (type: string) => (type === 'gmailPushSharedSecretApi' ? { secret } : {}),
		// The editor's test run listens on the test URL; the node derives the Production URL from it.
		getNodeWebhookUrl: () => (mode === 'manual' ? WEBHOOK.replace('/webhook/', '/webhook-test/') : WEBHOOK),
		getWorkflowStaticData: () => staticData,
		logger,
		helpers: {
			httpRequestWithAuthentication: async (_type: string, request: IHttpRequestOptions) => {
				const response = await fake.fetch(String(request.url), {
					method: request.method,
					headers: { ...(request.headers as Record<string, string>), authorization: `Bearer ${token}`, 'content-type': 'application/json' },
					...(request.body !== undefined && { body: JSON.stringify(request.body) }),
				});
				const text = await response.text();
				// As n8n's request helper fails: the HTTP code, and Google's answer on the response (axios).
				if (!response.ok) throw Object.assign(new Error(`Request failed with status code ${response.status}`), { httpCode: String(response.status), response: { status: response.status, data: text ? JSON.parse(text) : undefined } });
				return { body: text ? JSON.parse(text) : '', statusCode: response.status, headers: Object.fromEntries(response.headers) };
			},
		},
	} as never;
	return { context, logger };
}

/** create() as n8n calls it; the error it throws. */
async function refusal(h: Hook): Promise<Error & { description?: string }> {
	const outcome = await create.call(h.context).then(
		() => new Error('create() succeeded'),
		(error: Error) => error,
	);
	expect(outcome.message).not.toBe('create() succeeded');
	return outcome;
}

/** Everything of the error and the log a person or n8n's database may get to see. */
function everything(error: Error & { description?: string }, logger: RecordingLogger): string {
	// n8n saves an execution's error spread, with its message and stack (WorkflowExecute).
	return [error.message, error.description, error.stack, JSON.stringify({ ...error, message: error.message, stack: error.stack }), ...logger.lines.map((l) => l.message)].join('\n');
}

const endpointOf = async (subscription: string) =>
	(JSON.parse((await plainRequest(`${emulator.baseUrl}/v1/${subscription}`, 'GET')).text) as { pushConfig?: { pushEndpoint?: string } }).pushConfig?.pushEndpoint;

describe('a shared secret never shows when the push set-up fails', () => {
	it('a rotated secret: activation fails saying the token differs and what to do, naming neither secret; the subscription stays as it was', async () => {
		const { topic, subscription } = await project();
		await emulator.createPushSubscription(topic, subscription, at(OLD));
		const h = hook(topic, subscription, NEW);

		const error = await refusal(h);

		expect(error.message).toContain(`Subscription ${subscription} pushes to this node's Production URL, but its token=… differs from the node's shared secret`);
		expect(error.message).toContain("set its endpoint to the Production URL followed by ?token= and the node's current secret");
		expect(error.description).toMatch(/✗ Push endpoint: .*token=… differs/);
		expect(leaks(everything(error, h.logger))).toEqual([]);
		expect(await endpointOf(subscription)).toBe(at(OLD)); // reported, not rewritten
	});

	it('the comparison is of the real endpoints: with the secret the subscription carries, the set-up passes', async () => {
		const { topic, subscription } = await project();
		await emulator.createPushSubscription(topic, subscription, at(OLD));
		const h = hook(topic, subscription, OLD);

		await expect(create.call(h.context)).resolves.toBe(true);

		expect(h.logger.lines.map((l) => l.message).join('\n')).toMatch(/Google Cloud set up: .*push subscription \S+ present/);
		expect(leaks(h.logger.lines.map((l) => l.message).join('\n'))).toEqual([]);
	});

	it('a test run in the editor: the set-up check fails the push endpoint line, naming neither secret', async () => {
		const { topic, subscription } = await project();
		await emulator.createPushSubscription(topic, subscription, at(OLD));
		const h = hook(topic, subscription, NEW, 'manual');

		const error = await refusal(h);

		expect(error.message).toBe('Set-up check failed: Shared secret differs');
		expect(error.description).toMatch(/<li><b>Shared secret differs<\/b>: \S+ pushes to this node's Production URL, but its token differs/);
		expect(leaks(everything(error, h.logger))).toEqual([]);
	});

	it("Google refusing the subscription with the endpoint in its message: the error shows it as token=…", async () => {
		const { topic, subscription } = await project();
		const google = `Invalid push endpoint given (endpoint=${at(NEW)}). Refer to https://cloud.google.com/pubsub/docs/create-push-subscription for more information.`;
		fake.faults.failNext('pubsub.PUT', 400, 1, { message: google, reason: 'badRequest' });
		const h = hook(topic, subscription, NEW);

		const error = await refusal(h);

		expect(error.message).toContain(`Setting up Google Cloud failed: Pub/Sub subscriptions.create failed (400): Invalid push endpoint given (endpoint=${WEBHOOK}?token=…`);
		expect(leaks(everything(error, h.logger))).toEqual([]);
		expect((await plainRequest(`${emulator.baseUrl}/v1/${subscription}`, 'GET')).status).toBe(404);
	});
});
