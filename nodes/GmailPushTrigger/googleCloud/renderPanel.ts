/**
 * The set-up check in n8n's output panel: a message naming what fails in a few words, and an HTML
 * list of each failing prerequisite, console steps first, then the gcloud command. A list, as n8n
 * sanitises the description and collapses newlines (docs/n8n-behaviour.md#error-description).
 */
import { redact } from '../core/redact';
import type { CheckLine, CheckStatus, Code, FactsOf, Finding, Grant, Prerequisite, Remedy } from './findings';
import { GMAIL_FIX, GMAIL_PUSH_ACCOUNT, consoleUrl, grantAdvice, grantCommand, problemText, readAdvice, shortName } from './renderText';

/** What the panel says of one finding: a few words, what is wrong, then how to fix it. */
interface Advice {
	title: string;
	detail?: string;
	console?: string;
	link?: string;
	gcloud?: string;
	/** After the command: a last option, or what to do next. */
	then?: string;
}

type Panel = { [C in Code]?: (f: FactsOf[C], prerequisite: Prerequisite) => Advice };

const API_NAME = { gmail: ['Gmail API', 'gmail.googleapis.com'], pubsub: ['Cloud Pub/Sub API', 'pubsub.googleapis.com'] } as const;
const SECRET_NOTE = "Replace the … after token= with the node's shared secret.";
const subscriptionsUrl = (name: string) => consoleUrl('cloudpubsub/subscription/list', name.split('/')[1] ?? '');
const deleteCommand = (name: string) => `gcloud pubsub subscriptions delete ${name}`;

/** A missing resource: the steps that make it, or, after a refused set-up, the role that lets the set-up make it. */
function missing(remedy: Remedy, advice: Advice): Advice {
	if (remedy.kind === 'grant') {
		return { ...advice, console: `${capital(grantAdvice(remedy.grant))}. Or make it yourself: ${advice.console ?? ''}`, then: undefined };
	}
	return { ...advice, then: 'Or turn on Set Up Google Cloud: activation makes it.' };
}

function roleCommand(grant: Grant, role: string): string {
	const member = grant.serviceAccount ? `serviceAccount:${grant.serviceAccount}` : 'user:<your Google account>';
	return `gcloud projects add-iam-policy-binding ${grant.project} --member=${member} --role=${role}`;
}

const PANEL: Panel = {
	'api-disabled': (f) => ({
		title: `${f.api === 'gmail' ? 'Gmail' : 'Pub/Sub'} API not enabled`,
		console: `APIs & Services > Library > ${API_NAME[f.api][0]} > Enable, in project ${f.project}`,
		link: consoleUrl(`apis/library/${API_NAME[f.api][1]}`, f.project),
		gcloud: `gcloud services enable ${API_NAME[f.api][1]} --project=${f.project}`,
		then: 'Wait a minute, then test again.',
	}),
	'gmail-refused': (f) => ({ title: 'Gmail refused the credential', detail: f.message, console: capital(GMAIL_FIX[f.fix]) }),
	'google-error': (f) => ({ title: 'Pub/Sub answered with an error', detail: f.message }),
	'scope-missing': (f) => ({
		title: 'Credential scope missing',
		detail: `The credential lacks ${f.scopes.join(' and ')}.`,
		console: "OAuth2: reconnect the credential and allow access. Service account: Google Admin console > Security > API controls > Domain-wide delegation: add the scope to its client id",
	}),
	'topic-missing': (f) =>
		missing(f.remedy, {
			title: 'Topic missing',
			detail: `${f.topic} does not exist.`,
			console: `Pub/Sub > Topics > Create topic, Topic ID ${shortName(f.topic)}, in project ${f.project}`,
			link: consoleUrl('cloudpubsub/topic/list', f.project),
			gcloud: `gcloud pubsub topics create ${f.topic}`,
		}),
	unreadable: (f, prerequisite) => ({
		title: `${prerequisite} unreadable`,
		detail: f.message,
		console: capital(readAdvice(f.fix)),
		...(f.fix.kind === 'grant' && { gcloud: roleCommand(f.fix.grant, 'roles/pubsub.admin') }),
	}),
	'publisher-grant-missing': (f) =>
		missing(f.remedy, {
			title: "Gmail can't publish to the topic",
			detail: `${GMAIL_PUSH_ACCOUNT} may not publish to ${f.topic}${f.topicMissing ? ' (the topic is missing)' : ''}.`,
			console: `${f.topicMissing ? 'Once the topic exists: ' : ''}Pub/Sub > Topics > ${shortName(f.topic)} > Permissions > Add principal ${GMAIL_PUSH_ACCOUNT}, role Pub/Sub Publisher`,
			gcloud: grantCommand(f.topic),
		}),
	'org-policy-refused': (f) => ({
		title: "Organisation policy blocks Gmail's grant",
		detail: `Google refused the grant (${f.message}).`,
		console: `IAM & Admin > Organization Policies > iam.allowedPolicyMemberDomains: an administrator allows ${GMAIL_PUSH_ACCOUNT} on this topic`,
	}),
	'subscription-name-empty': () => ({ title: 'Subscription Name empty', console: 'Enter the Subscription Name above: projects/<project-id>/subscriptions/<subscription>' }),
	'subscription-missing': (f) => {
		const how = f.push ? `delivery type Push, endpoint ${f.push.endpoint}${f.push.signer ? `, Enable authentication as ${f.push.signer}` : ''}` : 'delivery type Pull';
		const pushFlags = f.push ? ` --push-endpoint=${f.push.endpoint}${f.push.signer ? ` --push-auth-service-account=${f.push.signer}` : ''}` : '';
		return missing(f.remedy, {
			title: 'Subscription missing',
			detail: `${f.name} does not exist.${f.push?.endpoint.includes('token=') ? ` ${SECRET_NOTE}` : ''}`,
			console: `Pub/Sub > Subscriptions > Create subscription: ID ${shortName(f.name)}, topic ${f.topic}, ${how}, expiration Never expire`,
			link: subscriptionsUrl(f.name),
			gcloud: `gcloud pubsub subscriptions create ${f.name} --topic=${f.topic}${pushFlags} --expiration-period=never`,
		});
	},
	'push-endpoint-needed': (f) => ({ title: 'Push endpoint not set', detail: `The subscription must push to ${f.endpoint}.` }),
	'push-auth-needed': (f) => ({ title: 'Push authentication not set', detail: f.signer ? `The subscription must sign its pushes as ${f.signer}.` : "The endpoint must carry the node's shared secret." }),
	'subscription-wrong-topic': (f) => ({
		title: 'Subscription on another topic',
		detail: `${f.name} is attached to ${f.topic ?? 'no topic'}, not to ${f.wantedTopic}.`,
		console: 'Pick another Subscription Name, or set Topic Name to the topic it is attached to',
	}),
	'subscription-topic-deleted': (f) => ({
		title: "Subscription's topic deleted",
		console: `Pub/Sub > Subscriptions > ${shortName(f.name)} > Delete (or pick another Subscription Name)`,
		gcloud: deleteCommand(f.name),
	}),
	'subscription-of-another-workflow': (f) => ({
		title: 'Subscription belongs to another workflow',
		detail: `The Gmail Push Trigger of another workflow (a copy of this one?) made ${f.name}; a subscription serves one trigger only.`,
		console: `Give this trigger its own Subscription Name (for example ${shortName(f.name)}-2); or, if that workflow is gone, Pub/Sub > Subscriptions > ${shortName(f.name)} > Delete`,
		gcloud: deleteCommand(f.name),
	}),
	'subscription-is-push': (f) => ({ title: 'Subscription is push, pull needed', detail: `${f.name} pushes to ${f.endpoint}.`, console: 'Pick another Subscription Name' }),
	'subscription-is-pull': (f) => ({ title: 'Subscription is pull, push needed', detail: `${f.name} must push to ${f.wantedEndpoint}.`, console: 'Pick another Subscription Name' }),
	'push-endpoint-differs': (f) => ({
		title: 'Subscription pushes elsewhere',
		detail: `${f.name} pushes to ${f.endpoint}, not to this node's Production URL ${f.wantedEndpoint}.`,
		console: `Pub/Sub > Subscriptions > ${shortName(f.name)} > Edit: Endpoint URL ${f.wantedEndpoint}`,
		gcloud: `gcloud pubsub subscriptions modify-push-config ${f.name} --push-endpoint=${f.wantedEndpoint}`,
		...(f.wantedEndpoint.includes('token=') && { then: SECRET_NOTE }),
	}),
	'secret-differs': (f) => ({
		title: f.tokenSent ? 'Shared secret differs' : 'Shared secret missing from the endpoint',
		detail: `${f.name} pushes to this node's Production URL, but ${f.tokenSent ? "its token differs from the node's shared secret (was the secret changed?)" : 'without the token'}.`,
		console: `Pub/Sub > Subscriptions > ${shortName(f.name)} > Edit: Endpoint URL ${f.wantedEndpoint}; or delete the subscription and activate again (the set-up makes it anew)`,
		gcloud: `gcloud pubsub subscriptions modify-push-config ${f.name} --push-endpoint=${f.wantedEndpoint}`,
		then: SECRET_NOTE,
	}),
	'push-signer-differs': (f) => ({
		title: f.signer ? 'Pushes signed by another account' : 'Pushes not signed',
		detail: `${f.name} must sign its pushes as ${f.wantedSigner}${f.signer ? `, not as ${f.signer}` : ''}.`,
		console: `Pub/Sub > Subscriptions > ${shortName(f.name)} > Edit > Enable authentication: service account ${f.wantedSigner}`,
		gcloud: `gcloud pubsub subscriptions modify-push-config ${f.name} --push-endpoint=${f.endpoint} --push-auth-service-account=${f.wantedSigner}`,
	}),
	'push-signer-unchecked': (f) => ({ title: 'OIDC token not checked', console: `Set Push Authentication to Google OIDC Token with ${f.signer}` }),
	'subscription-expires': (f) => ({
		title: 'Subscription expires when idle',
		detail: `${f.name} is deleted after ${f.ttl} without activity.`,
		console: `Pub/Sub > Subscriptions > ${shortName(f.name)} > Edit: Expiration Never expire`,
		gcloud: `gcloud pubsub subscriptions update ${f.name} --expiration-period=never`,
	}),
};

/** Problems that never fail a line on their own: not named in the message. */
const ONLY_WARNS: ReadonlySet<Code> = new Set(['subscription-expires', 'push-signer-unchecked']);

function adviceOf(found: Finding, prerequisite: Prerequisite): Advice {
	const panel = PANEL[found.code] as ((facts: FactsOf[Code], p: Prerequisite) => Advice) | undefined;
	return panel ? panel(found.facts, prerequisite) : { title: prerequisite, detail: problemText(found) };
}

const failing = (lines: CheckLine[]) => lines.filter((l) => l.status === 'fails');

/** "Set-up check failed: Topic missing; Gmail can't publish to the topic". */
export function panelMessage(lines: CheckLine[]): string {
	const titles = failing(lines).flatMap((l) => l.findings.filter((f) => !ONLY_WARNS.has(f.code)).map((f) => adviceOf(f, l.prerequisite).title));
	return redact(`Set-up check failed: ${[...new Set(titles)].join('; ')}`);
}

/** The failing prerequisites as an HTML list, each with console steps, then gcloud; the rest in one line. */
export function panelDescription(lines: CheckLine[]): string {
	const bad = failing(lines);
	const items = bad.flatMap((l) => l.findings.map((f) => `<li>${adviceHtml(adviceOf(f, l.prerequisite))}</li>`));
	const intro = `<p>${bad.length} of ${lines.length} prerequisites fail. Fix each in the Google Cloud console, or with gcloud:</p>`;
	return `${intro}<ul>${items.join('')}</ul>${restHtml(lines)}`;
}

function adviceHtml(a: Advice): string {
	const parts = [`<b>${esc(a.title)}</b>${a.detail ? `: ${esc(a.detail)}` : ''}`];
	if (a.console) parts.push(`Console: ${esc(a.console)}${a.link ? ` (<a href="${esc(a.link)}" target="_blank">open</a>)` : ''}`);
	if (a.gcloud) parts.push(`gcloud: <code>${esc(a.gcloud)}</code>`);
	if (a.then) parts.push(esc(a.then));
	return parts.join('<br>');
}

const REST: Array<[CheckStatus, string]> = [
	['ok', 'Holds'],
	['at-activation', 'Made at activation'],
	['warns', 'Works, should change'],
	['unknown', 'Not checked'],
];

/** The prerequisites that do not fail, by status, in one paragraph. */
function restHtml(lines: CheckLine[]): string {
	const groups = REST.map(([status, label]) => [label, lines.filter((l) => l.status === status).map((l) => l.prerequisite)] as const).filter(([, names]) => names.length > 0);
	if (groups.length === 0) return '';
	return `<p>${groups.map(([label, names]) => `${label}: ${esc(names.join(', '))}.`).join(' ')}</p>`;
}

/** Text as HTML: n8n also turns `…` into <code>, so backticks become quotes. Masked first. */
function esc(text: string): string {
	return redact(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/`/g, "'");
}

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
