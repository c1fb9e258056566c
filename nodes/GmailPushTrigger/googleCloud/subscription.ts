/**
 * The subscription the node wants: how the set-up makes it, what is wrong with one that exists
 * (as coded problems), and whose it is (the labels the set-up puts on what it makes).
 */
import type { PubSubSubscription } from '../transport/pubsubAdminPort';
import { redact, tokensOf, withoutTokens } from '../core/redact';
import { finding, type Finding } from './findings';

export type SubscriptionKind = 'pull' | 'push';

export interface PushAuthentication {
	/** OIDC: Pub/Sub signs each push as this service account, for this audience. */
	serviceAccountEmail?: string;
	audience?: string;
}

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

/**
 * The node's ack deadline. Pull acks once the emails are emitted (seconds, rarely more); push
 * answers within n8n's request. 60 s leaves room for a slow Gmail without a redelivery.
 */
export const ACK_DEADLINE_SECONDS = 60;

/** The REST body that creates the wanted subscription: no inactivity expiry. */
export function subscriptionBody(wanted: WantedSubscription): PubSubSubscription {
	return {
		topic: wanted.topic,
		ackDeadlineSeconds: wanted.ackDeadlineSeconds,
		// Empty: never expires. Google's default deletes it after 31 idle days, which an idle mailbox reaches.
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

/** 'blocks': the node cannot work with it; 'warns': it works, but should be changed. */
export type SubscriptionProblem = Finding & { severity: 'blocks' | 'warns' };

/**
 * What is wrong with an existing subscription for the wanted use; empty when it fits. Wrong
 * resources are reported, never rewritten: they may be someone else's.
 */
export function subscriptionProblems(existing: PubSubSubscription, wanted: WantedSubscription): SubscriptionProblem[] {
	const problems: SubscriptionProblem[] = [];
	const add = (severity: SubscriptionProblem['severity'], found: Finding) => problems.push({ severity, ...found });
	const name = wanted.name;
	if (existing.topic === '_deleted-topic_') add('blocks', finding('subscription-topic-deleted', { name }));
	else if (existing.topic !== wanted.topic) add('blocks', finding('subscription-wrong-topic', { name, ...(existing.topic && { topic: existing.topic }), wantedTopic: wanted.topic }));
	// Pub/Sub hands each message to one reader: a copied workflow would take half the other's mail.
	if (madeForAnother(existing, wanted.labels)) add('blocks', finding('subscription-of-another-workflow', { name }));
	const endpoint = existing.pushConfig?.pushEndpoint || undefined;
	if (wanted.kind === 'pull' && endpoint) add('blocks', finding('subscription-is-push', { name, endpoint: redact(endpoint) }));
	if (wanted.kind === 'push') problems.push(...pushProblems(existing, wanted));
	// It works until then: say so, do not refuse a subscription that delivers today.
	if (existing.expirationPolicy?.ttl) add('warns', finding('subscription-expires', { name, ttl: existing.expirationPolicy.ttl }));
	return problems;
}

function pushProblems(existing: PubSubSubscription, wanted: WantedSubscription): SubscriptionProblem[] {
	const name = wanted.name;
	const wantedEndpoint = wanted.pushEndpoint ?? '';
	const endpoint = existing.pushConfig?.pushEndpoint || undefined;
	const problems: SubscriptionProblem[] = [];
	if (!endpoint) problems.push({ severity: 'blocks', ...finding('subscription-is-pull', { name, wantedEndpoint: redact(wantedEndpoint) }) });
	else if (endpoint !== wantedEndpoint) problems.push({ severity: 'blocks', ...endpointMismatch(name, endpoint, wantedEndpoint) });
	const signer = existing.pushConfig?.oidcToken?.serviceAccountEmail;
	const wantedSigner = wanted.oidc?.serviceAccountEmail;
	if (endpoint && wantedSigner && wantedSigner !== signer) {
		// The node refuses every push that is not signed by this account.
		problems.push({ severity: 'blocks', ...finding('push-signer-differs', { name, ...(signer && { signer }), wantedSigner, endpoint: redact(endpoint) }) });
	} else if (endpoint && !wantedSigner && signer) {
		// Pushes still work (the token is ignored), but the stronger check is at hand.
		problems.push({ severity: 'warns', ...finding('push-signer-unchecked', { name, signer }) });
	}
	return problems;
}

/** Only the secret differs when the endpoints match without their tokens: then neither token is shown. */
function endpointMismatch(name: string, endpoint: string, wanted: string): Finding {
	if (withoutTokens(endpoint) === withoutTokens(wanted) && tokensOf(wanted).length > 0) {
		return finding('secret-differs', { name, tokenSent: tokensOf(endpoint).length > 0, wantedEndpoint: redact(wanted) });
	}
	return finding('push-endpoint-differs', { name, endpoint: redact(endpoint), wantedEndpoint: redact(wanted) });
}

/** The label every subscription the set-up creates carries, whoever it is for. */
export const CREATED_BY_LABEL = 'created-by';
export const CREATED_BY = 'n8n-nodes-gmail-push';
/** The label naming which workflow and node it was made for (a digest: label values are lowercase). */
export const OWNER_LABEL = 'n8n-gmail-push-owner';

/** The labels of a subscription the set-up made for this owner. */
export function ownerLabels(ownerDigest: string): Record<string, string> {
	return { [CREATED_BY_LABEL]: CREATED_BY, [OWNER_LABEL]: ownerDigest };
}

/**
 * True when the subscription is one the set-up made for exactly this owner: only then may the
 * owner's deactivation delete it. One the user made, an older release made (no labels), or
 * another workflow's node made is someone else's.
 */
export function madeFor(existing: PubSubSubscription, labels: Record<string, string>): boolean {
	return Object.entries(labels).every(([key, value]) => existing.labels?.[key] === value);
}

/** True when the set-up made the subscription for an owner other than the one these labels name. */
export function madeForAnother(existing: PubSubSubscription, labels: Record<string, string> | undefined): boolean {
	const owner = existing.labels?.[OWNER_LABEL];
	return labels !== undefined && existing.labels?.[CREATED_BY_LABEL] === CREATED_BY && owner !== undefined && owner !== labels[OWNER_LABEL];
}
