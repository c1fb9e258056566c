/**
 * trigger(): n8n starts it for the active workflow and on every restart, in all three
 * deliveries. It owns the engine, the only writer of the cursor:
 * - push: the webhook hands it each notification (runtime);
 * - pull: a StreamingPull subscriber hands it each notification;
 * - poll: a timer syncs every N minutes.
 * A timer also renews the watch daily and syncs when no sync happened for a while (the safety
 * net for notifications Gmail or Pub/Sub lost). In a manual (test) run it emits the newest
 * matching email instead, touching neither the watch, the subscription nor the cursor.
 */
import { NodeOperationError, type ITriggerFunctions, type ITriggerResponse } from 'n8n-workflow';
import type { GmailPort } from '../core/port';
import { passesLabelFilter, spamTrashWanted } from '../core/filters';
import { type SyncedEvent } from '../core/historyEvent';
import { toOutputItem, type OutputItem } from '../core/output';
import { storeAttachments } from './binary';
import { readConfig, type TriggerConfig } from './config';
import { engineKeyOf, gmailPortFor, stateOf } from './context';
import { MailboxEngine } from '../engine/mailboxEngine';
import { lastingFailureError, toNodeApiError } from './errors';
import { dropLedgerIfIdle, emissionLedgerFor, enterTrigger, failureRecordFor, forgetFailures, forgetRecordedWatch, holdWatch, registerEngine, watchBookFor, watchedByOthers } from './runtime';
import { isRestart } from './lifecycle';
import { toExecutionData } from './state';
import { redelivery } from './redelivery';
import { resumeUnsettled } from '../engine/emissionLedger';
import { startSubscriber } from './pullDelivery';
import { setUpGoogleCloud } from '../googleCloud/activation';
import { subscriptionNameFor } from '../googleCloud/wanted';
import { removeMadeSubscriptionLater, removePreviousSubscriptionLater } from './subscriptionRemoval';
import { readersOf, readSubscription } from './removal';
import { testRunSetUpProblem, withSetUpCheck } from '../googleCloud/runCheck';
import { whileGrantPropagates } from '../transport/retry';
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
	// n8n restarts a trigger that reported a failure at once: while the back-off lasts, fail that
	// activation with the same error (no Google call), so the editor keeps showing what to fix.
	const episode = failureRecordFor(key).episode;
	if (episode && Date.now() < episode.until) {
		throw lastingFailureError(context.getNode(), episode.error, { topicName: config.watch.topicName, during: 'sync' });
	}
	// After a reported error n8n closes the trigger and adds it again later, with a back-off that
	// may outlast the removal's wait: that close is no deactivation.
	let reportedError = false;
	const reportError = (error: Error) => {
		reportedError = true;
		context.emitError(error);
	};
	const ledger = emissionLedgerFor(key);
	const tracking = redelivery(context, () => engine, reportError, ledger);
	const engine: MailboxEngine = new MailboxEngine({
		port,
		state: stateOf(context),
		sync: config.sync,
		output: config.output,
		render: config.render,
		prepare: async (items) => await storeAttachments(context, items, config.attachmentPrefix),
		watch: config.watch,
		catchUp: config.catchUp,
		deliver: tracking.deliver,
		logger: context.logger,
		failures: failureRecordFor(key),
		watchBook: watchBookFor,
		...(config.delivery !== 'poll' && { followUpMs: FOLLOW_UP_MS }),
		// n8n's trigger error path: the user sees it, the workflow's error workflow runs, and n8n
		// restarts the trigger (which keeps backing off, see failureRecordFor).
		onLastingFailure: (error, during) =>
			reportError(lastingFailureError(context.getNode(), error, { topicName: config.watch.topicName, during, watchExpiration: stateOf(context).watch?.expiration })),
	});

	// Awaited before we return: n8n saves the static data right after activation, so the
	// cursor and watch set here survive a restart even before the first email.
	await WATCH_AT_START[config.delivery](context, config, engine, key);

	// One Gmail watch per mailbox: say so when another active trigger here already has it.
	const watcher = config.delivery !== 'poll' && engine.state.emailAddress !== undefined ? holdWatch(engine.state.emailAddress, key) : undefined;
	if (watcher && watcher.others.length > 0) {
		context.logger.warn(
			`Gmail Push Trigger: ${engine.state.emailAddress} is already watched by another active Gmail Push Trigger in this n8n; Gmail keeps one watch per mailbox, so both share it (and its topic and labels: the last activation's win)`,
		);
	}

	const pulled = config.delivery === 'pull' ? config.subscriptionName : undefined;
	const subscriber = pulled ? await startSubscriber({ context, config, port, engine, key }, pulled, reportError, watcher) : undefined;

	const unregister = config.delivery === 'push' ? registerEngine(key, engine) : () => undefined;
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
	await forgetPreviousSubscription(context, config, subscriptionName);

	return {
		closeFunction: async () => {
			stopReading();
			clearInterval(timer);
			unregister();
			await engine.close();
			if (ledger.current?.state === engine.state) ledger.current = undefined;
			dropLedgerIfIdle(key, ledger);
			watcher?.release();
			// The process keeps nothing of a trigger that left, but a reported error's back-off.
			forgetRecordedWatch(key);
			if (!reportedError) forgetFailures(key);
			if (subscriber) {
				await subscriber.close();
				try {
					if (!watchedByOthers(engine.state.emailAddress, key)) await port.stop();
				} catch (error) {
					context.logger.warn(`Gmail Push Trigger: users.stop failed, the watch will lapse on its own: ${(error as Error).message}`);
				}
				if (!reportedError) {
					await removeMadeSubscriptionLater(context, config).catch((error: Error) =>
						context.logger.warn(`Gmail Push Trigger: the pull subscription the node made is kept: ${error.message}`),
					);
				}
			}
		},
	};
}

/** Each delivery's watch (or cursor) at the trigger's start; a failure names what to fix. */
const WATCH_AT_START: Record<TriggerConfig['delivery'], (context: ITriggerFunctions, config: TriggerConfig, engine: MailboxEngine, key: string) => Promise<void>> = {
	pull: async (context, config, engine, key) => {
		// Before the watch: Gmail refuses to watch a topic it may not publish to.
		const setUp = await setUpGoogleCloud(context, config);
		// closeFunction stopped the watch at the last shutdown: always watch anew.
		await failingWithSetUpCheck(context, config, async () => await whileGrantPropagates(setUp?.grant === 'granted', async () => await engine.ensureWatch(key, { force: true })));
	},
	push: async (context, config, engine, key) => {
		// create() set up and watched just before (n8n: see docs/n8n-behaviour.md#activation-order): its
		// watch is taken over. On a restart create() may not have run: watch anyway, without failing the start.
		await failingWithSetUpCheck(context, config, async () => {
			if (isRestart(context.getActivationMode())) await engine.ensureWatchOnRestart(key);
			else await engine.ensureWatch(key, { force: true });
		});
	},
	poll: async (context, config, engine) => await failingWithSetUpCheck(context, config, async () => await engine.ensureCursor()),
};

async function failingWithSetUpCheck(context: ITriggerFunctions, config: TriggerConfig, watch: () => Promise<unknown>): Promise<void> {
	try {
		await watch();
	} catch (error) {
		throw await withSetUpCheck(toNodeApiError(context.getNode(), error, { topicName: config.watch.topicName, during: 'watch' }), context, config);
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

/** The newest email that passes the node's filters, shaped like a real item. */
export async function newestSample(port: GmailPort, config: TriggerConfig, context: Pick<ITriggerFunctions, 'getNode'>): Promise<OutputItem> {
	const { sync } = config;
	const include = sync.labelFilterBehavior === 'include' && sync.labelIds.length > 0;
	const q = [sync.search?.trim(), !sync.includeDrafts && '-in:drafts'].filter(Boolean).join(' ');
	const { messages } = await port.listMessages({
		maxResults: 10,
		...(include && { labelIds: sync.labelIds.slice(0, 1) }),
		...(q && { q }),
		...(spamTrashWanted(sync) && { includeSpamTrash: true }),
	});
	for (const ref of messages) {
		const message = await port.getMessage(ref.id, sync.format, sync.metadataHeaders);
		if (!message) continue;
		const event: SyncedEvent = { key: `added:${message.id}`, event: 'messageAdded', historyId: message.historyId ?? '', ref, message };
		if (!passesLabelFilter(event, message.labelIds, sync)) continue;
		const labels = config.output === 'simplified' ? await port.listLabels() : [];
		return await toOutputItem(event, config.output, labels, config.render);
	}
	throw new NodeOperationError(context.getNode(), 'No email in this mailbox matches the trigger\'s labels and filters yet', {
		description: 'Send an email that matches Label Names or IDs and the Filters, then test the trigger again.',
	});
}
