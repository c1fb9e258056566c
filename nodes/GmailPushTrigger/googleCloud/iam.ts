/**
 * Gmail's publisher grant on the topic. A topic's IAM policy is shared by everyone who uses the
 * topic: we add one member to one binding and write it back with the etag we read, so a
 * concurrent change makes Google refuse our write instead of us dropping someone's binding.
 */
import type { IamPolicy } from '../transport/pubsubAdminPort';

/** Gmail publishes notifications as this service account (Google's fixed identity). */
export const GMAIL_PUBLISHER = 'serviceAccount:gmail-api-push@system.gserviceaccount.com';
export const PUBLISHER_ROLE = 'roles/pubsub.publisher';
/** Roles that include pubsub.topics.publish: a member holding any of them needs no grant. */
const ROLES_THAT_PUBLISH = new Set([PUBLISHER_ROLE, 'roles/pubsub.editor', 'roles/pubsub.admin', 'roles/editor', 'roles/owner']);

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
