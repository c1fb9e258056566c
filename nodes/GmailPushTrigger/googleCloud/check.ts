/**
 * The set-up check: every prerequisite of the chosen delivery, one line each, as coded findings.
 * Read-only (it never creates, grants or edits anything), so it can run on a test run in the
 * editor and after a failed activation. Plain logic over the Gmail and Pub/Sub admin ports.
 */
import { finding, type CheckLine } from './findings';
import { failureOf, gmailFix, isApiDisabled, isDenied, isScopeMissing, type GoogleFailure } from './googleFailure';
import { publisherGranted } from './iam';
import { checkSubscription } from './checkSubscription';
import { checkContext, type CheckAdmin, type CheckContext, type SetUpCheckInput, type SetUpCheckPorts } from './checkContext';

export type { SetUpCheckInput, SetUpCheckPorts } from './checkContext';

export const GMAIL_SCOPE_NEEDED = 'https://www.googleapis.com/auth/gmail.readonly';
export const PUBSUB_SCOPE_NEEDED = 'https://www.googleapis.com/auth/pubsub';

/** Runs every check that applies to the delivery; never throws (a check that cannot run says so). */
export async function checkSetUp(ports: SetUpCheckPorts, input: SetUpCheckInput): Promise<CheckLine[]> {
	const lines: CheckLine[] = [];
	const ctx = checkContext(input, lines);
	const missingScopes: string[] = [];
	await checkGmail(ctx, ports.gmail, missingScopes);
	if (input.delivery === 'poll' || !ports.admin) {
		addScopes(ctx, missingScopes);
		return lines;
	}
	const topic = await checkPubSubApi(ctx, ports.admin, missingScopes);
	addScopes(ctx, missingScopes);
	const granted = await checkTopicAndGrant(ctx, ports.admin, topic);
	checkOrganisationPolicy(ctx, granted);
	await checkSubscription(ctx, ports.admin);
	return lines;
}

/** Gmail: a profile read needs the API enabled and a Gmail read scope (1 quota unit). */
async function checkGmail(ctx: CheckContext, gmail: SetUpCheckPorts['gmail'], missingScopes: string[]): Promise<void> {
	try {
		const profile = await gmail.getProfile();
		ctx.add('Gmail API', 'ok', finding('gmail-readable', { emailAddress: profile.emailAddress }));
	} catch (error) {
		const f = failureOf(error);
		if (isApiDisabled(f)) ctx.add('Gmail API', 'fails', finding('api-disabled', { api: 'gmail', project: ctx.project }));
		else if (isScopeMissing(f)) {
			missingScopes.push(GMAIL_SCOPE_NEEDED);
			ctx.add('Gmail API', 'unknown', finding('unchecked-for-scope', { api: 'gmail' }));
		} else ctx.add('Gmail API', 'fails', finding('gmail-refused', { message: ctx.mask(f.message), fix: gmailFix(f) }));
	}
}

function addScopes(ctx: CheckContext, missing: string[]): void {
	if (missing.length === 0) ctx.add('Credential scopes', 'ok', finding('scopes-sufficient', {}));
	else ctx.add('Credential scopes', 'fails', finding('scope-missing', { scopes: missing }));
}

type TopicRead = { exists: boolean } | { failure: GoogleFailure };

/** The topic read also tells whether the Pub/Sub API is enabled and the scope is there. */
async function checkPubSubApi(ctx: CheckContext, admin: CheckAdmin, missingScopes: string[]): Promise<TopicRead> {
	try {
		const exists = (await admin.getTopic(ctx.input.topic)) !== undefined;
		ctx.add('Pub/Sub API', 'ok', finding('pubsub-enabled', {}));
		return { exists };
	} catch (error) {
		const f = failureOf(error);
		if (isApiDisabled(f)) ctx.add('Pub/Sub API', 'fails', finding('api-disabled', { api: 'pubsub', project: ctx.project }));
		else if (isScopeMissing(f)) {
			missingScopes.push(PUBSUB_SCOPE_NEEDED);
			ctx.add('Pub/Sub API', 'unknown', finding('unchecked-for-scope', { api: 'pubsub' }));
		} else if (isDenied(f)) ctx.add('Pub/Sub API', 'unknown', finding('topic-unreadable', { topic: ctx.input.topic, message: ctx.mask(f.message) }));
		else ctx.add('Pub/Sub API', 'fails', finding('google-error', { message: ctx.mask(f.message) }));
		return { failure: f };
	}
}

/** The topic and Gmail's publisher grant on it; true when the grant is known to be there. */
async function checkTopicAndGrant(ctx: CheckContext, admin: CheckAdmin, read: TopicRead): Promise<boolean> {
	const { topic } = ctx.input;
	const project = ctx.project;
	const exists = 'exists' in read ? read.exists : undefined;
	if (exists) ctx.add('Topic', 'ok', finding('topic-exists', { topic }));
	else if (exists === false) {
		const [status, remedy] = ctx.remedy();
		ctx.add('Topic', status, finding('topic-missing', { topic, project, remedy }));
	} else {
		const unreadable = ctx.unreadable((read as { failure: GoogleFailure }).failure);
		if (unreadable[0] === 'fails') ctx.add('Topic', ...unreadable);
		else ctx.add('Topic', 'unknown', finding('topic-unchecked', { project }));
	}

	if (exists === undefined) {
		ctx.add("Gmail's publisher grant", 'unknown', finding('unchecked-see-above', {}));
		return false;
	}
	if (!exists) {
		const [status, remedy] = ctx.remedy();
		ctx.add("Gmail's publisher grant", status, finding('publisher-grant-missing', { topic, project, topicMissing: true, remedy }));
		return false;
	}
	try {
		if (publisherGranted(await admin.getTopicIamPolicy(topic))) {
			ctx.add("Gmail's publisher grant", 'ok', finding('publisher-granted', {}));
			return true;
		}
		const [status, remedy] = ctx.remedy();
		ctx.add("Gmail's publisher grant", status, finding('publisher-grant-missing', { topic, project, topicMissing: false, remedy }));
	} catch (error) {
		ctx.add("Gmail's publisher grant", 'unknown', finding('policy-unreadable', { topic, message: ctx.mask(failureOf(error).message) }));
	}
	return false;
}

/** An organisation policy that forbids Gmail in IAM policies shows only when the grant is written. */
function checkOrganisationPolicy(ctx: CheckContext, granted: boolean): void {
	const refusal = ctx.input.grantRefusal;
	if (refusal) ctx.add('Organisation policy', 'fails', finding('org-policy-refused', { message: ctx.mask(refusal) }));
	else if (granted) ctx.add('Organisation policy', 'ok', finding('org-policy-allows', {}));
	else ctx.add('Organisation policy', 'unknown', finding('org-policy-unknown', {}));
}
