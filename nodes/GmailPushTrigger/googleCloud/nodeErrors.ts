/** The errors n8n shows for the Google Cloud set-up and its check, written from the findings. */
import { NodeOperationError, type INode } from 'n8n-workflow';
import { PubSubAdminError } from '../transport/pubsubAdminPort';
import { redact } from '../core/redact';
import { failingLines, unverifiedLines, type CheckLine } from './findings';
import { failureOf, isApiDisabled, isOrganisationPolicy } from './googleFailure';
import { GMAIL_PUSH_ACCOUNT, consoleUrl, formatCheck, linesInOne } from './renderText';
import { panelDescription, panelMessage } from './renderPanel';

/** The test run's answer when a prerequisite fails: what fails in the message, what to do in the panel. */
export function setUpCheckError(node: INode, lines: CheckLine[]): NodeOperationError | undefined {
	if (failingLines(lines).length === 0) return undefined;
	return new NodeOperationError(node, panelMessage(lines), { description: panelDescription(lines) });
}

/**
 * An activation error with the set-up check added: the failing lines after its message, every
 * line in its description (plain text: n8n shows activation errors outside the output panel).
 */
export function addCheckTo(error: Error & { description?: string | null }, lines: CheckLine[]): boolean {
	const failing = failingLines(lines);
	if (failing.length === 0) return false;
	error.message = `${error.message} — set-up check: ${linesInOne(failing)}`;
	error.description = [error.description, `Set-up check:\n${formatCheck(lines)}`].filter(Boolean).join('\n\n');
	return true;
}

/**
 * After Google refused part of the set-up: the activation error when the read-only check cannot
 * confirm what the delivery needs (what is missing or unreadable, and what to grant), or
 * undefined when all of it is in place.
 */
export function refusedSetUpError(node: INode, refusal: string, lines: CheckLine[]): NodeOperationError | undefined {
	const unverified = unverifiedLines(lines);
	if (unverified.length === 0) return undefined;
	return new NodeOperationError(node, `Setting up Google Cloud was refused (${refusal}) — set-up check: ${linesInOne(unverified)}`, {
		description: `Activation stops here rather than watch a mailbox whose notifications reach no subscription. Set-up check:\n${formatCheck(lines)}`,
	});
}

/** The n8n error for a failed set-up; Google may quote the push endpoint in its message, so it is masked. */
export function setUpError(node: INode, error: unknown, project: string, pushEndpoint?: string): NodeOperationError {
	const message = redact(error instanceof Error ? error.message : String(error), [pushEndpoint]);
	if (!(error instanceof PubSubAdminError)) return new NodeOperationError(node, `Setting up Google Cloud failed: ${message}`);
	const pubsubApi = consoleUrl('apis/library/pubsub.googleapis.com', project);
	if (error.reason === 'SUBSCRIPTION_MISMATCH') {
		return new NodeOperationError(node, message, { description: 'Set Up Google Cloud does not change a subscription that already exists: it may serve someone else.' });
	}
	if (isApiDisabled(failureOf(error))) {
		return new NodeOperationError(node, `The Cloud Pub/Sub API is not enabled in project ${project}: ${message}`, {
			description: `Enable it at ${pubsubApi}, wait a minute, and activate again.`,
		});
	}
	if (error.status === 404) {
		return new NodeOperationError(node, `Project ${project} was not found, or its Pub/Sub API is not enabled: ${message}`, {
			description: `Check the project id in the Topic Name, and enable the API: ${pubsubApi}`,
		});
	}
	if (isOrganisationPolicy(error)) {
		return new NodeOperationError(node, `An organisation policy blocks the grant for Gmail: ${message}`, {
			description: `The constraint iam.allowedPolicyMemberDomains must allow ${GMAIL_PUSH_ACCOUNT} on this topic: ask your Google Cloud administrator (IAM & Admin > Organization Policies).`,
		});
	}
	return new NodeOperationError(node, `Setting up Google Cloud failed: ${message}`);
}
