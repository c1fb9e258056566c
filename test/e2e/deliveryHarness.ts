/**
 * Shared set-up of the pull, poll, restart and manual-test e2e suites: the fake Google over HTTPS
 * on a free port (FAKE_GOOGLE_PORT in n8n's preload; 127.0.0.1:443 is shared), a real n8n with
 * the packed package, a service-account credential with a real RSA key, and workflows built for
 * one delivery each (Gmail Push Trigger → No Operation).
 */
import { randomUUID } from 'crypto';
import { type FakeGoogle, type StoredMessage } from '../support/fakeGoogle';
import {
	http,
	itemsOf,
	sleep,
	staticDataFromDb,
	waitFor,
	type CredentialRef,
	type ExecutionSummary,
	type N8nMajor,
	type N8nSession,
	type WorkflowJson,
} from '../support/n8n';

export const TRIGGER = 'Gmail Push Trigger';
import { EMAIL, PROJECT, SERVICE_ACCOUNT, startStack, withLogTail } from '../support/stack';

export { EMAIL, PROJECT, SERVICE_ACCOUNT };
export const NODE_TYPE = 'n8n-nodes-gmail-push.gmailPushTrigger';
/** Time given to n8n to (not) start an execution before asserting what happened. */
export const SETTLE_MS = 2000; // longer than the follow-up sync after a notification (FOLLOW_UP_MS, 1.5 s), so counts taken after a settle include it

export type Delivery = 'push' | 'pull' | 'poll';

export interface WorkflowSpec {
	name: string;
	delivery: Delivery;
	topicName?: string;
	subscriptionName?: string;
	pollIntervalMinutes?: number;
	/** Extra trigger parameters (they win over the defaults). */
	parameters?: Record<string, unknown>;
}

/** Gmail Push Trigger (service account, INBOX, messageAdded, simplified) → No Operation. */
export function triggerWorkflow(spec: WorkflowSpec): WorkflowJson & { webhookId: string } {
	const webhookId = randomUUID();
	const parameters: Record<string, unknown> = {
		authentication: 'serviceAccount',
		delivery: spec.delivery,
		labelIds: ['INBOX'],
		labelFilterBehavior: 'include',
		events: ['messageAdded'],
		output: 'simplified',
		...(spec.delivery !== 'poll' && { topicName: spec.topicName ?? `projects/${PROJECT}/topics/gmail-push` }),
		...(spec.delivery === 'pull' && { subscriptionName: spec.subscriptionName }),
		...(spec.delivery === 'poll' && { pollIntervalMinutes: spec.pollIntervalMinutes ?? 1 }),
		...(spec.delivery === 'push' && { pushAuthentication: 'none' }),
		...spec.parameters,
	};
	return {
		webhookId,
		name: spec.name,
		nodes: [
			{
				id: randomUUID(),
				name: TRIGGER,
				type: NODE_TYPE,
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters,
				credentials: { gmailPushServiceAccountApi: { id: 'REPLACED-BY-THE-TEST', name: 'Gmail Push service account' } },
			},
			{ id: randomUUID(), name: 'No Operation, do nothing', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [240, 0], parameters: {} },
		],
		connections: { [TRIGGER]: { main: [[{ node: 'No Operation, do nothing', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

/** What n8n logs once a trigger() of the workflow has returned (1.x and 2.x say it differently). */
export function triggerStartedLog(major: N8nMajor, workflowName: string, triggerName = TRIGGER): RegExp {
	const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	return major === 1 ? new RegExp(`Added triggers and pollers for workflow "${quote(workflowName)}"`) : new RegExp(`Activated trigger node "${quote(triggerName)}"`);
}

export interface TriggerStateInDb {
	cursor?: string;
	emailAddress?: string;
	watch?: { historyId: string; expiration: number; renewedAt: number; topicName: string };
	seen?: string;
	seenOther?: string[];
	recent?: string[];
	lastEmittedAt?: number;
	pendingCatchUp?: { cursor: string; ids?: string; otherIds?: string[] };
	searchRecheck?: Array<{ at: number; since?: number; ids: string[] }>;
}

export interface E2eContext {
	major: N8nMajor;
	fake: FakeGoogle;
	session: N8nSession;
	credential: CredentialRef;
	/** The service account's private key (PEM), for other nodes' credentials on the same fake Google. */
	privateKey: string;
	/** Every trigger item of the workflow so far, with the executions they came in. */
	triggerItems(workflowId: string): Promise<{ executions: ExecutionSummary[]; items: Array<Record<string, unknown>> }>;
	/** Waits until the workflow's trigger has emitted `count` items in total, then lets stragglers arrive. */
	waitForItems(workflowId: string, count: number, timeoutMs?: number): Promise<{ executions: ExecutionSummary[]; items: Array<Record<string, unknown>> }>;
	deliver(subject: string): StoredMessage;
	/** The node's static data as n8n stored it in its DB. */
	stateInDb(workflowId: string): Promise<TriggerStateInDb>;
	/** Runs a step; on failure appends the n8n log tail to the error. */
	step(fn: () => Promise<void>): Promise<void>;
	close(): Promise<void>;
}

/** Fake Google (fresh mailbox) + n8n of that major with the package + the credential. */
export async function startE2e(major: N8nMajor, env: Record<string, string> = {}): Promise<E2eContext> {
	const { fake, session, credential, privateKey, close } = await startStack(major, { env });

	const triggerItems = async (workflowId: string) => {
		const executions = await session.api.executions(workflowId);
		return { executions, items: executions.flatMap((e) => itemsOf(e, TRIGGER)) };
	};
	return {
		major,
		fake,
		session,
		credential,
		privateKey,
		triggerItems,
		async waitForItems(workflowId, count, timeoutMs = 30_000) {
			await waitFor(`${count} trigger item(s) of workflow ${workflowId}`, async () => ((await triggerItems(workflowId)).items.length >= count ? true : undefined), timeoutMs, 250);
			await sleep(SETTLE_MS);
			return await triggerItems(workflowId);
		},
		deliver: (subject) => fake.mailbox.deliver({ from: 'Alice <alice@example.org>', to: EMAIL, subject, text: `Body of ${subject}` }),
		async stateInDb(workflowId) {
			return ((await staticDataFromDb(session.userFolder, workflowId))[`node:${TRIGGER}`] ?? {}) as TriggerStateInDb;
		},
		step: async (fn) => await withLogTail(session, fn),
		close,
	};
}

/** Activates (1.x) / publishes (2.x) and waits until n8n says the trigger runs. */
export async function activateAndWait(ctx: E2eContext, workflowId: string, workflowName: string, timeoutMs = 30_000): Promise<void> {
	const from = ctx.session.n8n.logOffset();
	const reply = await ctx.session.api.activate(workflowId);
	if (reply.status !== 200) throw new Error(`activation of ${workflowName}: ${reply.status} ${reply.text.slice(0, 500)}`);
	await ctx.session.n8n.waitForLog(triggerStartedLog(ctx.major, workflowName), timeoutMs, from);
}

/** POST to a Production URL like a Pub/Sub push subscription (no authentication: pushAuthentication 'none'). */
export async function pushNotification(ctx: E2eContext, webhookId: string, historyId: string, messageId = randomUUID()): Promise<number> {
	const body = {
		message: {
			data: Buffer.from(ctx.fake.mailbox.notificationData(historyId)).toString('base64'),
			messageId,
			publishTime: new Date().toISOString(),
		},
		subscription: `projects/${PROJECT}/subscriptions/push`,
	};
	const reply = await http(ctx.session.n8n.webhookUrl(`${webhookId}/webhook`), { method: 'POST', json: body });
	return reply.status;
}

/** Like Pub/Sub: redeliver on 503/429 (the trigger is not up yet) until another answer. */
export async function pushUntilAccepted(ctx: E2eContext, webhookId: string, historyId: string): Promise<number> {
	return await waitFor(
		`an answer other than 503 to the push of historyId ${historyId}`,
		async () => {
			const status = await pushNotification(ctx, webhookId, historyId);
			return status === 503 || status === 429 ? undefined : status;
		},
		30_000,
		500,
	);
}
