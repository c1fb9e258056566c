/**
 * Setting up Google Cloud for Gmail push: the topic, the grant that lets Gmail publish to it,
 * and the subscription the node reads. Plain decisions over a small Pub/Sub admin interface
 * (transport/pubsubAdmin.ts implements it over Pub/Sub's REST API).
 *
 * The grant is the delicate part: a topic's IAM policy is shared by everyone who uses the topic.
 * We read it, add one member to one binding, and write it back with the etag we read, so a
 * concurrent change makes Google refuse our write (we read again and retry) instead of us
 * silently dropping someone else's binding.
 */
import { MASK, redact, tokensOf, withoutTokens } from './redact';

/** Gmail publishes notifications as this service account (Google's fixed identity). */
export const GMAIL_PUBLISHER = 'serviceAccount:gmail-api-push@system.gserviceaccount.com';
export const PUBLISHER_ROLE = 'roles/pubsub.publisher';
/** Roles that include pubsub.topics.publish: a member holding any of them needs no grant. */
const ROLES_THAT_PUBLISH = new Set([PUBLISHER_ROLE, 'roles/pubsub.editor', 'roles/pubsub.admin', 'roles/editor', 'roles/owner']);

export interface IamBinding {
	role: string;
	members?: string[];
	/** A conditional binding grants only when its condition holds: it never counts as the grant. */
	condition?: unknown;
}

export interface IamPolicy {
	version?: number;
	etag?: string;
	bindings?: IamBinding[];
	[field: string]: unknown;
}

/** True when Gmail may publish under this policy without a condition. */
export function publisherGranted(policy: IamPolicy): boolean {
	return (policy.bindings ?? []).some((b) => b.condition === undefined && ROLES_THAT_PUBLISH.has(b.role) && (b.members ?? []).includes(GMAIL_PUBLISHER));
}

/**
 * The policy with Gmail added as publisher, every other binding, member, field and the etag kept
 * as they were; undefined when Gmail may already publish (nothing to write).
 */
export function withPublisherGrant(policy: IamPolicy): IamPolicy | undefined {
	if (publisherGranted(policy)) return undefined;
	const bindings = (policy.bindings ?? []).map((b) => ({ ...b, ...(b.members && { members: [...b.members] }) }));
	const publisher = bindings.find((b) => b.role === PUBLISHER_ROLE && b.condition === undefined);
	if (publisher) publisher.members = [...(publisher.members ?? []), GMAIL_PUBLISHER];
	else bindings.push({ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] });
	return { ...policy, bindings };
}

export type SubscriptionKind = 'pull' | 'push';

export interface PushAuthentication {
	/** OIDC: Pub/Sub signs each push as this service account, for this audience. */
	serviceAccountEmail?: string;
	audience?: string;
}

/** The subscription the node wants. */
export interface WantedSubscription {
	name: string;
	topic: string;
	kind: SubscriptionKind;
	/** push: the node's Production URL (with `?token=` for a shared secret). */
	pushEndpoint?: string;
	oidc?: PushAuthentication;
	ackDeadlineSeconds: number;
	/** Put on the subscription when the set-up creates it: how deactivation knows it is the node's. */
	labels?: Record<string, string>;
}

/** The fields of a Pub/Sub subscription we read (REST v1 shape). */
export interface PubSubSubscription {
	name?: string;
	topic?: string;
	pushConfig?: { pushEndpoint?: string; oidcToken?: { serviceAccountEmail?: string; audience?: string } };
	ackDeadlineSeconds?: number;
	/** Absent or without ttl: never expires. */
	expirationPolicy?: { ttl?: string };
	labels?: Record<string, string>;
	[field: string]: unknown;
}

/**
 * The node's ack deadline. Pull acks once the emails are emitted (a history.list and the
 * messages.get calls: seconds, rarely more); push answers within n8n's request. 60 s leaves room
 * for a slow Gmail without Pub/Sub redelivering a notification still being processed.
 */
export const ACK_DEADLINE_SECONDS = 60;

/** The REST body that creates the wanted subscription: no inactivity expiry. */
export function subscriptionBody(wanted: WantedSubscription): PubSubSubscription {
	return {
		topic: wanted.topic,
		ackDeadlineSeconds: wanted.ackDeadlineSeconds,
		// An empty policy means "never expires"; Google's default deletes a subscription after 31
		// days without a pull or a successful push, which an idle mailbox reaches.
		expirationPolicy: {},
		...(wanted.labels && { labels: { ...wanted.labels } }),
		...(wanted.kind === 'push' && {
			pushConfig: {
				pushEndpoint: wanted.pushEndpoint,
				...(wanted.oidc?.serviceAccountEmail && {
					oidcToken: { serviceAccountEmail: wanted.oidc.serviceAccountEmail, ...(wanted.oidc.audience && { audience: wanted.oidc.audience }) },
				}),
			},
		}),
	};
}

export interface SubscriptionProblem {
	/** 'blocks': the node cannot work with it; 'warns': it works, but should be changed. */
	severity: 'blocks' | 'warns';
	line: string;
}

/**
 * What is wrong with an existing subscription for the wanted use, one line each; empty when it
 * fits. Wrong resources are reported, never rewritten: they may be someone else's.
 */
export function subscriptionProblems(existing: PubSubSubscription, wanted: WantedSubscription): SubscriptionProblem[] {
	const problems: SubscriptionProblem[] = [];
	const blocks = (line: string) => problems.push({ severity: 'blocks', line });
	const name = wanted.name;
	if (existing.topic !== wanted.topic) {
		blocks(
			existing.topic === '_deleted-topic_'
				? `Subscription ${name} belongs to a topic that was deleted: delete the subscription (or pick another name) and activate again`
				: `Subscription ${name} is attached to ${existing.topic ?? 'no topic'}, not to ${wanted.topic}: pick another subscription name, or the topic it is attached to`,
		);
	}
	if (madeForAnother(existing, wanted.labels)) {
		// Pub/Sub hands each message to one reader: a copied workflow would take half the other's mail.
		blocks(
			`Subscription ${name} was made by the Gmail Push Trigger of another workflow (a copy of this one?), and a subscription serves one trigger only: ` +
				`give this trigger its own Subscription Name (for example ${lastPart(name)}-2) and activate again, or delete ${lastPart(name)} in the console if its workflow is gone`,
		);
	}
	const endpoint = existing.pushConfig?.pushEndpoint || undefined;
	if (wanted.kind === 'pull' && endpoint) {
		blocks(`Subscription ${name} is a push subscription, to ${redact(endpoint)}; pull delivery needs a pull subscription: pick another subscription name`);
	}
	if (wanted.kind === 'push') {
		if (!endpoint) blocks(`Subscription ${name} is a pull subscription; push delivery needs it to push to ${redact(wanted.pushEndpoint ?? '')}: pick another subscription name`);
		else if (endpoint !== wanted.pushEndpoint) blocks(endpointMismatch(name, endpoint, wanted.pushEndpoint ?? ''));
		const signer = existing.pushConfig?.oidcToken?.serviceAccountEmail;
		const wantedSigner = wanted.oidc?.serviceAccountEmail;
		if (endpoint && wantedSigner && wantedSigner !== signer) {
			// The node refuses every push that is not signed by this account.
			blocks(
				`Subscription ${name} does not sign its pushes as ${wantedSigner} (it ${signer ? `signs as ${signer}` : 'sends no OIDC token'}): set that service account under its push authentication (Pub/Sub > Subscriptions > ${lastPart(name)} > Edit > Enable authentication)`,
			);
		} else if (endpoint && !wantedSigner && signer) {
			// Pushes still work (the token is ignored), but the stronger check is at hand.
			problems.push({ severity: 'warns', line: `Subscription ${name} signs its pushes as ${signer}, but the node does not check OIDC tokens: set Push Authentication to Google OIDC Token with ${signer}` });
		}
	}
	if (existing.expirationPolicy?.ttl) {
		// It works until then: say so, do not refuse a subscription that delivers today.
		problems.push({
			severity: 'warns',
			line: `Subscription ${name} is deleted after ${existing.expirationPolicy.ttl} without activity: set its expiration to "Never expire" in the console, or an idle mailbox loses it`,
		});
	}
	return problems;
}

/**
 * Where the subscription pushes is not where the node wants it. Neither endpoint's token is
 * shown: after a secret rotation that would print the old secret and the new one.
 */
function endpointMismatch(name: string, endpoint: string, wanted: string): string {
	const edit = `(Pub/Sub > Subscriptions > ${lastPart(name)} > Edit)`;
	if (withoutTokens(endpoint) === withoutTokens(wanted) && tokensOf(wanted).length > 0) {
		const what = tokensOf(endpoint).length > 0 ? `its token=${MASK} differs from the node's shared secret (was the secret changed?)` : 'without the token the node\'s shared secret requires';
		return (
			`Subscription ${name} pushes to this node's Production URL, but ${what}: set its endpoint to the Production URL followed by ?token= and the node's current secret ${edit}, ` +
			'or delete the subscription and activate again: the set-up makes it anew'
		);
	}
	return `Subscription ${name} pushes to ${redact(endpoint)}, not to this node's Production URL ${redact(wanted)}: edit its endpoint in the console ${edit}`;
}

function lastPart(name: string): string {
	return name.slice(name.lastIndexOf('/') + 1);
}

/** A Pub/Sub admin failure with Google's HTTP status and message, and the call refused ('subscriptions.create', …). */
export class PubSubAdminError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly reason?: string,
		readonly call?: string,
	) {
		super(message);
		this.name = 'PubSubAdminError';
	}
}

/** The Pub/Sub administration the set-up needs. */
export interface PubSubAdminPort {
	/** undefined when the topic does not exist. */
	getTopic(topic: string): Promise<{ name: string } | undefined>;
	/** Throws PubSubAdminError 409 when it exists already. */
	createTopic(topic: string): Promise<void>;
	getTopicIamPolicy(topic: string): Promise<IamPolicy>;
	/** Throws PubSubAdminError 409 or 412 when the etag no longer matches. */
	setTopicIamPolicy(topic: string, policy: IamPolicy): Promise<IamPolicy>;
	getSubscription(subscription: string): Promise<PubSubSubscription | undefined>;
	/** Throws PubSubAdminError 409 when it exists already. */
	createSubscription(subscription: string, body: PubSubSubscription): Promise<void>;
	/** false when it did not exist (any more). */
	deleteSubscription(subscription: string): Promise<boolean>;
}

export type SetUpStep = 'created' | 'present' | 'granted';

export interface SetUpReport {
	topic: Extract<SetUpStep, 'created' | 'present'>;
	grant: Extract<SetUpStep, 'granted' | 'present'>;
	subscription?: Extract<SetUpStep, 'created' | 'present'>;
	/** What works but should be changed (the subscription's expiry), one line each. */
	warnings?: string[];
	/** Google calls made, for the README's figures. */
	calls: number;
}

/** How often a grant is tried again after a concurrent change of the policy. */
export const GRANT_ATTEMPTS = 5;

const isConflict = (error: unknown) => error instanceof PubSubAdminError && (error.status === 409 || error.status === 412 || error.reason === 'ABORTED');

/**
 * Makes sure the topic exists, Gmail may publish to it and (when wanted) the subscription exists
 * and fits. Idempotent: run by several processes at once, it leaves one topic, one grant and one
 * subscription; resources already right are only read.
 */
export async function ensureGoogleCloud(admin: PubSubAdminPort, topic: string, subscription?: WantedSubscription): Promise<SetUpReport> {
	let calls = 0;
	const call = async <T>(work: () => Promise<T>): Promise<T> => {
		calls += 1;
		return await work();
	};

	let topicStep: SetUpReport['topic'] = 'present';
	if (!(await call(() => admin.getTopic(topic)))) {
		try {
			await call(() => admin.createTopic(topic));
			topicStep = 'created';
		} catch (error) {
			if (!(error instanceof PubSubAdminError && error.status === 409)) throw error; // another process made it
		}
	}

	let grant: SetUpReport['grant'] = 'present';
	for (let attempt = 1; ; attempt++) {
		const next = withPublisherGrant(await call(() => admin.getTopicIamPolicy(topic)));
		if (!next) break;
		try {
			await call(() => admin.setTopicIamPolicy(topic, next));
			grant = 'granted';
			break;
		} catch (error) {
			if (!isConflict(error) || attempt >= GRANT_ATTEMPTS) throw error;
		}
	}

	if (!subscription) return { topic: topicStep, grant, calls };
	let subscriptionStep: SetUpReport['subscription'] = 'present';
	let existing = await call(() => admin.getSubscription(subscription.name));
	if (!existing) {
		try {
			await call(() => admin.createSubscription(subscription.name, subscriptionBody(subscription)));
			subscriptionStep = 'created';
		} catch (error) {
			if (!(error instanceof PubSubAdminError && error.status === 409)) throw error;
			existing = await call(() => admin.getSubscription(subscription.name)); // made meanwhile: check it
		}
	}
	const problems = existing ? subscriptionProblems(existing, subscription) : [];
	const blocking = problems.filter((p) => p.severity === 'blocks').map((p) => p.line);
	if (blocking.length > 0) throw new PubSubAdminError(409, blocking.join('\n'), 'SUBSCRIPTION_MISMATCH');
	return { topic: topicStep, grant, subscription: subscriptionStep, warnings: problems.map((p) => p.line), calls };
}

/** The label every subscription the set-up creates carries, whoever it is for. */
export const CREATED_BY_LABEL = 'created-by';
export const CREATED_BY = 'n8n-nodes-gmail-push';
/** The label naming which workflow and node it was made for (a digest: label values are lowercase). */
export const OWNER_LABEL = 'n8n-gmail-push-owner';

/** The labels of a subscription the set-up made for this owner (see ownerDigest in the shell). */
export function ownerLabels(ownerDigest: string): Record<string, string> {
	return { [CREATED_BY_LABEL]: CREATED_BY, [OWNER_LABEL]: ownerDigest };
}

/**
 * True when the subscription is one the set-up made for exactly this owner: only then may the
 * owner's deactivation delete it. A subscription the user made, an older release made (no
 * labels), or another workflow's node made is someone else's.
 */
export function madeFor(existing: PubSubSubscription, labels: Record<string, string>): boolean {
	return Object.entries(labels).every(([key, value]) => existing.labels?.[key] === value);
}

/** True when the set-up made the subscription for an owner other than the one these labels name. */
export function madeForAnother(existing: PubSubSubscription, labels: Record<string, string> | undefined): boolean {
	const owner = existing.labels?.[OWNER_LABEL];
	return labels !== undefined && existing.labels?.[CREATED_BY_LABEL] === CREATED_BY && owner !== undefined && owner !== labels[OWNER_LABEL];
}

export type RemovalOutcome = 'deleted' | 'absent' | 'kept: not made by this node' | 'kept: pushes elsewhere';

/**
 * Deletes the subscription the set-up made for this owner, after its workflow was deactivated.
 * It is kept when the labels say someone else made it, or when it no longer pushes to this
 * node's Production URL (someone re-pointed it: it serves them now). The topic and Gmail's
 * grant always stay: a topic may serve many mailboxes.
 */
export async function removeMadeSubscription(
	admin: PubSubAdminPort,
	name: string,
	labels: Record<string, string>,
	pushEndpoint?: string | 'any',
): Promise<RemovalOutcome> {
	const existing = await admin.getSubscription(name);
	if (!existing) return 'absent';
	if (!madeFor(existing, labels)) return 'kept: not made by this node';
	const endpoint = existing.pushConfig?.pushEndpoint || undefined;
	// 'any': one the node used before a rename or a switch of delivery; its labels name this node.
	if (pushEndpoint !== 'any' && endpoint !== (pushEndpoint || undefined)) return 'kept: pushes elsewhere';
	return (await admin.deleteSubscription(name)) ? 'deleted' : 'absent';
}
