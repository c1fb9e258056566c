/**
 * Deactivation removes the subscription the set-up made, but n8n calls the same delete() (push)
 * or closeFunction (pull) when the user saves an active workflow, and closeFunction also when
 * n8n stops: a node cannot tell these apart when they run (1.123 even hands delete() the
 * workflow with active: true). What tells them apart is what comes next: a save adds the
 * trigger again at once (the same process, within milliseconds, on 1.x and 2.x), a stop ends
 * the process. So the removal waits; a re-add in this process cancels it, and so does n8n
 * being told to stop. Only a trigger that stays away is removed: a removal whose time comes while
 * a trigger for the same node runs here (its re-add finished before the old close scheduled the
 * removal) does nothing.
 */

/** How long a removed trigger must stay away before what it made is deleted. */
export const REMOVAL_DELAY_MS = 60_000;

interface Logger {
	info(message: string): void;
	warn(message: string): void;
}

const pending = new Map<string, NodeJS.Timeout>();
/** How many triggers per key run in this process (a save may add the new one before the old one's close ends). */
const running = new Map<string, number>();
let stopping = false;
let listening = false;

/** n8n stops on these: what its triggers' closeFunctions then do is a stop, not a deactivation. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

function onStop(): void {
	stopping = true;
	for (const timer of pending.values()) clearTimeout(timer);
	pending.clear();
}

function listenForStop(): void {
	if (listening) return;
	listening = true;
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
 * Runs `remove` after REMOVAL_DELAY_MS unless the same trigger (key) is added again in this
 * process, or n8n is told to stop, before then.
 */
export function scheduleRemoval(key: string, what: string, remove: () => Promise<string>, logger: Logger): void {
	if (stopping) return;
	listenForStop();
	cancelRemoval(key);
	const timer = setTimeout(() => {
		pending.delete(key);
		if (stopping || (running.get(key) ?? 0) > 0) return;
		remove().then(
			(outcome) => logger.info(`Gmail Push Trigger: the workflow stayed deactivated; ${what}: ${outcome}`),
			(error: unknown) => logger.warn(`Gmail Push Trigger: could not remove ${what} after the deactivation (delete it in the console if nothing uses it): ${(error as Error).message}`),
		);
	}, REMOVAL_DELAY_MS);
	// A pending removal must not keep n8n running.
	timer.unref?.();
	pending.set(key, timer);
}

/** The trigger is added again (a save, a re-activation): what it made stays. True when a removal was pending. */
export function cancelRemoval(key: string): boolean {
	const timer = pending.get(key);
	if (!timer) return false;
	clearTimeout(timer);
	pending.delete(key);
	return true;
}

/**
 * A trigger for `key` runs in this process until the returned function is called (its close).
 * Calling it more than once counts once.
 */
export function triggerRunning(key: string): () => void {
	running.set(key, (running.get(key) ?? 0) + 1);
	let closed = false;
	return () => {
		if (closed) return;
		closed = true;
		const left = (running.get(key) ?? 1) - 1;
		if (left > 0) running.set(key, left);
		else running.delete(key);
	};
}
