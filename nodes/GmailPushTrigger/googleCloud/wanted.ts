/**
 * The subscription a node reads (pull) or is pushed through (push), from its settings and its
 * place in n8n: as the set-up makes it, the set-up check expects it and the removal finds it.
 */
import { createHash } from 'node:crypto';
import type { N8nContext } from '../transport/auth';
import { projectOfName } from '../core/names';
import { ACK_DEADLINE_SECONDS, ownerLabels, type PushAuthentication, type WantedSubscription } from './subscription';

/** What the room reads of the node's settings (shell/config.ts's TriggerConfig has it). */
export interface CloudConfig {
	authentication: 'oAuth2' | 'serviceAccount';
	delivery: 'push' | 'pull' | 'poll';
	watch: { topicName: string };
	subscriptionName?: string;
	setUpGoogleCloud: boolean;
}

export type NodeContext = N8nContext & { getWorkflow(): { id?: string } };

/** How push subscriptions reach the node: the endpoint and, for OIDC, who signs. */
export interface PushTarget {
	pushEndpoint: string;
	oidc?: PushAuthentication;
}

/** undefined when pull names no subscription, or push without the set-up has none to name. */
export function wantedSubscription(context: NodeContext, config: CloudConfig, push?: PushTarget): WantedSubscription | undefined {
	const topic = config.watch.topicName;
	const name = subscriptionNameFor(context, config);
	if (!name) return undefined;
	const labels = nodeLabels(context);
	return push
		? { name, topic, kind: 'push', pushEndpoint: push.pushEndpoint, ...(push.oidc && { oidc: push.oidc }), ackDeadlineSeconds: ACK_DEADLINE_SECONDS, labels }
		: { name, topic, kind: 'pull', ackDeadlineSeconds: ACK_DEADLINE_SECONDS, labels };
}

/** The subscription the node reads (pull) or is pushed through (push) by name, when it knows one. */
export function subscriptionNameFor(context: NodeContext, config: CloudConfig): string | undefined {
	if (config.delivery === 'poll') return undefined;
	if (config.subscriptionName) return config.subscriptionName;
	if (config.delivery !== 'push' || !config.setUpGoogleCloud) return undefined;
	return defaultPushSubscription(projectOfName(config.watch.topicName) ?? '', context.getWorkflow().id, context.getNode().id);
}

/** One push subscription per workflow and node: Pub/Sub hands each message to one endpoint. */
export function defaultPushSubscription(project: string, workflowId: string | undefined, nodeId: string | undefined): string {
	const id = [workflowId, nodeId?.slice(0, 8)].filter(Boolean).join('-').replace(/[^A-Za-z0-9-]/g, '');
	return `projects/${project}/subscriptions/n8n-gmail-push-${id}`;
}

/**
 * The labels of what the set-up makes for this workflow and node. The owner is a digest (label
 * values are lowercase, n8n's ids mixed-case) of `<workflow id>:<node id or name>`: stored on
 * subscriptions, so it must never change.
 */
export function nodeLabels(context: NodeContext): Record<string, string> {
	const node = context.getNode();
	const owner = `${context.getWorkflow().id ?? ''}:${node.id ?? node.name}`;
	return ownerLabels(createHash('sha256').update(owner).digest('hex').slice(0, 40));
}
