/** Reads and validates the node's parameters into the core's plain config. */
import { NodeOperationError, type IDataObject, type INode } from 'n8n-workflow';
import { HISTORY_TYPES, type HistoryType } from '../core/port';
import { fetchFormat, OUTPUT_MODES, type OutputMode, type RenderOptions } from '../core/output';
import { DEFAULT_ATTACHMENT_PREFIX } from './binary';
import type { LabelFilterBehavior, SyncOptions } from '../core/syncOptions';
import type { WatchConfig } from '../core/watch';
import { subscriptionNameProblem, topicNameProblem } from '../core/names';
import { DEFAULT_CATCH_UP, type CatchUpOptions } from '../core/recovery';
import type { AuthenticationMethod } from '../transport/auth';
import type { PushAuthConfig, PushAuthMode } from '../transport/pushAuth';

export type Delivery = 'push' | 'pull' | 'poll';

/**
 * Whole Email holds each raw email (up to 25 MB) and its attachments until it is emitted: a
 * backlog is emitted ten emails per execution, so one sync never holds hundreds of them.
 */
export const WHOLE_EMAIL_MAX_EVENTS = 10;
const DELIVERIES: Delivery[] = ['push', 'pull', 'poll'];

export interface TriggerConfig {
	authentication: AuthenticationMethod;
	delivery: Delivery;
	watch: WatchConfig;
	sync: SyncOptions;
	output: OutputMode;
	render: RenderOptions;
	/** Binary property names of downloaded attachments: <prefix>0, <prefix>1, … */
	attachmentPrefix: string;
	catchUp: CatchUpOptions;
	/** pull: the Pub/Sub subscription; push: the one the set-up makes, when the user named it. */
	subscriptionName?: string;
	/** push and pull: make sure the topic, Gmail's grant and the subscription exist at activation. */
	setUpGoogleCloud: boolean;
	/** How long without a completed sync before the node syncs by itself (poll: the interval). */
	syncAfterMs: number;
}

/** The Push Authentication choices; 'sharedSecretCredential' is 'sharedSecret' with the secret in a credential. */
type PushAuthChoice = PushAuthMode | 'sharedSecretCredential';
const PUSH_AUTH_CHOICES: PushAuthChoice[] = ['oidc', 'sharedSecretCredential', 'sharedSecret', 'none'];
export const SHARED_SECRET_CREDENTIAL_TYPE = 'gmailPushSharedSecretApi';

/**
 * The push check's settings. `productionUrl` is the default audience: Pub/Sub uses the push
 * endpoint as audience unless the subscription names another one.
 */
export async function readPushAuth(context: ParameterReader, productionUrl?: string): Promise<PushAuthConfig> {
	const node = context.getNode();
	const mode = String(context.getNodeParameter('pushAuthentication', 'oidc')) as PushAuthChoice;
	if (!PUSH_AUTH_CHOICES.includes(mode)) throw new NodeOperationError(node, `Push Authentication must be one of ${PUSH_AUTH_CHOICES.join(', ')} (got "${mode}")`);
	if (mode === 'none') return { mode };
	if (mode === 'sharedSecretCredential') {
		const credential = await context.getCredentials(SHARED_SECRET_CREDENTIAL_TYPE);
		const secret = String(credential.secret ?? '');
		if (secret.length < 16) throw new NodeOperationError(node, 'The Gmail Push Shared Secret credential\'s Secret must be at least 16 characters: use a long random string');
		return { mode: 'sharedSecret', secret };
	}
	if (mode === 'sharedSecret') {
		const secret = String(context.getNodeParameter('pushSecret', ''));
		if (secret.length < 16) throw new NodeOperationError(node, 'Push Secret must be at least 16 characters: use a long random string');
		return { mode, secret };
	}
	const serviceAccountEmail = String(context.getNodeParameter('pushServiceAccountEmail', '')).trim();
	if (!/^[^@\s]+@[^@\s]+$/.test(serviceAccountEmail)) {
		throw new NodeOperationError(node, 'Push Service Account Email is required with OIDC push authentication', {
			description: 'Enter the service account the push subscription signs its tokens with (gcloud ... --push-auth-service-account=<email>).',
		});
	}
	const audience = String(context.getNodeParameter('pushAudience', '')).trim() || productionUrl;
	return { mode, serviceAccountEmail, ...(audience && { audience }) };
}

interface ParameterReader {
	getNodeParameter(name: string, fallback?: unknown): unknown;
	getNode(): INode;
	getCredentials(type: string): Promise<IDataObject>;
}

function stringList(value: unknown): string[] {
	if (Array.isArray(value)) return value.map(String).map((s) => s.trim()).filter(Boolean);
	if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
	return [];
}

export function readConfig(context: ParameterReader): TriggerConfig {
	const node = context.getNode();
	const delivery = String(context.getNodeParameter('delivery', 'push')) as Delivery;
	if (!DELIVERIES.includes(delivery)) throw new NodeOperationError(node, `Delivery must be one of ${DELIVERIES.join(', ')} (got "${delivery}")`);
	const topicName = delivery === 'poll' ? '' : String(context.getNodeParameter('topicName', '')).trim();
	const problem = delivery === 'poll' ? undefined : topicNameProblem(topicName);
	if (problem) throw new NodeOperationError(node, problem, { description: 'Example: projects/my-project/topics/gmail-push' });
	const setUpGoogleCloud = delivery !== 'poll' && context.getNodeParameter('setUpGoogleCloud', false) === true;
	const subscriptionName = readSubscriptionName(context, delivery, setUpGoogleCloud);
	const { sync, output, options } = readSyncOptions(context);
	const minutes = (value: unknown, fallback: number) => (Number(value) > 0 ? Number(value) : fallback) * 60 * 1000;
	const syncAfterMs =
		delivery === 'poll'
			? minutes(context.getNodeParameter('pollIntervalMinutes', 1), 1)
			: minutes(options.safetyNetMinutes, 60);

	return {
		authentication: String(context.getNodeParameter('authentication', 'oAuth2')) as AuthenticationMethod,
		delivery,
		watch: { topicName, labelIds: sync.labelIds, labelFilterBehavior: sync.labelFilterBehavior },
		output,
		render: { downloadAttachments: output === 'email' && options.downloadAttachments === true },
		attachmentPrefix: String(options.dataPropertyAttachmentsPrefixName ?? '').trim() || DEFAULT_ATTACHMENT_PREFIX,
		syncAfterMs,
		...(subscriptionName !== undefined && { subscriptionName }),
		setUpGoogleCloud,
		catchUp: {
			...DEFAULT_CATCH_UP,
			...(Number(options.catchUpWindowHours) > 0 && { maxWindowMs: Number(options.catchUpWindowHours) * 60 * 60 * 1000 }),
		},
		sync,
	};
}

/** pull: required; push with the set-up: optional; poll: none. */
function readSubscriptionName(context: ParameterReader, delivery: Delivery, setUpGoogleCloud: boolean): string | undefined {
	const node = context.getNode();
	if (delivery === 'push' && setUpGoogleCloud) {
		// Optional for push: empty, the set-up names the subscription after the workflow.
		const given = String(context.getNodeParameter('subscriptionName', '')).trim();
		const subscriptionProblem = given ? subscriptionNameProblem(given) : undefined;
		if (subscriptionProblem) throw new NodeOperationError(node, subscriptionProblem, { description: 'Example: projects/my-project/subscriptions/gmail-push-n8n, or leave it empty' });
		return given || undefined;
	}
	if (delivery !== 'pull') return undefined;
	const subscriptionName = String(context.getNodeParameter('subscriptionName', '')).trim();
	const subscriptionProblem = subscriptionNameProblem(subscriptionName);
	if (subscriptionProblem) {
		throw new NodeOperationError(node, subscriptionProblem, { description: 'Example: projects/my-project/subscriptions/gmail-push-n8n' });
	}
	return subscriptionName;
}

/** Events, labels, output and filters: what a sync reads and how it shapes the items. */
function readSyncOptions(context: ParameterReader): { sync: SyncOptions; output: OutputMode; options: IDataObject } {
	const node = context.getNode();
	const events = stringList(context.getNodeParameter('events', ['messageAdded']));
	const unknown = events.filter((e) => !HISTORY_TYPES.includes(e as HistoryType));
	if (unknown.length > 0 || events.length === 0) {
		throw new NodeOperationError(node, `Events must be some of ${HISTORY_TYPES.join(', ')} (got "${events.join(', ')}")`);
	}
	const labelIds = stringList(context.getNodeParameter('labelIds', ['INBOX']));
	const labelFilterBehavior = String(context.getNodeParameter('labelFilterBehavior', 'include')) as LabelFilterBehavior;
	if (labelFilterBehavior !== 'include' && labelFilterBehavior !== 'exclude') {
		throw new NodeOperationError(node, `Label Filter Behavior must be "include" or "exclude" (got "${labelFilterBehavior}")`);
	}
	const output = String(context.getNodeParameter('output', 'simplified')) as OutputMode;
	if (!OUTPUT_MODES.includes(output)) {
		throw new NodeOperationError(node, `Output must be one of ${OUTPUT_MODES.join(', ')} (got "${output}")`);
	}
	const options = (context.getNodeParameter('options', {}) ?? {}) as IDataObject;
	const filters = (context.getNodeParameter('filters', {}) ?? {}) as IDataObject;
	const search = searchOf(node, filters);
	const sync: SyncOptions = {
		events: events as HistoryType[],
		labelIds,
		labelFilterBehavior,
		includeDrafts: options.includeDrafts === true,
		includeSpamTrash: filters.includeSpamTrash === true,
		...(search && { search }),
		...fetchFormat(output),
		...(output === 'email' && { maxEvents: WHOLE_EMAIL_MAX_EVENTS }),
	};
	return { sync, output, options };
}

/** The same query n8n's Gmail Trigger builds from these filters. */
function searchOf(node: INode, filters: IDataObject): string {
	const readStatus = String(filters.readStatus ?? 'both');
	if (!['both', 'unread', 'read'].includes(readStatus)) {
		throw new NodeOperationError(node, `Read Status must be "both", "unread" or "read" (got "${readStatus}")`);
	}
	const sender = String(filters.sender ?? '').trim();
	return [String(filters.q ?? '').trim(), sender && `from:${sender}`, readStatus !== 'both' && `is:${readStatus}`]
		.filter(Boolean)
		.join(' ');
}
