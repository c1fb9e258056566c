/**
 * Webhook lifecycle: n8n calls checkExists on activation (and on restart in 1.x), create when
 * it answers false, delete on deactivation. Manual (test) runs never touch the live watch.
 */
import type { IHookFunctions } from 'n8n-workflow';
import { watchVerdict } from '../core/watch';
import { readConfig, readPushAuth } from './config';
import { engineKeyOf, gmailPortFor, stateOf } from './context';
import { ensureWatch } from './engine';
import { toNodeApiError } from './errors';
import { catchUpState, forgetWatch } from './state';
import { findEngine, forgetFailures, markWatchStopped, watchedByOthers, watchStoppedSince } from './registry';
import { scheduleSelfTestCall } from './testRun';
import { pushReachesTrigger, pushUnreachableError } from './queueMode';

function isManual(context: IHookFunctions): boolean {
	return context.getMode() === 'manual';
}

/**
 * After a test run n8n removes the editor's test webhook with delete() in mode 'internal', as it
 * does on a real deactivation: only the URL (n8n's test endpoint) tells the two apart. Treating
 * it as a deactivation would stop the live watch and retire the running trigger's engine.
 */
function isTestWebhook(context: IHookFunctions): boolean {
	const testEndpoint = (process.env.N8N_ENDPOINT_WEBHOOK_TEST ?? 'webhook-test').replace(/^\/+|\/+$/g, '');
	return (context.getNodeWebhookUrl('default') ?? '').includes(`/${testEndpoint}/`);
}

/** False when the watch is missing, for another topic or labels, or a day old: create renews it. */
export async function checkExists(this: IHookFunctions): Promise<boolean> {
	if (isManual(this)) return false; // so that create() runs and fetches a sample
	const config = readConfig(this);
	const { watch } = stateOf(this);
	if (watchStoppedSince(engineKeyOf(this), watch?.renewedAt)) return false;
	return watchVerdict(watch, config.watch, Date.now()) === 'fresh';
}

export async function create(this: IHookFunctions): Promise<boolean> {
	if (isManual(this)) {
		// n8n is now listening on the test URL: call it so the editor gets a sample at once.
		scheduleSelfTestCall(this.getNodeWebhookUrl('default') ?? '', (message) => this.logger.warn(message));
		return true;
	}
	const config = readConfig(this);
	if (!pushReachesTrigger()) throw pushUnreachableError(this.getNode());
	// A push set-up that cannot authenticate any push fails activation, not every notification.
	await readPushAuth(this, this.getNodeWebhookUrl('default'));
	const state = stateOf(this);
	const port = await gmailPortFor(this, config);
	try {
		await ensureWatch(engineKeyOf(this), port, state, config.watch, this.logger, Date.now());
	} catch (error) {
		throw toNodeApiError(this.getNode(), error, { topicName: config.watch.topicName, during: 'watch' });
	}
	return true;
}

export async function remove(this: IHookFunctions): Promise<boolean> {
	if (isManual(this) || isTestWebhook(this)) return true;
	const state = stateOf(this);
	const engine = findEngine(engineKeyOf(this));
	if (engine) catchUpState(state, engine.state);
	const key = engineKeyOf(this);
	try {
		if (watchedByOthers(state.emailAddress, key)) {
			this.logger.info(`Gmail Push Trigger: left the Gmail watch of ${state.emailAddress} running: another active trigger uses it`);
		} else {
			const config = readConfig(this);
			await (await gmailPortFor(this, config)).stop();
			markWatchStopped(key, Date.now());
			this.logger.info(`Gmail Push Trigger: stopped the Gmail watch of ${state.emailAddress}; the cursor is kept for the next activation`);
		}
	} catch (error) {
		// Deactivation must succeed even when Google is unreachable: the watch lapses within 7 days.
		this.logger.warn(`Gmail Push Trigger: users.stop failed, the watch will lapse on its own: ${(error as Error).message}`);
	}
	// Only the watch goes: the cursor stays, so a re-activation emits what arrived meanwhile.
	forgetWatch(state);
	engine?.retire();
	forgetFailures(key);
	return true;
}
