/**
 * trigger(), in all three deliveries: starts the engine, the only writer of the cursor, and the
 * timer that renews the watch and syncs when none happened for a while (the safety net). A
 * manual run emits the newest matching email instead.
 */
import { NodeOperationError, type ITriggerFunctions, type ITriggerResponse } from 'n8n-workflow';
import type { GmailPort } from '../core/port';
import { storeAttachments } from './binary';
import { readConfig, type TriggerConfig } from './config';
import { engineKeyOf, gmailPortFor, stateOf } from './context';
import { MailboxEngine } from '../engine/mailboxEngine';
import { lastingFailureError, toNodeApiError } from './errors';
import { dropLedgerIfIdle, emissionLedgerFor, enterTrigger, failureRecordFor, forgetFailures, forgetRecordedWatch, holdWatch, registerEngine, watchBookFor, watchedByOthers } from './runtime';
import { toExecutionData } from './state';
import { newestSample } from './sample';
import { redelivery, type Redelivery } from './redelivery';
import { resumeUnsettled, type EmissionLedger } from '../engine/emissionLedger';
import { startSubscriber } from './pullDelivery';
// Types only: @google-cloud/pubsub (gRPC, protobufs) is loaded when pull delivery starts.
import type { PubSubSubscriber } from '../transport/pubsub';
import { subscriptionNameFor } from '../googleCloud/wanted';
import { removeMadeSubscriptionLater, removePreviousSubscriptionLater } from './subscriptionRemoval';
import { readersOf, readSubscription } from './removal';
import { testRunSetUpProblem } from '../googleCloud/runCheck';
import { WATCH_AT_START } from './watchAtStart';
import { pushReachesTrigger, pushUnreachableError } from './queueMode';

/** How often the timer looks at its duties (they themselves are due hourly or daily). */
export const TICK_MS = 60 * 1000;

/**
 * How long after a notification's sync the follow-up sync runs (push and pull). Gmail drops
 * the notifications of a mailbox that come within a second of the last one: this catches the
 * email that arrived in that second, about 1.5 s late instead of at the next email or the
 * hourly safety net, for one history.list (2 units) per notification at most.
 */
export const FOLLOW_UP_MS = 1500;

export async function subscribe(this: ITriggerFunctions): Promise<ITriggerResponse> {
	const config = readConfig(this);
	const port = await gmailPortFor(this, config);

	if (this.getMode() === 'manual') {
		return {
			manualTriggerFunction: async () => {
				// Testing the node checks the set-up first: a wrong prerequisite is named here, with
				// what to do, instead of as a silent trigger after activation.
				const problem = await testRunSetUpProblem(this, async () => ({ config }));
				if (problem) throw problem;
				try {
					this.emit([toExecutionData(await storeAttachments(this, [await newestSample(port, config, this)], config.attachmentPrefix))]);
				} catch (error) {
					throw toNodeApiError(this.getNode(), error);
				}
			},
		};
	}

	const key = engineKeyOf(this);
	const subscriptionName = subscriptionNameFor(this, config);
	// Held from here, so that two triggers starting at once cannot both take it; a start that
	// fails lets go of it. Taking it cancels a pending removal (a save, a re-activation).
	if (subscriptionName) refuseSecondReader(this, subscriptionName, key);
	const stopReading = subscriptionName ? readSubscription(subscriptionName, key) : () => undefined;
	// The node's object in the runtime lives at least as long as one of its triggers.
	const leave = enterTrigger(key);
	let started = false;
	try {
		const { closeFunction } = await startTrigger(this, config, port, key, subscriptionName, stopReading);
		started = true;
		return { closeFunction: async () => await closeFunction?.().finally(leave) };
	} finally {
		if (!started) {
			stopReading();
			leave();
		}
	}
}

/** An active trigger (not a manual run): the engine, its watch, its delivery, its timer. */
async function startTrigger(
	context: ITriggerFunctions,
	config: TriggerConfig,
	port: GmailPort,
	key: string,
	subscriptionName: string | undefined,
	stopReading: () => void,
): Promise<ITriggerResponse> {
	if (config.delivery === 'push' && !pushReachesTrigger()) throw pushUnreachableError(context.getNode());
	refuseDuringBackOff(context, config, key);
	const errors = errorReporter(context);
	const ledger = emissionLedgerFor(key);
	const tracking = redelivery(context, () => engine, errors.report, ledger);
	const engine = newEngine(context, config, port, key, tracking.deliver, errors.report);

	// Awaited before we return: the cursor and watch set here are saved with the activation
	// (docs/n8n-behaviour.md#static-data), so they survive a restart before the first email.
	await WATCH_AT_START[config.delivery](context, config, engine, key);
	const watcher = holdMailboxWatch(context, config, engine, key);
	const pulled = config.delivery === 'pull' ? config.subscriptionName : undefined;
	const subscriber = pulled ? await startSubscriber({ context, config, port, engine, key }, pulled, errors.report, watcher) : undefined;
	const unregister = config.delivery === 'push' ? registerEngine(key, engine) : () => undefined;
	const timer = startDuties(context, config, engine, key, ledger, tracking);
	await forgetPreviousSubscription(context, config, subscriptionName);

	const running: RunningTrigger = { context, config, port, key, engine, ledger, watcher, subscriber, errors, stop: [stopReading, () => clearInterval(timer), unregister] };
	return { closeFunction: async () => await closeTrigger(running) };
}

/** What closeFunction undoes. */
interface RunningTrigger {
	context: ITriggerFunctions;
	config: TriggerConfig;
	port: GmailPort;
	key: string;
	engine: MailboxEngine;
	ledger: EmissionLedger;
	watcher: MailboxWatch | undefined;
	subscriber: PubSubSubscriber | undefined;
	errors: ErrorReporter;
	/** Stops reading the subscription, the timer and the webhook's way to the engine. */
	stop: Array<() => void>;
}

type MailboxWatch = ReturnType<typeof holdWatch>;

/**
 * After a reported error n8n closes the trigger and adds it again later
 * (docs/n8n-behaviour.md#trigger-errors-and-re-activation): that close is no deactivation.
 */
interface ErrorReporter {
	report: (error: Error) => void;
	reported: boolean;
}

function errorReporter(context: ITriggerFunctions): ErrorReporter {
	const errors: ErrorReporter = {
		reported: false,
		report: (error) => {
			errors.reported = true;
			context.emitError(error);
		},
	};
	return errors;
}

/**
 * A trigger that reported a failure is added again (docs/n8n-behaviour.md#trigger-errors-and-re-activation):
 * while our back-off lasts, fail with the same error and no Google call, so the editor keeps showing what to fix.
 */
function refuseDuringBackOff(context: ITriggerFunctions, config: TriggerConfig, key: string): void {
	const episode = failureRecordFor(key).episode;
	if (episode && Date.now() < episode.until) {
		throw lastingFailureError(context.getNode(), episode.error, { topicName: config.watch.topicName, during: 'sync' });
	}
}

function newEngine(
	context: ITriggerFunctions,
	config: TriggerConfig,
	port: GmailPort,
	key: string,
	deliver: Redelivery['deliver'],
	reportError: (error: Error) => void,
): MailboxEngine {
	return new MailboxEngine({
		port,
		state: stateOf(context),
		sync: config.sync,
		output: config.output,
		render: config.render,
		prepare: async (items) => await storeAttachments(context, items, config.attachmentPrefix),
		watch: config.watch,
		catchUp: config.catchUp,
		deliver,
		logger: context.logger,
		failures: failureRecordFor(key),
		watchBook: watchBookFor,
		...(config.delivery !== 'poll' && { followUpMs: FOLLOW_UP_MS }),
		// n8n's trigger error path: the user sees it, the workflow's error workflow runs, and n8n
		// restarts the trigger (which keeps backing off, see failureRecordFor).
		onLastingFailure: (error, during) =>
			reportError(lastingFailureError(context.getNode(), error, { topicName: config.watch.topicName, during, watchExpiration: stateOf(context).watch?.expiration })),
	});
}

/** One Gmail watch per mailbox: say so when another active trigger here already has it. */
function holdMailboxWatch(context: ITriggerFunctions, config: TriggerConfig, engine: MailboxEngine, key: string): MailboxWatch | undefined {
	const watcher = config.delivery !== 'poll' && engine.state.emailAddress !== undefined ? holdWatch(engine.state.emailAddress, key) : undefined;
	if (watcher && watcher.others.length > 0) {
		context.logger.warn(
			`Gmail Push Trigger: ${engine.state.emailAddress} is already watched by another active Gmail Push Trigger in this n8n; Gmail keeps one watch per mailbox, so both share it (and its topic and labels: the last activation's win)`,
		);
	}
	return watcher;
}

/** Re-emits what the saved state lists as unsettled, syncs at once, then starts the timer. */
function startDuties(context: ITriggerFunctions, config: TriggerConfig, engine: MailboxEngine, key: string, ledger: EmissionLedger, tracking: Redelivery): NodeJS.Timeout {
	const tickMs = Math.min(TICK_MS, config.syncAfterMs);
	// The last sync usually ended a few ms after a tick, so "syncAfterMs since the last sync" is
	// a few ms short at the tick it is meant for: sync at the tick nearest to it instead, or a
	// 1-minute poll would run every 2 minutes.
	const duties = { ...(config.delivery !== 'poll' && { watchKey: key }), syncAfterMs: config.syncAfterMs - tickMs / 2 };
	const tick = () => void engine.tick(duties);
	// First what the saved state lists as unsettled (emitted before a restart), then the mail
	// that arrived while n8n was down, without waiting for a notification.
	ledger.current = { state: engine.state, emitAgain: tracking.emitAgain };
	resumeUnsettled(engine.state, ledger, tracking.emitAgain, context.logger, Date.now());
	tick();
	const timer = setInterval(tick, tickMs);
	timer.unref?.();
	return timer;
}

async function closeTrigger(trigger: RunningTrigger): Promise<void> {
	const { engine, ledger, key } = trigger;
	for (const stop of trigger.stop) stop();
	await engine.close();
	if (ledger.current?.state === engine.state) ledger.current = undefined;
	dropLedgerIfIdle(key, ledger);
	trigger.watcher?.release();
	// The process keeps nothing of a trigger that left, but a reported error's back-off.
	forgetRecordedWatch(key);
	if (!trigger.errors.reported) forgetFailures(key);
	if (trigger.subscriber) await closePull(trigger, trigger.subscriber);
}

/** Pull: the subscriber, the watch (unless another trigger shares it), the subscription it made. */
async function closePull(trigger: RunningTrigger, subscriber: PubSubSubscriber): Promise<void> {
	const { context, config, port, engine, key } = trigger;
	await subscriber.close();
	try {
		if (!watchedByOthers(engine.state.emailAddress, key)) await port.stop();
	} catch (error) {
		context.logger.warn(`Gmail Push Trigger: users.stop failed, the watch will lapse on its own: ${(error as Error).message}`);
	}
	if (!trigger.errors.reported) {
		await removeMadeSubscriptionLater(context, config).catch((error: Error) =>
			context.logger.warn(`Gmail Push Trigger: the pull subscription the node made is kept: ${error.message}`),
		);
	}
}

/** Pub/Sub hands each message to one reader: two triggers on one subscription each miss half the mail. */
function refuseSecondReader(context: ITriggerFunctions, subscription: string, key: string): void {
	const other = readersOf(subscription).find((reader) => reader !== key);
	if (other === undefined) return;
	throw new NodeOperationError(
		context.getNode(),
		`Subscription ${subscription} is already read by another active Gmail Push Trigger (workflow ${other.split(':')[0]}): give this trigger its own Subscription Name`,
		{ description: 'A subscription serves one trigger only: Pub/Sub hands each notification to one reader. A copied workflow keeps the original\'s Subscription Name.' },
	);
}

/**
 * With the set-up on, remembers the subscription the node uses; when a save renamed it or
 * switched delivery, the one used before goes by the delayed removal rule.
 */
async function forgetPreviousSubscription(context: ITriggerFunctions, config: TriggerConfig, current: string | undefined): Promise<void> {
	if (!config.setUpGoogleCloud) return;
	const state = stateOf(context);
	const previous = state.madeSubscription;
	if (current) state.madeSubscription = current;
	else delete state.madeSubscription;
	if (previous === undefined || previous === current) return;
	await removePreviousSubscriptionLater(context, config, previous).catch((error: Error) =>
		context.logger.warn(`Gmail Push Trigger: subscription ${previous}, which the node no longer uses, is kept: ${error.message}`),
	);
}
