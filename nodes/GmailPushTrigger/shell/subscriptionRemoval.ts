/**
 * Removing the subscription Set Up Google Cloud made, once the workflow stayed deactivated: the
 * n8n side (shell/removal.ts waits; googleCloud/setUp.ts decides whether it is the node's).
 */
import { createPubSubAdmin, pubSubAuthFor } from '../transport/pubsubAdmin';
import { removeMadeSubscription } from '../googleCloud/setUp';
import { nodeLabels, wantedSubscription, type CloudConfig, type PushTarget } from '../googleCloud/wanted';
import type { SetUpContext } from '../googleCloud/activation';
import { removalAllowed, scheduleRemoval } from './removal';

/**
 * After delete() (push) or closeFunction (pull): deletes the subscription the set-up made for
 * this node, once it is clear the workflow was deactivated rather than saved or stopped. What the
 * user made, or named and the node found, stays; so do the topic and Gmail's grant.
 */
export async function removeMadeSubscriptionLater(context: SetUpContext, config: CloudConfig, push?: PushTarget): Promise<void> {
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
export async function removePreviousSubscriptionLater(context: SetUpContext, config: CloudConfig, previous: string): Promise<void> {
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
