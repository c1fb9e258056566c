/**
 * Where the engine gets time. The shell passes systemClock; tests pass a fake one, so a day of
 * renewals and back-offs runs in milliseconds.
 */

/** A timer, as the clock that set it knows it. */
export type TimerHandle = unknown;

export interface Clock {
	now(): number;
	/** Runs `fn` once after `ms`. Unless `keepAlive`, a pending timer does not keep the process running. */
	setTimeout(fn: () => void, ms: number, keepAlive?: boolean): TimerHandle;
	clearTimeout(handle: TimerHandle | undefined): void;
}

/** Real time. The globals are looked up at each call, so a test's fake timers still apply. */
export const systemClock: Clock = {
	now: () => Date.now(),
	setTimeout: (fn, ms, keepAlive = false) => {
		const timer = setTimeout(fn, ms);
		if (!keepAlive) timer.unref?.();
		return timer;
	},
	clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/** Resolves after `ms` on `clock`, keeping the process running meanwhile; `cancel` ends it early. */
export function sleep(clock: Clock, ms: number): { done: Promise<void>; cancel: () => void } {
	let handle: TimerHandle | undefined;
	let wake!: () => void;
	const done = new Promise<void>((resolve) => {
		wake = resolve;
		handle = clock.setTimeout(resolve, ms, true);
	});
	return {
		done,
		cancel: () => {
			clock.clearTimeout(handle);
			wake();
		},
	};
}
