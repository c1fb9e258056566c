/**
 * A set-up Google refused part-way (401/403), in words the user can act on: whom to grant which
 * role. After such a refusal the set-up check runs read-only (core/check.ts with `setUpRefusal`):
 * what is missing fails with this advice, so activation never goes on with a watch that
 * publishes to no subscription.
 */

export interface SetUpRefusal {
	/** Google's answer, as the Pub/Sub admin reported it. */
	message: string;
	/** The Pub/Sub call Google refused ('subscriptions.create', …), when known. */
	call?: string;
	/** The service account Pub/Sub sees calling; undefined for OAuth2. */
	serviceAccount?: string;
}

export const PUBSUB_ADMIN_ROLE = 'roles/pubsub.admin';
export const PUBSUB_VIEWER_ROLE = 'roles/pubsub.viewer';
export const PUBSUB_SUBSCRIBER_ROLE = 'roles/pubsub.subscriber';
export const SERVICE_ACCOUNT_USER_ROLE = 'roles/iam.serviceAccountUser';

/** Whom the user grants roles to: the service account itself, never its Delegated Email. */
function identity(refusal: SetUpRefusal): string {
	return refusal.serviceAccount ? `the service account ${refusal.serviceAccount}` : 'the Google account that connected the credential';
}

/** Pub/Sub Admin: Editor creates topics and subscriptions, but only Admin may grant Gmail on the topic. */
export function adminAdvice(refusal: SetUpRefusal, project: string): string {
	return `give ${identity(refusal)} Pub/Sub Admin (${PUBSUB_ADMIN_ROLE}) in project ${project} (IAM & Admin > IAM)`;
}

/** A push subscription signed as `signer` may be made only by who may act as it. */
export function actAsAdvice(refusal: SetUpRefusal, signer: string): string {
	return (
		`grant ${identity(refusal)} Service Account User (${SERVICE_ACCOUNT_USER_ROLE}) on ${signer} (IAM & Admin > Service Accounts > ${signer} > Permissions > Grant access): ` +
		`a push subscription that signs as ${signer} needs iam.serviceAccounts.actAs on it, which Pub/Sub Admin does not include`
	);
}

/**
 * What lets the set-up make the subscription. Refused at subscriptions.create after reading the
 * topic's IAM policy (which Pub/Sub Viewer may not), the credential manages Pub/Sub already:
 * for a signed push subscription, acting as the signer is what is left.
 */
export function subscriptionAdvice(refusal: SetUpRefusal, project: string, signer?: string): string {
	if (signer && refusal.call === 'subscriptions.create') return actAsAdvice(refusal, signer);
	return signer ? `${adminAdvice(refusal, project)}, and ${actAsAdvice(refusal, signer)}` : adminAdvice(refusal, project);
}

/** What lets the credential read what the delivery needs, when Google refused even that. */
export function readAdvice(refusal: SetUpRefusal, project: string, status: number, pull: boolean): string {
	if (status === 401) return 'reconnect the credential (OAuth2) or paste a new service account key';
	const least = `Pub/Sub Viewer (${PUBSUB_VIEWER_ROLE})${pull ? ` and Pub/Sub Subscriber (${PUBSUB_SUBSCRIBER_ROLE})` : ''}`;
	return `${adminAdvice(refusal, project)}; or, with the topic, Gmail's grant and the subscription made by hand, at least ${least}`;
}
