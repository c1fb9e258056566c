/**
 * The set-up check and the set-up's problems as plain text, one line per prerequisite: for the
 * log and for activation errors (renderPanel.ts writes the editor's panel). Every text is masked.
 */
import { MASK, redact } from '../core/redact';
import type { CheckLine, CheckStatus, Code, FactsOf, Finding, GmailFix, Grant, ReadFix, Remedy } from './findings';
import { GMAIL_PUBLISHER } from './iam';

export const GMAIL_PUSH_ACCOUNT = GMAIL_PUBLISHER.replace('serviceAccount:', '');
export const PUBSUB_ADMIN_ROLE = 'roles/pubsub.admin';
export const PUBSUB_VIEWER_ROLE = 'roles/pubsub.viewer';
export const PUBSUB_SUBSCRIBER_ROLE = 'roles/pubsub.subscriber';
export const SERVICE_ACCOUNT_USER_ROLE = 'roles/iam.serviceAccountUser';

export const consoleUrl = (path: string, project: string) => `https://console.cloud.google.com/${path}?project=${project}`;
export const shortName = (name: string) => name.slice(name.lastIndexOf('/') + 1);
export const grantCommand = (topic: string) => `gcloud pubsub topics add-iam-policy-binding ${topic} --member=${GMAIL_PUBLISHER} --role=roles/pubsub.publisher`;

/** Whom the user grants roles to: the service account itself, never its Delegated Email. */
export function identity(grant: Grant): string {
	return grant.serviceAccount ? `the service account ${grant.serviceAccount}` : 'the Google account that connected the credential';
}

function adminAdvice(grant: Grant): string {
	return `give ${identity(grant)} Pub/Sub Admin (${PUBSUB_ADMIN_ROLE}) in project ${grant.project} (IAM & Admin > IAM)`;
}

function actAsAdvice(grant: Grant, signer: string): string {
	return (
		`grant ${identity(grant)} Service Account User (${SERVICE_ACCOUNT_USER_ROLE}) on ${signer} (IAM & Admin > Service Accounts > ${signer} > Permissions > Grant access): ` +
		`a push subscription that signs as ${signer} needs iam.serviceAccounts.actAs on it, which Pub/Sub Admin does not include`
	);
}

export function grantAdvice(grant: Grant): string {
	if (!grant.actAs) return adminAdvice(grant);
	return grant.pubSubAdmin ? `${adminAdvice(grant)}, and ${actAsAdvice(grant, grant.actAs)}` : actAsAdvice(grant, grant.actAs);
}

const RECONNECT = 'reconnect the credential (OAuth2) or paste a new service account key';

export function readAdvice(fix: ReadFix): string {
	if (fix.kind === 'reconnect') return RECONNECT;
	const least = `Pub/Sub Viewer (${PUBSUB_VIEWER_ROLE})${fix.pull ? ` and Pub/Sub Subscriber (${PUBSUB_SUBSCRIBER_ROLE})` : ''}`;
	return `${adminAdvice(fix.grant)}; or, with the topic, Gmail's grant and the subscription made by hand, at least ${least}`;
}

export const GMAIL_FIX: Record<GmailFix, string> = {
	reconnect: RECONNECT,
	delegation: "allow the service account's client id for the Gmail read scope under domain-wide delegation (Google Admin console)",
	'no-mailbox': 'this account has no mailbox: set Delegated Email to the Workspace user to watch',
	credential: 'check the credential',
};

/** A missing resource: made at activation, or what to run; with what to grant when the set-up was refused. */
function todo(what: string, command: string, remedy: Remedy): string {
	if (remedy.kind === 'grant') return `${what}, and Set Up Google Cloud may not make it: ${grantAdvice(remedy.grant)}; or ${command}`;
	if (remedy.kind === 'at-activation') return `${what}; Set Up Google Cloud makes it when the workflow is activated`;
	return `${what}: ${command}, or turn on Set Up Google Cloud`;
}

const edit = (name: string) => `(Pub/Sub > Subscriptions > ${shortName(name)} > Edit)`;

const TEXT: { [C in Code]: (f: FactsOf[C]) => string } = {
	'gmail-readable': (f) => `enabled; the credential reads ${f.emailAddress}`,
	'api-disabled': (f) =>
		f.api === 'gmail'
			? `not enabled in the credential's project: enable it at ${consoleUrl('apis/library/gmail.googleapis.com', f.project)}, wait a minute, test again`
			: `not enabled in project ${f.project}: enable it at ${consoleUrl('apis/library/pubsub.googleapis.com', f.project)}`,
	'gmail-refused': (f) => `${f.message}: ${GMAIL_FIX[f.fix]}`,
	'unchecked-for-scope': (f) => (f.api === 'gmail' ? 'not checked: the credential may not read Gmail (see Credential scopes)' : 'not checked: the credential may not use Pub/Sub (see Credential scopes)'),
	'pubsub-enabled': () => 'enabled',
	'topic-unreadable': (f) => `not checked: the credential may not read topic ${f.topic} (${f.message})`,
	'google-error': (f) => f.message,
	'scopes-sufficient': () => 'sufficient for what was checked',
	'scope-missing': (f) =>
		`missing ${f.scopes.join(' and ')}: reconnect the OAuth2 credential and allow access, or add the scope to the service account's domain-wide delegation (Google Admin console > Security > API controls)`,
	'topic-exists': (f) => `${f.topic} exists`,
	'topic-missing': (f) => todo(`${f.topic} does not exist`, `create it (gcloud pubsub topics create ${shortName(f.topic)} --project=${f.project})`, f.remedy),
	unreadable: (f) => `could not be read (${f.message}): ${readAdvice(f.fix)}`,
	'not-checked': (f) => `not checked: ${f.message}`,
	'topic-unchecked': (f) => `not checked (see above); it must exist: ${consoleUrl('cloudpubsub/topic/list', f.project)}`,
	'publisher-granted': () => `${GMAIL_PUSH_ACCOUNT} may publish to the topic`,
	'publisher-grant-missing': (f) =>
		f.topicMissing
			? todo('not given yet (the topic is missing)', `after creating the topic, ${grantCommand(f.topic)}`, f.remedy)
			: todo(`${GMAIL_PUSH_ACCOUNT} may not publish to the topic`, `grant it Pub/Sub Publisher (Pub/Sub > Topics > ${shortName(f.topic)} > Permissions > Add principal; or ${grantCommand(f.topic)})`, f.remedy),
	'policy-unreadable': (f) => `not checked: the credential may not read the topic's permissions (${f.message}); look at Pub/Sub > Topics > ${shortName(f.topic)} > Permissions`,
	'unchecked-see-above': () => 'not checked (see above)',
	'org-policy-refused': (f) =>
		`Google refused the grant (${f.message}): the organisation policy iam.allowedPolicyMemberDomains must allow ${GMAIL_PUSH_ACCOUNT} on this topic; ask your administrator (IAM & Admin > Organization Policies)`,
	'org-policy-allows': () => 'does not block the grant (it is in place)',
	'org-policy-unknown': () =>
		'shows only when the grant is made: if Google refuses it ("not in a permitted customer"), iam.allowedPolicyMemberDomains blocks it (IAM & Admin > Organization Policies)',
	'subscription-name-empty': () => 'Subscription Name is empty: enter projects/<project-id>/subscriptions/<subscription>',
	'push-subscription-unknown': (f) => `not checked: with Set Up Google Cloud off the node does not know the push subscription; it must be attached to ${f.topic}`,
	'push-endpoint-unknown': () => "not checked: the subscription must push to this node's Production URL (shown above the parameters)",
	'push-auth-unknown': () => 'not checked: it must match Push Authentication',
	'unchecked-see-subscription': () => 'not checked (see Subscription)',
	'subscription-missing': (f) => {
		const create = f.push
			? `create a push subscription to ${f.push.endpoint} on ${f.topic}`
			: `create it (gcloud pubsub subscriptions create ${shortName(f.name)} --topic=${f.topic} --expiration-period=never)`;
		return todo(`${f.name} does not exist`, create, f.remedy);
	},
	'push-endpoint-at-activation': (f) => `the subscription made at activation pushes to ${f.endpoint}`,
	'push-endpoint-needed': (f) => `the subscription must push to ${f.endpoint}`,
	'push-auth-at-activation': () => 'set on the subscription made at activation',
	'push-auth-needed': (f) => (f.signer ? `its push authentication must sign as ${f.signer}` : "its endpoint must carry the node's shared secret as it is in the Production URL above"),
	'subscription-attached': (f) => `${f.name} is attached to ${f.topic}`,
	'push-endpoint-matches': () => "pushes to this node's Production URL",
	'push-auth-matches': (f) =>
		f.kind === 'oidc' ? `pushes are signed as ${f.signer}, as the node checks` : f.kind === 'secret' ? 'the endpoint carries the shared secret the node checks' : 'the node checks nothing (Push Authentication: None)',
	'subscription-wrong-topic': (f) =>
		`Subscription ${f.name} is attached to ${f.topic ?? 'no topic'}, not to ${f.wantedTopic}: pick another subscription name, or the topic it is attached to`,
	'subscription-topic-deleted': (f) => `Subscription ${f.name} belongs to a topic that was deleted: delete the subscription (or pick another name) and activate again`,
	'subscription-of-another-workflow': (f) =>
		`Subscription ${f.name} was made by the Gmail Push Trigger of another workflow (a copy of this one?), and a subscription serves one trigger only: ` +
		`give this trigger its own Subscription Name (for example ${shortName(f.name)}-2) and activate again, or delete ${shortName(f.name)} in the console if its workflow is gone`,
	'subscription-is-push': (f) => `Subscription ${f.name} is a push subscription, to ${f.endpoint}; pull delivery needs a pull subscription: pick another subscription name`,
	'subscription-is-pull': (f) => `Subscription ${f.name} is a pull subscription; push delivery needs it to push to ${f.wantedEndpoint}: pick another subscription name`,
	'push-endpoint-differs': (f) => `Subscription ${f.name} pushes to ${f.endpoint}, not to this node's Production URL ${f.wantedEndpoint}: edit its endpoint in the console ${edit(f.name)}`,
	'secret-differs': (f) => {
		const what = f.tokenSent ? `its token=${MASK} differs from the node's shared secret (was the secret changed?)` : "without the token the node's shared secret requires";
		return (
			`Subscription ${f.name} pushes to this node's Production URL, but ${what}: set its endpoint to the Production URL followed by ?token= and the node's current secret ${edit(f.name)}, ` +
			'or delete the subscription and activate again: the set-up makes it anew'
		);
	},
	'push-signer-differs': (f) =>
		`Subscription ${f.name} does not sign its pushes as ${f.wantedSigner} (it ${f.signer ? `signs as ${f.signer}` : 'sends no OIDC token'}): ` +
		`set that service account under its push authentication (Pub/Sub > Subscriptions > ${shortName(f.name)} > Edit > Enable authentication)`,
	'push-signer-unchecked': (f) => `Subscription ${f.name} signs its pushes as ${f.signer}, but the node does not check OIDC tokens: set Push Authentication to Google OIDC Token with ${f.signer}`,
	'subscription-expires': (f) =>
		`Subscription ${f.name} is deleted after ${f.ttl} without activity: set its expiration to "Never expire" in the console, or an idle mailbox loses it`,
};

/** One finding in words, masked. */
export function problemText(found: Finding): string {
	return redact((TEXT[found.code] as (facts: FactsOf[Code]) => string)(found.facts));
}

/** What a line says: its findings, one after the other. */
export function lineText(line: CheckLine): string {
	return line.findings.map(problemText).join('; ');
}

const MARK: Record<CheckStatus, string> = { ok: '✓', fails: '✗', warns: '!', unknown: '?', 'at-activation': '→' };

/** One line per prerequisite, for the log or an activation error's description. */
export function formatCheck(lines: CheckLine[]): string {
	return lines.map((l) => `${MARK[l.status]} ${l.prerequisite}: ${lineText(l)}`).join('\n');
}

/** The given lines in one sentence, for an error's message. */
export function linesInOne(lines: CheckLine[]): string {
	return lines.map((l) => `${l.prerequisite}: ${lineText(l)}`).join(' | ');
}
