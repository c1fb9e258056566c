/**
 * The set-up check: every prerequisite of the chosen delivery, one line each, with what to do
 * when it fails. Read-only (it never creates, grants or edits anything), so it can run on a test
 * run in the editor and after a failed activation. Plain logic over the Gmail and Pub/Sub admin
 * interfaces; the shell (shell/setUpCheck.ts) turns the lines into the error the user sees.
 */
import { GMAIL_PUBLISHER, publisherGranted, subscriptionProblems, type PubSubAdminPort, type PubSubSubscription, type WantedSubscription } from './setup';
import { projectOfName } from './names';
import { redact } from './redact';
import { adminAdvice, readAdvice, subscriptionAdvice, type SetUpRefusal } from './refusal';

export type CheckStatus = 'ok' | 'fails' | 'warns' | 'unknown' | 'at-activation';

export type Prerequisite =
	| 'Gmail API'
	| 'Pub/Sub API'
	| 'Credential scopes'
	| 'Topic'
	| "Gmail's publisher grant"
	| 'Organisation policy'
	| 'Subscription'
	| 'Push endpoint'
	| 'Push authentication';

export interface CheckLine {
	prerequisite: Prerequisite;
	status: CheckStatus;
	/** What holds, or what is wrong and what to do about it. */
	text: string;
}

export const GMAIL_SCOPE_NEEDED = 'https://www.googleapis.com/auth/gmail.readonly';
export const PUBSUB_SCOPE_NEEDED = 'https://www.googleapis.com/auth/pubsub';

export interface SetUpCheckInput {
	delivery: 'push' | 'pull' | 'poll';
	topic: string;
	/** push and pull: the subscription the node reads or pushes through; undefined when not named. */
	subscription?: WantedSubscription;
	/** Set Up Google Cloud is on: what is missing is made at activation rather than failing. */
	setUpOn: boolean;
	/** The grant write Google refused at activation, when it did (an organisation policy shows only then). */
	grantRefusal?: string;
	/**
	 * Google refused the set-up part-way (401/403): what is missing fails, saying what to grant,
	 * and what cannot be read fails too, since activation goes on only when all is known to be there.
	 */
	setUpRefusal?: SetUpRefusal;
}

export interface SetUpCheckPorts {
	gmail: { getProfile(): Promise<{ emailAddress: string }> };
	/** Absent when no Pub/Sub check is possible (poll delivery needs none). */
	admin?: Pick<PubSubAdminPort, 'getTopic' | 'getTopicIamPolicy' | 'getSubscription'>;
}

interface GoogleFailure {
	status: number;
	message: string;
	reason?: string;
}

function failureOf(error: unknown): GoogleFailure {
	const e = (error ?? {}) as Partial<GoogleFailure>;
	return { status: typeof e.status === 'number' ? e.status : 0, message: typeof e.message === 'string' ? e.message : String(error), reason: e.reason };
}

/** Google's answer for a call to an API the project has not enabled (403 SERVICE_DISABLED). */
export const isApiDisabled = (f: GoogleFailure) => f.status === 403 && /has not been used in project|is disabled|SERVICE_DISABLED|accessNotConfigured/i.test(`${f.message} ${f.reason ?? ''}`);
const isScopeMissing = (f: GoogleFailure) => f.status === 403 && /insufficient authentication scopes|ACCESS_TOKEN_SCOPE_INSUFFICIENT|insufficientPermissions/i.test(`${f.message} ${f.reason ?? ''}`);
const isDenied = (f: GoogleFailure) => f.status === 403 || f.status === 401;

const consoleUrl = (path: string, project: string) => `https://console.cloud.google.com/${path}?project=${project}`;
const shortName = (name: string) => name.slice(name.lastIndexOf('/') + 1);

/** Runs every check that applies to the delivery; never throws (a check that cannot run says so). */
export async function checkSetUp(ports: SetUpCheckPorts, input: SetUpCheckInput): Promise<CheckLine[]> {
	const project = projectOfName(input.topic) ?? '<project>';
	const lines: CheckLine[] = [];
	// Every line is masked as it is made: Google's messages may quote the push endpoint, hence the secret.
	const add = (prerequisite: Prerequisite, status: CheckStatus, text: string) => lines.push({ prerequisite, status, text: redact(text, [input.subscription?.pushEndpoint]) });
	const missingScopes: string[] = [];

	// Gmail: a profile read needs the API enabled and a Gmail read scope (1 quota unit).
	try {
		const profile = await ports.gmail.getProfile();
		add('Gmail API', 'ok', `enabled; the credential reads ${profile.emailAddress}`);
	} catch (error) {
		const f = failureOf(error);
		if (isApiDisabled(f)) add('Gmail API', 'fails', `not enabled in the credential's project: enable it at ${consoleUrl('apis/library/gmail.googleapis.com', project)}, wait a minute, test again`);
		else if (isScopeMissing(f)) {
			missingScopes.push(GMAIL_SCOPE_NEEDED);
			add('Gmail API', 'unknown', 'not checked: the credential may not read Gmail (see Credential scopes)');
		} else add('Gmail API', 'fails', `${f.message}: ${gmailAdvice(f)}`);
	}

	if (input.delivery === 'poll' || !ports.admin) {
		add('Credential scopes', missingScopes.length ? 'fails' : 'ok', scopesText(missingScopes));
		return lines;
	}
	const admin = ports.admin;
	const refusal = input.setUpRefusal;
	const todo: Todo = (what, command, advice = refusal && adminAdvice(refusal, project)) => {
		if (refusal) return ['fails', `${what}, and Set Up Google Cloud may not make it: ${advice}; or ${command}`];
		return input.setUpOn ? ['at-activation', `${what}; Set Up Google Cloud makes it when the workflow is activated`] : ['fails', `${what}: ${command}, or turn on Set Up Google Cloud`];
	};
	const unreadable = (f: GoogleFailure): [CheckStatus, string] =>
		refusal && isDenied(f) && !isScopeMissing(f)
			? ['fails', `could not be read (${f.message}): ${readAdvice(refusal, project, f.status, input.delivery === 'pull')}`]
			: ['unknown', `not checked: ${f.message}`];

	// The topic: also tells whether the Pub/Sub API is enabled and the scope is there.
	let topicExists: boolean | undefined;
	let topicFailure: GoogleFailure | undefined;
	try {
		topicExists = (await admin.getTopic(input.topic)) !== undefined;
		add('Pub/Sub API', 'ok', 'enabled');
	} catch (error) {
		const f = (topicFailure = failureOf(error));
		if (isApiDisabled(f)) add('Pub/Sub API', 'fails', `not enabled in project ${project}: enable it at ${consoleUrl('apis/library/pubsub.googleapis.com', project)}`);
		else if (isScopeMissing(f)) {
			missingScopes.push(PUBSUB_SCOPE_NEEDED);
			add('Pub/Sub API', 'unknown', 'not checked: the credential may not use Pub/Sub (see Credential scopes)');
		} else if (isDenied(f)) add('Pub/Sub API', 'unknown', `not checked: the credential may not read topic ${input.topic} (${f.message})`);
		else add('Pub/Sub API', 'fails', f.message);
	}
	add('Credential scopes', missingScopes.length ? 'fails' : 'ok', scopesText(missingScopes));

	const topicUnreadable = topicFailure && unreadable(topicFailure);
	if (topicExists) add('Topic', 'ok', `${input.topic} exists`);
	else if (topicExists === false) add('Topic', ...todo(`${input.topic} does not exist`, `create it (gcloud pubsub topics create ${shortName(input.topic)} --project=${project})`));
	else if (topicUnreadable?.[0] === 'fails') add('Topic', ...topicUnreadable);
	else add('Topic', 'unknown', `not checked (see above); it must exist: ${consoleUrl('cloudpubsub/topic/list', project)}`);

	// Gmail's publisher grant, and the organisation policy that can forbid it.
	const grantCommand = `gcloud pubsub topics add-iam-policy-binding ${input.topic} --member=${GMAIL_PUBLISHER} --role=roles/pubsub.publisher`;
	let granted: boolean | undefined;
	if (topicExists) {
		try {
			granted = publisherGranted(await admin.getTopicIamPolicy(input.topic));
			if (granted) add("Gmail's publisher grant", 'ok', `${GMAIL_PUBLISHER.replace('serviceAccount:', '')} may publish to the topic`);
			else add("Gmail's publisher grant", ...todo(`${GMAIL_PUBLISHER.replace('serviceAccount:', '')} may not publish to the topic`, `grant it Pub/Sub Publisher (Pub/Sub > Topics > ${shortName(input.topic)} > Permissions > Add principal; or ${grantCommand})`));
		} catch (error) {
			const f = failureOf(error);
			add("Gmail's publisher grant", 'unknown', `not checked: the credential may not read the topic's permissions (${f.message}); look at Pub/Sub > Topics > ${shortName(input.topic)} > Permissions`);
		}
	} else if (topicExists === false) add("Gmail's publisher grant", ...todo('not given yet (the topic is missing)', `after creating the topic, ${grantCommand}`));
	else add("Gmail's publisher grant", 'unknown', 'not checked (see above)');

	if (input.grantRefusal) {
		add(
			'Organisation policy',
			'fails',
			`Google refused the grant (${input.grantRefusal}): the organisation policy iam.allowedPolicyMemberDomains must allow ${GMAIL_PUBLISHER.replace('serviceAccount:', '')} on this topic; ask your administrator (IAM & Admin > Organization Policies)`,
		);
	} else if (granted) add('Organisation policy', 'ok', 'does not block the grant (it is in place)');
	else {
		add('Organisation policy', 'unknown', `shows only when the grant is made: if Google refuses it ("not in a permitted customer"), iam.allowedPolicyMemberDomains blocks it (IAM & Admin > Organization Policies)`);
	}

	await checkSubscription(add, admin, input, todo, unreadable);
	return lines;
}

type Add = (prerequisite: Prerequisite, status: CheckStatus, text: string) => void;
/** A missing resource's line: made at activation, or what to run; `advice` says what to grant when the set-up was refused. */
type Todo = (what: string, command: string, advice?: string) => [CheckStatus, string];
type Unreadable = (f: GoogleFailure) => [CheckStatus, string];

type SubscriptionRead = { found: PubSubSubscription } | { absent: true } | { failure: GoogleFailure };

async function readSubscription(admin: NonNullable<SetUpCheckPorts['admin']>, name: string): Promise<SubscriptionRead> {
	try {
		const found = await admin.getSubscription(name);
		return found ? { found } : { absent: true };
	} catch (error) {
		return { failure: failureOf(error) };
	}
}

async function checkSubscription(add: Add, admin: NonNullable<SetUpCheckPorts['admin']>, input: SetUpCheckInput, todo: Todo, unreadable: Unreadable): Promise<void> {
	const wanted = input.subscription;
	const push = input.delivery === 'push';
	if (!wanted) {
		if (!push) add('Subscription', 'fails', 'Subscription Name is empty: enter projects/<project-id>/subscriptions/<subscription>');
		else {
			// Push without the set-up: the user made the subscription; the node does not know its name.
			add('Subscription', 'unknown', `not checked: with Set Up Google Cloud off the node does not know the push subscription; it must be attached to ${input.topic}`);
			add('Push endpoint', 'unknown', "not checked: the subscription must push to this node's Production URL (shown above the parameters)");
			add('Push authentication', 'unknown', 'not checked: it must match Push Authentication');
		}
		return;
	}
	const read = await readSubscription(admin, wanted.name);
	if ('failure' in read) {
		add('Subscription', ...unreadable(read.failure));
		if (push) {
			add('Push endpoint', 'unknown', 'not checked (see Subscription)');
			add('Push authentication', 'unknown', 'not checked (see Subscription)');
		}
		return;
	}
	if ('absent' in read) {
		const create = push
			? `create a push subscription to ${wanted.pushEndpoint} on ${wanted.topic}`
			: `create it (gcloud pubsub subscriptions create ${shortName(wanted.name)} --topic=${wanted.topic} --expiration-period=never)`;
		const refusal = input.setUpRefusal;
		const signer = push ? wanted.oidc?.serviceAccountEmail : undefined;
		add('Subscription', ...todo(`${wanted.name} does not exist`, create, refusal && subscriptionAdvice(refusal, projectOfName(wanted.topic) ?? '<project>', signer)));
		if (push) {
			const later = input.setUpOn && !refusal;
			add('Push endpoint', later ? 'at-activation' : 'fails', later ? `the subscription made at activation pushes to ${wanted.pushEndpoint}` : `the subscription must push to ${wanted.pushEndpoint}`);
			add('Push authentication', later ? 'at-activation' : 'fails', later ? 'set on the subscription made at activation' : authAdvice(wanted));
		}
		return;
	}
	const existing = read.found;
	const problems = subscriptionProblems(existing, wanted);
	const about = (pattern: RegExp) => problems.filter((p) => pattern.test(p.line));
	const endpointProblems = about(/pushes to|Production URL|pull subscription;/);
	const authProblems = about(/sign|OIDC/);
	const otherProblems = problems.filter((p) => !endpointProblems.includes(p) && !authProblems.includes(p));
	const worst = (ps: typeof problems): CheckStatus => (ps.some((p) => p.severity === 'blocks') ? 'fails' : ps.length ? 'warns' : 'ok');
	add('Subscription', worst(otherProblems), otherProblems.length ? otherProblems.map((p) => p.line).join('; ') : `${wanted.name} is attached to ${wanted.topic}`);
	if (!push) return;
	add('Push endpoint', worst(endpointProblems), endpointProblems.length ? endpointProblems.map((p) => p.line).join('; ') : `pushes to this node's Production URL`);
	add('Push authentication', worst(authProblems), authProblems.length ? authProblems.map((p) => p.line).join('; ') : authOk(wanted));
}

function authOk(wanted: WantedSubscription): string {
	if (wanted.oidc?.serviceAccountEmail) return `pushes are signed as ${wanted.oidc.serviceAccountEmail}, as the node checks`;
	if (wanted.pushEndpoint?.includes('token=')) return 'the endpoint carries the shared secret the node checks';
	return 'the node checks nothing (Push Authentication: None)';
}

function authAdvice(wanted: WantedSubscription): string {
	if (wanted.oidc?.serviceAccountEmail) return `its push authentication must sign as ${wanted.oidc.serviceAccountEmail}`;
	return 'its endpoint must carry the node\'s shared secret as it is in the Production URL above';
}

function scopesText(missing: string[]): string {
	if (missing.length === 0) return 'sufficient for what was checked';
	return `missing ${missing.join(' and ')}: reconnect the OAuth2 credential and allow access, or add the scope to the service account's domain-wide delegation (Google Admin console > Security > API controls)`;
}

function gmailAdvice(f: GoogleFailure): string {
	if (f.status === 401 || /invalid_grant|revoked|expired/i.test(f.message)) return 'reconnect the credential (OAuth2) or paste a new service account key';
	if (/delegat|unauthorized_client/i.test(f.message)) return 'allow the service account\'s client id for the Gmail read scope under domain-wide delegation (Google Admin console)';
	if (/mail service not enabled|failedPrecondition/i.test(`${f.message} ${f.reason ?? ''}`)) return 'this account has no mailbox: set Delegated Email to the Workspace user to watch';
	return 'check the credential';
}

const MARK: Record<CheckStatus, string> = { ok: '✓', fails: '✗', warns: '!', unknown: '?', 'at-activation': '→' };

/** One line per prerequisite, for an error's description or the log. */
export function formatCheck(lines: CheckLine[]): string {
	return lines.map((l) => `${MARK[l.status]} ${l.prerequisite}: ${l.text}`).join('\n');
}

export function failingLines(lines: CheckLine[]): CheckLine[] {
	return lines.filter((l) => l.status === 'fails');
}

/** What the delivery cannot work without; Gmail's publisher grant is not among them (see unverifiedLines). */
const NEEDED: ReadonlySet<Prerequisite> = new Set(['Topic', 'Subscription', 'Push endpoint', 'Push authentication']);

/**
 * After a refused set-up: the lines that keep the delivery from being known to work (the failing
 * ones, and what it needs that could not be checked); empty when it may go on. Gmail's grant may
 * stay unread (Pub/Sub Viewer may not read a topic's IAM policy): Gmail's watch, which comes
 * next, refuses a topic it may not publish to.
 */
export function unverifiedLines(lines: CheckLine[]): CheckLine[] {
	return lines.filter((l) => l.status === 'fails' || (l.status === 'unknown' && NEEDED.has(l.prerequisite)));
}
