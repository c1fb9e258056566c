/**
 * A clock for the engine (engine/clock.ts) that only moves when told: `advance` runs each due
 * timer in time order and lets the work it starts finish before the next, so days of renewals
 * and back-offs run in milliseconds. Work must not wait on real I/O (use test/support/memoryGmail).
 */
import type { Clock, TimerHandle } from '../../nodes/GmailPushTrigger/engine/clock';

interface Timer {
	id: number;
	at: number;
	fn: () => void;
}

/** Lets every promise chain and immediate started so far run out. */
export async function settle(rounds = 10): Promise<void> {
	for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
	private at: number;
	private timers: Timer[] = [];
	private ids = 0;

	constructor(start = Date.UTC(2026, 2, 2, 9, 0, 0)) {
		this.at = start;
	}

	now(): number {
		return this.at;
	}

	setTimeout(fn: () => void, ms: number): TimerHandle {
		const timer = { id: ++this.ids, at: this.at + Math.max(0, ms), fn };
		this.timers.push(timer);
		return timer.id;
	}

	clearTimeout(handle: TimerHandle | undefined): void {
		this.timers = this.timers.filter((t) => t.id !== handle);
	}

	/** Timers set and not yet run or cleared. */
	get pending(): number {
		return this.timers.length;
	}

	/** Moves time on by `ms`, running the timers that fall due on the way, each at its own time. */
	async advance(ms: number): Promise<void> {
		const end = this.at + ms;
		await settle();
		for (;;) {
			const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
			if (!next) break;
			this.timers = this.timers.filter((t) => t !== next);
			this.at = next.at;
			next.fn();
			await settle();
		}
		this.at = end;
	}
}
