/**
 * Set Up Google Cloud, at activation: the topic, Gmail's publisher grant and the subscription
 * (pull: from trigger(); push: from create(), which knows the Production URL) are made when
 * missing and checked when present (core/setup.ts). Every n8n
 * process may run it at once; it is idempotent. A credential that may not manage Pub/Sub falls
 * back to what exists when a read-only check finds all of it in place; otherwise activation
 * fails saying what to grant. Pub/Sub is called as the service account itself, never as its
 * Delegated Email (transport/pubsubAdmin.ts pubSubAuthFor).
 */
import { createHash } from 'node:crypto';
import { NodeOperationError, type INode } from 'n8n-workflow';
import {
	ACK_DEADLINE_SECONDS,
	ensureGoogleCloud,
	ownerLabels,
	PubSubAdminError,
	removeMadeSubscription,
	type PushAuthentication,
	type SetUpReport,
	type WantedSubscription,
} from '../core/setup';
import { projectOfName } from '../core/names';
import { isApiDisabled } from '../core/check';
import { redact } from '../core/redact';
import type { N8nContext } from '../transport/auth';
import { createPubSubAdmin, pubSubAuthFor, pubSubServiceAccount } from '../transport/pubsubAdmin';
import type { TriggerConfig } from './config';
import { refusedSetUpError, runSetUpCheck, withSetUpCheck } from './setUpCheck';
import { removalAllowed, scheduleRemoval } from './removal';
import { engineKeyOf } from './context';

interface Logger {
	info(message: string): void;
	warn(message: string): void;
}

type SetUpContext = N8nContext & { logger: Logger; getWorkflow(): { id?: string } };

/** How push subscriptions reach the node: the endpoint and, for OIDC, who signs. */
export interface PushTarget {
	pushEndpoint: string;
	oidc?: PushAuthentication;
}

/**
 * Runs the set-up when the node asks for it. `push` is given for push delivery (and only then);
 * the push subscription is named as the user named it, or after the workflow and node.
 */
export async function setUpGoogleCloud(
	context: SetUpContext,
	config: TriggerConfig,
	push?: PushTarget,
): Promise<SetUpReport | undefined> {
	if (!config.setUpGoogleCloud || (config.delivery === 'push') !== (push !== undefined)) return undefined;
	const topic = config.watch.topicName;
	const project = projectOfName(topic) ?? '';
	const wanted = wantedSubscription(context, config, push) as WantedSubscription;
	const name = wanted.name;
	const admin = createPubSubAdmin(await pubSubAuthFor(context, config.authentication));
	const started = Date.now();
	try {
		const report = await ensureGoogleCloud(admin, topic, wanted);
		context.logger.info(
			`Gmail Push Trigger: Google Cloud set up: topic ${topic} ${report.topic}, Gmail's publisher grant ${report.grant}, ` +
				`${wanted.kind} subscription ${name} ${report.subscription} (${report.calls} Pub/Sub calls, ${Date.now() - started} ms)`,
		);
		for (const warning of report.warnings ?? []) context.logger.warn(`Gmail Push Trigger: ${redact(warning, [push?.pushEndpoint])}`);
		return report;
	} catch (error) {
		if (error instanceof PubSubAdminError && (error.status === 401 || error.status === 403) && !isApiDisabled(error)) {
			await verifyAfterRefusal(context, config, push, error);
			return undefined;
		}
		const refusal = isOrganisationPolicy(error) ? (error as Error).message : undefined;
		throw await withSetUpCheck(setUpError(context.getNode(), error, project, push?.pushEndpoint), context, config, push, refusal);
	}
}

/**
 * Google refused part of the set-up (a credential that may only read Pub/Sub, a signed push
 * subscription without actAs on its signer, a token without the Pub/Sub scope). Going on would
 * watch a mailbox whose notifications reach no subscription, so what the delivery needs is
 * checked read-only: all in place, activation goes on with a warning; otherwise it fails with
 * the check's lines saying what to grant.
 */
async function verifyAfterRefusal(context: SetUpContext, config: TriggerConfig, push: PushTarget | undefined, error: PubSubAdminError): Promise<void> {
	const serviceAccount = await pubSubServiceAccount(context, config.authentication);
	const message = redact(error.message, [push?.pushEndpoint]);
	const setUpRefusal = { message, ...(error.call && { call: error.call }), ...(serviceAccount && { serviceAccount }) };
	const lines = await runSetUpCheck(context, config, push, { setUpRefusal }).catch((checkError: Error) => {
		throw new NodeOperationError(context.getNode(), `Setting up Google Cloud was refused (${message}), and what exists could not be checked: ${redact(checkError.message, [push?.pushEndpoint])}`);
	});
	const problem = refusedSetUpError(context.getNode(), message, lines);
	if (problem) throw problem;
	context.logger.warn(
		`Gmail Push Trigger: Set Up Google Cloud may not manage Pub/Sub in project ${projectOfName(config.watch.topicName) ?? ''} (${message}); ` +
			'the topic and the subscription are in place, so the node uses them as they are. Give the credential Pub/Sub Admin (IAM & Admin > IAM), or turn off Set Up Google Cloud.',
	);
}

/**
 * The subscription the node reads (pull) or is pushed through (push), as the set-up makes it and
 * the set-up check expects it; undefined when pull names none or push without the set-up has
 * none to name.
 */
export function wantedSubscription(context: N8nContext & { getWorkflow(): { id?: string } }, config: TriggerConfig, push?: PushTarget): WantedSubscription | undefined {
	const topic = config.watch.topicName;
	const name = subscriptionNameFor(context, config);
	if (!name) return undefined;
	const labels = nodeLabels(context);
	return push
		? { name, topic, kind: 'push', pushEndpoint: push.pushEndpoint, ...(push.oidc && { oidc: push.oidc }), ackDeadlineSeconds: ACK_DEADLINE_SECONDS, labels }
		: { name, topic, kind: 'pull', ackDeadlineSeconds: ACK_DEADLINE_SECONDS, labels };
}

/** The subscription the node reads (pull) or is pushed through (push) by name, when it knows one. */
export function subscriptionNameFor(context: N8nContext & { getWorkflow(): { id?: string } }, config: TriggerConfig): string | undefined {
	if (config.delivery === 'poll') return undefined;
	if (config.subscriptionName) return config.subscriptionName;
	if (config.delivery !== 'push' || !config.setUpGoogleCloud) return undefined;
	return defaultPushSubscription(projectOfName(config.watch.topicName) ?? '', context.getWorkflow().id, context.getNode().id);
}

function nodeLabels(context: N8nContext & { getWorkflow(): { id?: string } }): Record<string, string> {
	return ownerLabels(ownerDigest(engineKeyOf(context)));
}

/**
 * Which workflow and node a subscription was made for, as a label value (lowercase letters and
 * digits, at most 63): a digest, since n8n's ids are mixed-case.
 */
function ownerDigest(key: string): string {
	return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/**
 * After delete() (push) or closeFunction (pull): deletes the subscription the set-up made for
 * this node, once it is clear the workflow was deactivated rather than saved or stopped
 * (shell/removal.ts). What the user made, or named and the node found, stays; so do the topic
 * and Gmail's grant. Only with Set Up Google Cloud on, as only then did the node make anything.
 */
export async function removeMadeSubscriptionLater(
	context: SetUpContext,
	config: TriggerConfig,
	push?: PushTarget,
): Promise<void> {
	if (!config.setUpGoogleCloud || (config.delivery === 'push') !== (push !== undefined)) return;
	const wanted = wantedSubscription(context, config, push);
	if (!wanted?.labels) return;
	if (!removalAllowed()) {
		context.logger.info(`Gmail Push Trigger: kept subscription ${wanted.name}: with several mains, a removed trigger may be running in another one`);
		return;
	}
	// The credential is read now: the context may not be asked for it after n8n let go of it.
	const admin = createPubSubAdmin(await pubSubAuthFor(context, config.authentication));
	const labels = wanted.labels;
	scheduleRemoval(
		wanted.name,
		`subscription ${wanted.name}`,
		async () => {
			const outcome = await removeMadeSubscription(admin, wanted.name, labels, wanted.pushEndpoint);
			return outcome === 'deleted' ? `deleted it (the node had made it; the topic ${wanted.topic} and Gmail's grant stay)` : outcome;
		},
		context.logger,
	);
}

/**
 * A save that renamed the subscription or switched delivery: the one the set-up made for this
 * node before goes by the same delayed rule, unless a trigger of this process reads it meanwhile.
 */
export async function removePreviousSubscriptionLater(context: N8nContext & { logger: Logger; getWorkflow(): { id?: string } }, config: TriggerConfig, previous: string): Promise<void> {
	if (!removalAllowed()) return;
	const admin = createPubSubAdmin(await pubSubAuthFor(context, config.authentication));
	const labels = nodeLabels(context);
	scheduleRemoval(
		previous,
		`subscription ${previous} (no longer used by the node)`,
		async () => {
			const outcome = await removeMadeSubscription(admin, previous, labels, 'any');
			return outcome === 'deleted' ? 'deleted it (the node had made it)' : outcome;
		},
		context.logger,
	);
}

/** One push subscription per workflow and node: Pub/Sub hands each message to one endpoint. */
export function defaultPushSubscription(project: string, workflowId: string | undefined, nodeId: string | undefined): string {
	const id = [workflowId, nodeId?.slice(0, 8)].filter(Boolean).join('-').replace(/[^A-Za-z0-9-]/g, '');
	return `projects/${project}/subscriptions/n8n-gmail-push-${id}`;
}

/** Google refused the grant because an organisation policy restricts who may be in IAM policies. */
function isOrganisationPolicy(error: unknown): boolean {
	return error instanceof PubSubAdminError && error.reason === 'FAILED_PRECONDITION' && /organization|constraint|permitted customer/i.test(error.message);
}

/** The n8n error for a failed set-up; Google may quote the push endpoint in its message, so it is masked. */
function setUpError(node: INode, error: unknown, project: string, pushEndpoint?: string): NodeOperationError {
	const message = redact(error instanceof Error ? error.message : String(error), [pushEndpoint]);
	if (error instanceof PubSubAdminError && error.reason === 'SUBSCRIPTION_MISMATCH') {
		return new NodeOperationError(node, message, { description: 'Set Up Google Cloud does not change a subscription that already exists: it may serve someone else.' });
	}
	if (error instanceof PubSubAdminError && isApiDisabled(error)) {
		return new NodeOperationError(node, `The Cloud Pub/Sub API is not enabled in project ${project}: ${message}`, {
			description: `Enable it at https://console.cloud.google.com/apis/library/pubsub.googleapis.com?project=${project}, wait a minute, and activate again.`,
		});
	}
	if (error instanceof PubSubAdminError && error.status === 404) {
		return new NodeOperationError(node, `Project ${project} was not found, or its Pub/Sub API is not enabled: ${message}`, {
			description: `Check the project id in the Topic Name, and enable the API: https://console.cloud.google.com/apis/library/pubsub.googleapis.com?project=${project}`,
		});
	}
	if (isOrganisationPolicy(error)) {
		return new NodeOperationError(node, `An organisation policy blocks the grant for Gmail: ${message}`, {
			description:
				'The constraint iam.allowedPolicyMemberDomains must allow gmail-api-push@system.gserviceaccount.com on this topic: ask your Google Cloud administrator (IAM & Admin > Organization Policies).',
		});
	}
	return new NodeOperationError(node, `Setting up Google Cloud failed: ${message}`);
}

