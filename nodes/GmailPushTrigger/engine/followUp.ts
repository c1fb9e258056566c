/**
 * The follow-up sync: one more sync shortly after a notification's, for the email Gmail did not
 * notify (it drops notifications within a second of the last one for a mailbox).
 */
import type { Logger } from '../core/logger';
import type { Clock, TimerHandle } from './clock';

/**
 * A notification read this long after Pub/Sub published it (a redelivery, a backlog) needs no
 * follow-up: the read already covered the second after it. Far above any clock skew.
 */
export const LATE_READ_MS = 30_000;

export function readLongAfterPublish(publishTime: string | undefined, readAt: number): boolean {
	const published = publishTime === undefined ? NaN : Date.parse(publishTime);
	return Number.isFinite(published) && readAt - published >= LATE_READ_MS;
}

/** One pending timer that runs a sync; arming it again moves it later. */
export class SyncTimer {
	private handle?: TimerHandle;

	constructor(
		private readonly clock: Clock,
		private readonly sync: () => Promise<unknown>,
		private readonly stopping: () => boolean,
		private readonly logger: Logger,
		/** What the warning says when the timed sync fails. */
		private readonly failedText: string,
	) {}

	arm(delayMs: number): void {
		this.cancel();
		if (this.stopping()) return;
		this.handle = this.clock.setTimeout(() => {
			this.handle = undefined;
			if (this.stopping()) return;
			// The next notification, tick or timer syncs again from the unmoved cursor.
			this.sync().catch((error: unknown) => this.logger.warn(`Gmail Push Trigger: ${this.failedText}: ${(error as Error).message}`));
		}, delayMs);
	}

	cancel(): void {
		if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
		this.handle = undefined;
	}
}
