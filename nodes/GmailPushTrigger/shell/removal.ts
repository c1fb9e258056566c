/**
 * The removal of a subscription the set-up made waits: a save calls the same delete() or
 * closeFunction as a deactivation (docs/n8n-behaviour.md#saving-an-active-workflow), then adds
 * the trigger again. A trigger that reads the subscription in time cancels its removal.
 */

import { redact } from '../core/redact';
import { claimStopListening, dropSubscriptionIfUnused, readersOfSubscription, stopTold, subscriptionUse, takePendingRemovals, tellStop } from './runtime';

/** How long a removed trigger must stay away before what it made is deleted. */
export const REMOVAL_DELAY_MS = 60_000;

interface Logger {
	info(message: string): void;
	warn(message: string): void;
}

/** n8n stops on these: what its triggers' closeFunctions then do is a stop, not a deactivation. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

function onStop(): void {
	tellStop();
	for (const timer of takePendingRemovals()) clearTimeout(timer);
}

function listenForStop(): void {
	if (!claimStopListening()) return;
	// n8n has its own handlers for these, so adding one changes nothing about how it exits.
	for (const signal of STOP_SIGNALS) process.once(signal, onStop);
}

/**
 * In n8n's multi-main set-up the leader's triggers move to another main when leadership moves:
 * the old leader's closeFunction runs with no re-add in its process, while the workflow goes on
 * elsewhere. Nothing made is removed there.
 */
export function removalAllowed(): boolean {
	return process.env.N8N_MULTI_MAIN_SETUP_ENABLED !== 'true';
}

/**
 * Runs `remove` after REMOVAL_DELAY_MS unless a trigger of this process starts reading the
 * subscription, or n8n is told to stop, before then; and not while a trigger still reads it.
 */
export function scheduleRemoval(subscription: string, what: string, remove: () => Promise<string>, logger: Logger): void {
	if (stopTold()) return;
	listenForStop();
	cancelRemoval(subscription);
	const use = subscriptionUse(subscription);
	const timer = setTimeout(() => {
		use.removal = undefined;
		dropSubscriptionIfUnused(subscription);
		if (stopTold() || use.readers.size > 0) return;
		remove().then(
			(outcome) => logger.info(`Gmail Push Trigger: the workflow stayed deactivated; ${what}: ${outcome}`),
			(error: unknown) => logger.warn(`Gmail Push Trigger: could not remove ${what} after the deactivation (delete it in the console if nothing uses it): ${redact((error as Error).message)}`),
		);
	}, REMOVAL_DELAY_MS);
	// A pending removal must not keep n8n running.
	timer.unref?.();
	use.removal = timer;
}

/** A trigger uses the subscription again (a save, a re-activation): it stays. True when a removal was pending. */
export function cancelRemoval(subscription: string): boolean {
	const use = subscriptionUse(subscription);
	const timer = use.removal;
	use.removal = undefined;
	dropSubscriptionIfUnused(subscription);
	if (!timer) return false;
	clearTimeout(timer);
	return true;
}

/** The triggers (node keys) of this process that read the subscription or are pushed through it. */
export function readersOf(subscription: string): string[] {
	return readersOfSubscription(subscription).map((reader) => reader.key);
}

/**
 * The trigger `key` reads the subscription (or is pushed through it) until the returned function
 * is called (its close; more than once counts once). Cancels a pending removal of it.
 */
export function readSubscription(subscription: string, key: string): () => void {
	cancelRemoval(subscription);
	const use = subscriptionUse(subscription);
	// An entry per trigger: a save's new trigger may start before the old one's close ends.
	const reader = { key };
	use.readers.add(reader);
	return () => {
		use.readers.delete(reader);
		dropSubscriptionIfUnused(subscription);
	};
}
