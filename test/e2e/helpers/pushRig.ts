/**
 * Shared set-up of the push-authentication, fuzz and fault e2e suites (pushAuth, fuzz, faults):
 * the fake Google over HTTPS on a random port (several runs may share the machine), a real n8n
 * of one major with the packed package, a service-account credential with a real RSA key, and
 * push workflows made from fixtures/push-workflow.json with other parameters and their own ids.
 * Follows push.test.ts: same fixture, same way of posting, same 503-means-redeliver rule.
 */
import { randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import path from 'path';
import { OIDC_METHODS, type CallRecord, type FakeGoogle } from '../../support/fakeGoogle';
import { http, itemsOf, sleep, staticDataFromDb, waitFor, type CredentialRef, type HttpReply, type N8nMajor, type N8nSession, type WorkflowJson } from '../../support/n8n';

export const FIXTURE = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'push-workflow.json'), 'utf8')) as WorkflowJson;
export const TRIGGER = 'Gmail Push Trigger';
import { EMAIL, PROJECT, SERVICE_ACCOUNT, startStack, withLogTail } from '../../support/stack';

export { EMAIL, PROJECT, SERVICE_ACCOUNT };
/** The service account the Pub/Sub push subscription signs its OIDC tokens with. */
export const PUSH_SERVICE_ACCOUNT = 'pubsub-push@test-project.iam.gserviceaccount.com';
/** Time given to n8n to (not) start an execution before asserting that nothing happened. */
export const SETTLE_MS = 2000; // longer than the follow-up sync after a notification (FOLLOW_UP_MS, 1.5 s), so counts taken after a settle include it

export interface TriggerState {
	cursor?: string;
	emailAddress?: string;
	watch?: { historyId?: string; expiration?: number };
	seen?: string;
	seenOther?: string[];
	recent?: string[];
	lastEmittedAt?: number;
}

export interface PushWorkflow {
	id: string;
	webhookPath: string;
	/** The Production URL (no query). */
	url: string;
	workflow: WorkflowJson;
}

/** The fixture with other trigger parameters, a name, a webhook id and node ids of its own. */
export function pushWorkflow(name: string, parameters: Record<string, unknown>): WorkflowJson {
	const copy = JSON.parse(JSON.stringify(FIXTURE)) as WorkflowJson;
	copy.name = `${FIXTURE.name} ${name}`;
	for (const node of copy.nodes) node.id = randomUUID();
	const trigger = copy.nodes.find((n) => n.name === TRIGGER)!;
	trigger.webhookId = randomUUID();
	trigger.parameters = { ...trigger.parameters, ...parameters };
	for (const [key, value] of Object.entries(trigger.parameters)) if (value === undefined) delete trigger.parameters[key];
	return copy;
}

/** A Pub/Sub push envelope around Gmail's notification (data as Gmail sends it: historyId unquoted). */
export function pushBody(historyId: string, messageId = '1', emailAddress = EMAIL): Record<string, unknown> {
	const now = new Date().toISOString();
	return {
		message: {
			data: Buffer.from(`{"emailAddress":${JSON.stringify(emailAddress)},"historyId":${historyId}}`).toString('base64'),
			messageId,
			message_id: messageId,
			publishTime: now,
			publish_time: now,
		},
		subscription: `projects/${PROJECT}/subscriptions/gmail-push-n8n`,
	};
}

/** Calls the fake got that are not the OIDC certs (Gmail API, token endpoint), at or after `since`. */
export function gmailCallsSince(fake: FakeGoogle, since: number): CallRecord[] {
	return fake.calls.filter((c) => c.at >= since && !OIDC_METHODS.includes(c.method));
}

export interface Rig {
	major: N8nMajor;
	fake: FakeGoogle;
	session: N8nSession;
	credential: CredentialRef;
	/** PEM of the credential's private key (must never show up in n8n's log). */
	privateKey: string;
	close(): Promise<void>;
	/** Imports and activates a push workflow, waits for its webhook, watch and first sync. */
	deploy(workflow: WorkflowJson): Promise<PushWorkflow>;
	/** POST to a workflow's Production URL. */
	post(target: PushWorkflow, body: unknown, init?: { query?: Record<string, string>; headers?: Record<string, string>; contentType?: string | null }): Promise<HttpReply<Record<string, unknown>>>;
	/** POST like Pub/Sub: while n8n answers 503 because the trigger is not running yet, again. */
	postUntilRunning(target: PushWorkflow, body: unknown, init?: { query?: Record<string, string>; headers?: Record<string, string> }): Promise<HttpReply<Record<string, unknown>>>;
	executionCount(workflowId: string): Promise<number>;
	/** Items the trigger emitted, over all executions, oldest first. */
	triggerItems(workflowId: string): Promise<{ executions: number; items: Array<Record<string, unknown>> }>;
	/** Waits until the trigger emitted `count` items in total, lets stragglers arrive, returns them. */
	waitForItems(workflowId: string, count: number): Promise<{ executions: number; items: Array<Record<string, unknown>> }>;
	/** The trigger's static data as stored in n8n's DB. */
	storedState(workflowId: string): Promise<TriggerState>;
	/** Runs `fn`; on failure adds the tail of n8n's log to the error. */
	step(fn: () => Promise<void>): Promise<void>;
}

export async function startRig(major: N8nMajor): Promise<Rig> {
	const { fake, session, credential, privateKey, close } = await startStack(major);

	const triggerItems = async (workflowId: string) => {
		const executions = await session.api.executions(workflowId);
		return { executions: executions.length, items: executions.flatMap((e) => itemsOf(e, TRIGGER)) };
	};

	const post: Rig['post'] = async (target, body, init = {}) => {
		const query = new URLSearchParams(init.query ?? {}).toString();
		const headers: Record<string, string> = { ...init.headers };
		if (init.contentType !== null) headers['content-type'] = init.contentType ?? 'application/json';
		return await http<Record<string, unknown>>(target.url + (query ? `?${query}` : ''), {
			method: 'POST',
			headers,
			body: typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
		});
	};

	const rig: Rig = {
		major,
		fake,
		session,
		credential,
		privateKey,
		close,
		async deploy(workflow) {
			const id = await session.api.importWorkflow(workflow, [credential]);
			const trigger = workflow.nodes.find((n) => n.name === TRIGGER)!;
			const webhookPath = `${trigger.webhookId}/webhook`;
			const watches = fake.count('users.watch');
			const histories = fake.count('history.list');
			const activation = await session.api.activate(id);
			if (activation.status !== 200) throw new Error(`activation of ${workflow.name}: ${activation.status} ${activation.text.slice(0, 500)}`);
			await session.api.waitForWebhookRegistered(webhookPath, 60_000);
			await waitFor(`users.watch for ${workflow.name}`, () => fake.count('users.watch') > watches, 60_000);
			// The trigger's first tick syncs once (mail that arrived while n8n was down).
			await waitFor(`the first sync of ${workflow.name}`, () => fake.count('history.list') > histories, 60_000);
			await waitFor(`the cursor of ${workflow.name} in the DB`, async () => (await rig.storedState(id)).cursor !== undefined, 60_000, 250);
			return { id, webhookPath, url: session.n8n.webhookUrl(webhookPath), workflow };
		},
		post,
		async postUntilRunning(target, body, init = {}) {
			return await waitFor(
				`an answer other than 503 from ${target.url}`,
				async () => {
					const reply = await post(target, body, init);
					return reply.status === 503 && /not running/.test(reply.text) ? undefined : reply;
				},
				60_000,
				500,
			);
		},
		async executionCount(workflowId) {
			return (await session.api.executions(workflowId)).length;
		},
		triggerItems,
		async waitForItems(workflowId, count) {
			await waitFor(`${count} trigger item(s)`, async () => ((await triggerItems(workflowId)).items.length >= count ? true : undefined), 60_000, 250);
			await sleep(SETTLE_MS);
			return await triggerItems(workflowId);
		},
		async storedState(workflowId) {
			return ((await staticDataFromDb(session.userFolder, workflowId))[`node:${TRIGGER}`] ?? {}) as TriggerState;
		},
		step: async (fn) => await withLogTail(session, fn),
	};
	return rig;
}

/** ms → "12.3 s", for the summary lines. */
export function seconds(ms: number): string {
	return `${(ms / 1000).toFixed(1)} s`;
}
