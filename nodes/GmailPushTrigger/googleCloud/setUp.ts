/**
 * Setting up Google Cloud for Gmail push: the topic, the grant that lets Gmail publish to it,
 * and the subscription the node reads; and removing that subscription after a deactivation.
 * Plain decisions over the Pub/Sub admin port (transport/pubsubAdmin.ts implements it).
 */
import { PubSubAdminError, type PubSubAdminPort } from '../transport/pubsubAdminPort';
import { withPublisherGrant } from './iam';
import { madeFor, subscriptionBody, subscriptionProblems, type SubscriptionProblem, type WantedSubscription } from './subscription';
import { problemText } from './renderText';

export type SetUpStep = 'created' | 'present' | 'granted';

export interface SetUpReport {
	topic: Extract<SetUpStep, 'created' | 'present'>;
	grant: Extract<SetUpStep, 'granted' | 'present'>;
	subscription?: Extract<SetUpStep, 'created' | 'present'>;
	/** What works but should be changed (the subscription's expiry). */
	warnings?: SubscriptionProblem[];
	/** Google calls made, for the README's figures. */
	calls: number;
}

/** The subscription exists but does not fit: reported, never rewritten (it may serve someone else). */
export class SubscriptionMismatchError extends PubSubAdminError {
	constructor(readonly problems: SubscriptionProblem[]) {
		super(409, problems.map(problemText).join('\n'), 'SUBSCRIPTION_MISMATCH');
	}
}

/** How often a grant is tried again after a concurrent change of the policy. */
export const GRANT_ATTEMPTS = 5;

const isConflict = (error: unknown) => error instanceof PubSubAdminError && (error.status === 409 || error.status === 412 || error.reason === 'ABORTED');
const isAlreadyThere = (error: unknown) => error instanceof PubSubAdminError && error.status === 409;

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
	const topicStep = await ensureTopic(call, admin, topic);
	const grant = await ensureGrant(call, admin, topic);
	if (!subscription) return { topic: topicStep, grant, calls };

	let subscriptionStep: SetUpReport['subscription'] = 'present';
	let existing = await call(() => admin.getSubscription(subscription.name));
	if (!existing) {
		try {
			await call(() => admin.createSubscription(subscription.name, subscriptionBody(subscription)));
			subscriptionStep = 'created';
		} catch (error) {
			if (!isAlreadyThere(error)) throw error;
			existing = await call(() => admin.getSubscription(subscription.name)); // made meanwhile: check it
		}
	}
	const problems = existing ? subscriptionProblems(existing, subscription) : [];
	if (problems.some((p) => p.severity === 'blocks')) throw new SubscriptionMismatchError(problems.filter((p) => p.severity === 'blocks'));
	return { topic: topicStep, grant, subscription: subscriptionStep, warnings: problems, calls };
}

type Call = <T>(work: () => Promise<T>) => Promise<T>;

async function ensureTopic(call: Call, admin: PubSubAdminPort, topic: string): Promise<SetUpReport['topic']> {
	if (await call(() => admin.getTopic(topic))) return 'present';
	try {
		await call(() => admin.createTopic(topic));
		return 'created';
	} catch (error) {
		if (!isAlreadyThere(error)) throw error; // another process made it
		return 'present';
	}
}

async function ensureGrant(call: Call, admin: PubSubAdminPort, topic: string): Promise<SetUpReport['grant']> {
	for (let attempt = 1; ; attempt++) {
		const next = withPublisherGrant(await call(() => admin.getTopicIamPolicy(topic)));
		if (!next) return 'present';
		try {
			await call(() => admin.setTopicIamPolicy(topic, next));
			return 'granted';
		} catch (error) {
			if (!isConflict(error) || attempt >= GRANT_ATTEMPTS) throw error;
		}
	}
}

export type RemovalOutcome = 'deleted' | 'absent' | 'kept: not made by this node' | 'kept: pushes elsewhere';

/**
 * Deletes the subscription the set-up made for this owner, after its workflow was deactivated.
 * Kept when the labels say someone else made it, or when it no longer pushes to this node's
 * Production URL (someone re-pointed it). The topic and Gmail's grant always stay.
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
