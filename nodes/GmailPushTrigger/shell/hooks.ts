/**
 * n8n's webhook hooks: checkExists, create, delete. A hook's copy of the static data may be older
 * than the trigger's (docs/n8n-behaviour.md#what-delete-gets, #queue-mode) and written back would
 * roll the cursor back: so create() keeps its watch in the runtime, delete() writes only beside
 * the trigger's engine.
 */
import type { IHookFunctions } from 'n8n-workflow';
import { redact } from '../core/redact';
import { watchVerdict, type WatchState } from '../core/watch';
import { readConfig, readPushAuth, type TriggerConfig } from './config';
import { setUpGoogleCloud } from '../googleCloud/activation';
import { subscriptionNameFor, type PushTarget } from '../googleCloud/wanted';
import { removeMadeSubscriptionLater } from './subscriptionRemoval';
import { cancelRemoval } from './removal';
import { whileGrantPropagates } from '../transport/retry';
import type { PushAuthConfig } from '../transport/pushAuth';
import { engineKeyOf, gmailPortFor, isRestart, stateOf } from './context';
import { ensureWatch } from '../engine/watchKeeper';
import { toNodeApiError } from './errors';
import { withoutSecrets } from '../core/redact';
import { catchUpState, forgetWatch, type TriggerState } from '../engine/triggerState';
import { findEngine, forgetFailures, forgetRecordedWatch, recordedWatch, watchBookFor, watchedByOthers } from './runtime';
import { productionUrlOf, scheduleSelfTestCall } from './testRun';
import { testRunSetUpProblem, withSetUpCheck } from '../googleCloud/runCheck';
import { pushReachesTrigger, pushUnreachableError } from './queueMode';

function isManual(context: IHookFunctions): boolean {
	return context.getMode() === 'manual';
}

/**
 * The test webhook's delete() after a test run looks like a deactivation but for its URL
 * (docs/n8n-behaviour.md#what-delete-gets): it must not stop the live watch.
 */
function isTestWebhook(context: IHookFunctions): boolean {
	const testEndpoint = (process.env.N8N_ENDPOINT_WEBHOOK_TEST ?? 'webhook-test').replace(/^\/+|\/+$/g, '');
	return (context.getNodeWebhookUrl('default') ?? '').includes(`/${testEndpoint}/`);
}

/**
 * True only on n8n's start (or a leader change) while the recorded watch is fresh: the trigger
 * then renews it without failing the start. A user's activation, save or publish answers false,
 * so create() sets up and watches anew: a users.stop may have run since the record was written.
 */
export async function checkExists(this: IHookFunctions): Promise<boolean> {
	if (isManual(this)) return false; // so that create() runs and fetches a sample
	if (!isRestart(this.getActivationMode())) return false;
	const config = readConfig(this);
	const watch = newerWatch(stateOf(this).watch, recordedWatch(engineKeyOf(this))?.watch);
	return watchVerdict(watch, config.watch, Date.now()) === 'fresh';
}


function newerWatch(a: WatchState | undefined, b: WatchState | undefined): WatchState | undefined {
	if (!a || !b) return a ?? b;
	return b.renewedAt > a.renewedAt ? b : a;
}

export async function create(this: IHookFunctions): Promise<boolean> {
	try {
		return isManual(this) ? await prepareTestRun(this) : await activate(this);
	} catch (error) {
		// The last stop before n8n shows, logs and saves the error: no push token gets past it.
		throw withoutSecrets(error, await pushEndpointsOf(this));
	}
}

/** The endpoint(s) carrying the node's shared secret, so that any form of it can be masked. */
async function pushEndpointsOf(context: IHookFunctions): Promise<string[]> {
	try {
		const webhookUrl = context.getNodeWebhookUrl('default') ?? '';
		const productionUrl = isManual(context) ? productionUrlOf(webhookUrl) : webhookUrl;
		return [pushTarget(productionUrl, await readPushAuth(context, productionUrl)).pushEndpoint];
	} catch {
		return []; // no readable secret: only `token=` values are masked
	}
}

async function prepareTestRun(context: IHookFunctions): Promise<boolean> {
	// The set-up check first: n8n answers the editor's test button with this error.
	const testUrl = context.getNodeWebhookUrl('default') ?? '';
	const productionUrl = productionUrlOf(testUrl);
	const problem = await testRunSetUpProblem(context, async () => ({ config: readConfig(context), push: pushTarget(productionUrl, await readPushAuth(context, productionUrl)) }));
	if (problem) throw problem;
	// n8n is now listening on the test URL: call it so the editor gets a sample at once.
	scheduleSelfTestCall(testUrl, (message) => context.logger.warn(message));
	return true;
}

async function activate(context: IHookFunctions): Promise<boolean> {
	const config = readConfig(context);
	// Used again (a save, a re-activation): the subscription stays.
	const subscription = subscriptionNameFor(context, config);
	if (subscription) cancelRemoval(subscription);
	return await setUpAndWatch(context, config);
}

async function setUpAndWatch(context: IHookFunctions, config: TriggerConfig): Promise<boolean> {
	if (!pushReachesTrigger()) throw pushUnreachableError(context.getNode());
	// A push set-up that cannot authenticate any push fails activation, not every notification.
	const productionUrl = context.getNodeWebhookUrl('default') ?? '';
	const pushAuth = await readPushAuth(context, productionUrl);
	// Before the watch: Gmail refuses to watch a topic it may not publish to.
	const setUp = await setUpGoogleCloud(context, config, pushTarget(productionUrl, pushAuth));
	const stored = stateOf(context);
	// A first activation has no cursor to roll back: it sets the cursor in the static data. Any
	// other watches on a copy that is never written back (see the top of this file).
	const state = stored.cursor === undefined ? stored : (JSON.parse(JSON.stringify(stored)) as TriggerState);
	const port = await gmailPortFor(context, config);
	try {
		await whileGrantPropagates(setUp?.grant === 'granted', async () => await ensureWatch(watchBookFor(engineKeyOf(context)), port, state, config.watch, context.logger, Date.now(), true));
	} catch (error) {
		const converted = toNodeApiError(context.getNode(), error, { topicName: config.watch.topicName, during: 'watch' });
		throw await withSetUpCheck(converted, context, config, pushTarget(productionUrl, pushAuth));
	}
	return true;
}

/** Where a push subscription must push, and how it signs, for the node's push authentication. */
function pushTarget(productionUrl: string, auth: PushAuthConfig): PushTarget {
	if (auth.mode === 'sharedSecret') return { pushEndpoint: `${productionUrl}?token=${encodeURIComponent(auth.secret ?? '')}` };
	if (auth.mode === 'oidc') {
		// Pub/Sub's audience is the endpoint unless told otherwise: name it only when it differs.
		return { pushEndpoint: productionUrl, oidc: { serviceAccountEmail: auth.serviceAccountEmail, ...(auth.audience && auth.audience !== productionUrl && { audience: auth.audience }) } };
	}
	return { pushEndpoint: productionUrl };
}

export async function remove(this: IHookFunctions): Promise<boolean> {
	if (isManual(this) || isTestWebhook(this)) return true;
	const state = stateOf(this);
	const key = engineKeyOf(this);
	const engine = findEngine(key);
	const emailAddress = engine?.state.emailAddress ?? state.emailAddress;
	try {
		if (watchedByOthers(emailAddress, key)) {
			this.logger.info(`Gmail Push Trigger: left the Gmail watch of ${emailAddress} running: another active trigger uses it`);
		} else {
			const config = readConfig(this);
			await (await gmailPortFor(this, config)).stop();
			forgetRecordedWatch(key);
			this.logger.info(`Gmail Push Trigger: stopped the Gmail watch of ${emailAddress}; the cursor is kept for the next activation`);
		}
	} catch (error) {
		// Deactivation must succeed even when Google is unreachable: the watch lapses within 7 days.
		this.logger.warn(`Gmail Push Trigger: users.stop failed, the watch will lapse on its own: ${(error as Error).message}`);
	}
	if (engine) {
		// This copy may be older than the engine's (docs/n8n-behaviour.md#what-delete-gets): bring
		// it up to date. Only the watch goes; the cursor stays for a re-activation. Without the
		// engine here the copy is not written.
		catchUpState(state, engine.state);
		forgetWatch(state);
		engine.retire();
	}
	forgetFailures(key);
	try {
		const config = readConfig(this);
		const productionUrl = this.getNodeWebhookUrl('default') ?? '';
		if (config.setUpGoogleCloud) await removeMadeSubscriptionLater(this, config, pushTarget(productionUrl, await readPushAuth(this, productionUrl)));
	} catch (error) {
		this.logger.warn(`Gmail Push Trigger: the push subscription the node made is kept: ${redact((error as Error).message)}`);
	}
	return true;
}
