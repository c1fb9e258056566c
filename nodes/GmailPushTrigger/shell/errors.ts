/**
 * Gmail failures the user can fix, turned into NodeApiErrors that say how. The hints follow
 * the failures users hit in the field (missing publisher grant, topic in another project,
 * missing scope, revoked token).
 */
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { classifyFailure } from '../core/failure';
import { GmailApiError } from '../core/port';
import { projectOfTopic } from '../core/watch';

export const GMAIL_PUSH_SERVICE_ACCOUNT = 'gmail-api-push@system.gserviceaccount.com';

export function fixHint(error: GmailApiError, context: { topicName?: string; during?: string } = {}): string | undefined {
	const text = `${error.message} ${error.reason ?? ''}`.toLowerCase();
	const topic = context.topicName ?? 'projects/<project>/topics/<topic>';
	const project = context.topicName ? projectOfTopic(context.topicName) : undefined;
	if (context.during === 'watch') {
		if (error.status === 403 && /not authorized|permission|publish/.test(text) && !/scope/.test(text)) {
			return `Grant ${GMAIL_PUSH_SERVICE_ACCOUNT} the Pub/Sub Publisher role on ${topic}: gcloud pubsub topics add-iam-policy-binding ${topic} --member=serviceAccount:${GMAIL_PUSH_SERVICE_ACCOUNT} --role=roles/pubsub.publisher (an organisation policy restricting domains can forbid this grant).`;
		}
		if (error.status === 400 && /topic/.test(text)) {
			return `Check Topic Name: it must be projects/<project-id>/topics/<topic>, and the topic must be in the same Google Cloud project as the OAuth client or service account${project ? ` (it names project "${project}")` : ''}.`;
		}
		if (error.status === 404) {
			return `Create the topic first: gcloud pubsub topics create ${topic.split('/').pop()} --project=${project ?? '<project>'}`;
		}
	}
	if (/invalid_grant|expired or revoked|invalid jwt/.test(text)) {
		return 'Google no longer accepts this credential (its refresh token was revoked or expired, or the service account key was deleted): reconnect the OAuth2 credential in n8n (an OAuth app left in "Testing" loses its token after 7 days: publish it) or paste a new service account key.';
	}
	if (error.status === 401) return 'Google rejected the credential: reconnect it (OAuth2) or check the service account key.';
	if (error.status === 403 && /scope|insufficient/.test(text)) {
		return 'The credential lacks the Gmail read scope (https://www.googleapis.com/auth/gmail.readonly): reconnect it with that scope, or add it to the domain-wide delegation of the service account.';
	}
	if (error.status === 403 && /delegat|unauthorized_client/.test(text)) {
		return 'The service account may not impersonate this user: allow its client id for the Gmail read scope under domain-wide delegation in the Google Admin console.';
	}
	if (error.status === 400 && /failedprecondition|mail service not enabled/.test(text)) {
		return 'This account has no Gmail mailbox (a service account without Delegated Email has none): set Delegated Email to the Workspace user to watch.';
	}
	if (error.status === 429) return 'Gmail is rate-limiting this mailbox; the trigger retries on its own.';
	return undefined;
}

/**
 * What the trigger reports through n8n's error path for a failure that retrying will not heal,
 * or a watch renewal that keeps failing while the watch lapses.
 */
export function lastingFailureError(
	node: INode,
	thrown: unknown,
	context: { topicName?: string; during: 'sync' | 'watch'; watchExpiration?: number },
): Error {
	const converted = toNodeApiError(node, thrown, context);
	const error = converted instanceof Error ? converted : new NodeOperationError(node, String(converted));
	if (context.during === 'watch' && classifyFailure(thrown) !== 'lasting') {
		const when = context.watchExpiration ? new Date(context.watchExpiration).toISOString() : 'soon';
		error.message = `Gmail Push Trigger cannot renew the Gmail watch, which expires ${when}; after that no new email arrives until it is renewed: ${error.message}`;
	}
	return error;
}

export function toNodeApiError(node: INode, thrown: unknown, context: { topicName?: string; during?: string } = {}): NodeApiError | unknown {
	if (!(thrown instanceof GmailApiError)) return thrown;
	const hint = fixHint(thrown, context);
	return new NodeApiError(node, { message: thrown.message, reason: thrown.reason ?? '' } as JsonObject, {
		message: hint ? `${thrown.message}. ${hint}` : thrown.message,
		description: hint,
		httpCode: String(thrown.status || ''),
	});
}
