/**
 * What the set-up check finds, as data: a code and the facts it needs, never text. The text is
 * written once, from these, in renderText.ts (logs, activation errors) and renderPanel.ts (the
 * editor's output panel). Facts hold no secret: endpoints and Google's messages come masked.
 */

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

/** A set-up Google refused part-way (401/403), as the Pub/Sub admin reported it. */
export interface SetUpRefusal {
	/** Google's answer (masked). */
	message: string;
	/** The Pub/Sub call Google refused ('subscriptions.create', …), when known. */
	call?: string;
	/** The service account Pub/Sub sees calling; undefined for OAuth2. */
	serviceAccount?: string;
}

/**
 * Roles that let the set-up do its part: Pub/Sub Admin in the project (Editor may not grant
 * Gmail on the topic), and Service Account User on the signer of a signed push subscription.
 */
export interface Grant {
	/** Whom to grant: the service account itself (never its Delegated Email); undefined for OAuth2. */
	serviceAccount?: string;
	project: string;
	pubSubAdmin: boolean;
	actAs?: string;
}

/** How a missing resource comes to be: made at activation, made by hand, or by the set-up once granted. */
export type Remedy = { kind: 'at-activation' } | { kind: 'by-hand' } | { kind: 'grant'; grant: Grant };

/** What lets the credential read what the delivery needs, when Google refused even that. */
export type ReadFix = { kind: 'reconnect' } | { kind: 'grant'; grant: Grant; pull: boolean };

/** What fixes a refused Gmail read, from Google's answer. */
export type GmailFix = 'reconnect' | 'delegation' | 'no-mailbox' | 'credential';

export type Api = 'gmail' | 'pubsub';
export type PushAuthKind = 'oidc' | 'secret' | 'none';

/** A subscription that exists, and what the node wants of it (names in full, endpoints masked). */
interface Named {
	name: string;
}

/** The facts of each code. */
export interface FactsOf {
	'gmail-readable': { emailAddress: string };
	'api-disabled': { api: Api; project: string };
	'gmail-refused': { message: string; fix: GmailFix };
	'unchecked-for-scope': { api: Api };
	'pubsub-enabled': Record<string, never>;
	'topic-unreadable': { topic: string; message: string };
	'google-error': { message: string };
	'scopes-sufficient': Record<string, never>;
	'scope-missing': { scopes: string[] };
	'topic-exists': { topic: string };
	'topic-missing': { topic: string; project: string; remedy: Remedy };
	unreadable: { message: string; fix: ReadFix };
	'not-checked': { message: string };
	'topic-unchecked': { project: string };
	'publisher-granted': Record<string, never>;
	'publisher-grant-missing': { topic: string; project: string; topicMissing: boolean; remedy: Remedy };
	'policy-unreadable': { topic: string; message: string };
	'unchecked-see-above': Record<string, never>;
	'org-policy-refused': { message: string };
	'org-policy-allows': Record<string, never>;
	'org-policy-unknown': Record<string, never>;
	'subscription-name-empty': Record<string, never>;
	'push-subscription-unknown': { topic: string };
	'push-endpoint-unknown': Record<string, never>;
	'push-auth-unknown': Record<string, never>;
	'unchecked-see-subscription': Record<string, never>;
	'subscription-missing': Named & { topic: string; push?: { endpoint: string; signer?: string }; remedy: Remedy };
	'push-endpoint-at-activation': { endpoint: string };
	'push-endpoint-needed': Named & { endpoint: string };
	'push-auth-at-activation': Record<string, never>;
	'push-auth-needed': Named & { signer?: string };
	'subscription-attached': Named & { topic: string };
	'push-endpoint-matches': Record<string, never>;
	'push-auth-matches': { kind: PushAuthKind; signer?: string };
	// What is wrong with a subscription that exists (subscriptionProblems).
	'subscription-wrong-topic': Named & { topic?: string; wantedTopic: string };
	'subscription-topic-deleted': Named;
	'subscription-of-another-workflow': Named;
	'subscription-is-push': Named & { endpoint: string };
	'subscription-is-pull': Named & { wantedEndpoint: string };
	'push-endpoint-differs': Named & { endpoint: string; wantedEndpoint: string };
	'secret-differs': Named & { tokenSent: boolean; wantedEndpoint: string };
	'push-signer-differs': Named & { signer?: string; wantedSigner: string; endpoint: string };
	'push-signer-unchecked': Named & { signer: string };
	'subscription-expires': Named & { ttl: string };
}

export type Code = keyof FactsOf;

/** One thing the check found: a code and its facts. */
export type Finding = { [C in Code]: { code: C; facts: FactsOf[C] } }[Code];

/** One prerequisite: its status and what was found (one finding, or a subscription's several problems). */
export interface CheckLine {
	prerequisite: Prerequisite;
	status: CheckStatus;
	findings: Finding[];
}

export function finding<C extends Code>(code: C, facts: FactsOf[C]): Finding {
	return { code, facts } as Finding;
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

/** The codes found on a line, for tests and logs. */
export function codesOf(line: CheckLine | undefined): Code[] {
	return (line?.findings ?? []).map((f) => f.code);
}
