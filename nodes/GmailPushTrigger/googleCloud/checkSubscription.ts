/**
 * The set-up check's subscription lines: the subscription, and for push its endpoint and its
 * push authentication. An existing subscription's problems go to the line their code belongs to.
 */
import { redact } from '../core/redact';
import { finding, type Code, type Finding, type Grant, type Prerequisite } from './findings';
import { failureOf } from './googleFailure';
import { subscriptionProblems, type SubscriptionProblem, type WantedSubscription } from './subscription';
import type { CheckAdmin, CheckContext } from './checkContext';
import type { PubSubSubscription } from '../transport/pubsubAdminPort';

/** The line each problem of an existing subscription shows on; the others show on Subscription. */
const LINE_OF: Partial<Record<Code, Prerequisite>> = {
	'subscription-is-pull': 'Push endpoint',
	'push-endpoint-differs': 'Push endpoint',
	'secret-differs': 'Push endpoint',
	'push-signer-differs': 'Push authentication',
	'push-signer-unchecked': 'Push authentication',
};

type SubscriptionRead = { found: PubSubSubscription } | { absent: true } | { failure: ReturnType<typeof failureOf> };

async function readSubscription(admin: CheckAdmin, name: string): Promise<SubscriptionRead> {
	try {
		const found = await admin.getSubscription(name);
		return found ? { found } : { absent: true };
	} catch (error) {
		return { failure: failureOf(error) };
	}
}

export async function checkSubscription(ctx: CheckContext, admin: CheckAdmin): Promise<void> {
	const wanted = ctx.input.subscription;
	const push = ctx.input.delivery === 'push';
	if (!wanted) {
		if (!push) ctx.add('Subscription', 'fails', finding('subscription-name-empty', {}));
		else {
			// Push without the set-up: the user made the subscription; the node does not know its name.
			ctx.add('Subscription', 'unknown', finding('push-subscription-unknown', { topic: ctx.input.topic }));
			ctx.add('Push endpoint', 'unknown', finding('push-endpoint-unknown', {}));
			ctx.add('Push authentication', 'unknown', finding('push-auth-unknown', {}));
		}
		return;
	}
	const read = await readSubscription(admin, wanted.name);
	if ('failure' in read) {
		ctx.add('Subscription', ...ctx.unreadable(read.failure));
		if (push) {
			ctx.add('Push endpoint', 'unknown', finding('unchecked-see-subscription', {}));
			ctx.add('Push authentication', 'unknown', finding('unchecked-see-subscription', {}));
		}
		return;
	}
	if ('absent' in read) addMissing(ctx, wanted, push);
	else addExisting(ctx, wanted, push, subscriptionProblems(read.found, wanted));
}

function addMissing(ctx: CheckContext, wanted: WantedSubscription, push: boolean): void {
	const refusal = ctx.input.setUpRefusal;
	const signer = push ? wanted.oidc?.serviceAccountEmail : undefined;
	const endpoint = redact(wanted.pushEndpoint ?? '');
	const [status, remedy] = ctx.remedy(refusal && subscriptionGrant(refusal.serviceAccount, ctx.project, signer, refusal.call));
	const made = { name: wanted.name, topic: wanted.topic, ...(push && { push: { endpoint, ...(signer && { signer }) } }), remedy };
	ctx.add('Subscription', status, finding('subscription-missing', made));
	if (!push) return;
	if (ctx.input.setUpOn && !refusal) {
		ctx.add('Push endpoint', 'at-activation', finding('push-endpoint-at-activation', { endpoint }));
		ctx.add('Push authentication', 'at-activation', finding('push-auth-at-activation', {}));
	} else {
		ctx.add('Push endpoint', 'fails', finding('push-endpoint-needed', { name: wanted.name, endpoint }));
		ctx.add('Push authentication', 'fails', finding('push-auth-needed', { name: wanted.name, ...(signer && { signer }) }));
	}
}

/**
 * What lets the set-up make the subscription. Refused at subscriptions.create after reading the
 * topic's IAM policy (which Pub/Sub Viewer may not), the credential manages Pub/Sub already: for
 * a signed push subscription, acting as the signer is what is left.
 */
function subscriptionGrant(serviceAccount: string | undefined, project: string, signer: string | undefined, call: string | undefined): Grant {
	const who = serviceAccount ? { serviceAccount } : {};
	if (signer && call === 'subscriptions.create') return { ...who, project, pubSubAdmin: false, actAs: signer };
	return { ...who, project, pubSubAdmin: true, ...(signer && { actAs: signer }) };
}

function addExisting(ctx: CheckContext, wanted: WantedSubscription, push: boolean, problems: SubscriptionProblem[]): void {
	const on = (line: Prerequisite) => problems.filter((p) => (LINE_OF[p.code] ?? 'Subscription') === line);
	const add = (line: Prerequisite, holds: Finding) => {
		const found = on(line);
		const status = found.some((p) => p.severity === 'blocks') ? 'fails' : found.length ? 'warns' : 'ok';
		ctx.add(line, status, ...(found.length ? found.map(({ severity: _, ...f }) => f as Finding) : [holds]));
	};
	add('Subscription', finding('subscription-attached', { name: wanted.name, topic: wanted.topic }));
	if (!push) return;
	add('Push endpoint', finding('push-endpoint-matches', {}));
	const signer = wanted.oidc?.serviceAccountEmail;
	const kind = signer ? 'oidc' : wanted.pushEndpoint?.includes('token=') ? 'secret' : 'none';
	add('Push authentication', finding('push-auth-matches', { kind, ...(signer && { signer }) }));
}
