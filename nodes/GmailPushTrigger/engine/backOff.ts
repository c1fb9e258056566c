/**
 * The lasting-failure back-off of one node: while it lasts, Gmail tasks fail at once with the
 * episode's error and ask Google nothing (no token request per redelivered push).
 */
import { classifyFailure, lastingFailureBackoffMs } from '../core/failure';
import type { Logger } from '../core/logger';
import type { Clock } from './clock';
import type { FailureRecord, FailureStage } from './engineDeps';

export class BackOff {
	constructor(
		readonly record: FailureRecord,
		private readonly clock: Clock,
		private readonly logger: Logger,
		private readonly onLastingFailure?: (error: unknown, during: FailureStage) => void,
	) {}

	/** True while a lasting failure's back-off has not ended. */
	get active(): boolean {
		const episode = this.record.episode;
		return episode !== undefined && this.clock.now() < episode.until;
	}

	/** When the back-off ends (now when there is none). */
	get until(): number {
		return this.record.episode?.until ?? this.clock.now();
	}

	/** Runs `task` unless backing off; a lasting failure starts or extends the back-off and is reported. */
	async guard<T>(during: FailureStage, task: () => Promise<T>): Promise<T> {
		const episode = this.record.episode;
		if (episode && this.active) throw episode.error;
		try {
			const result = await task();
			this.record.episode = undefined;
			return result;
		} catch (error) {
			if (classifyFailure(error) === 'lasting') this.extend(error, during);
			throw error;
		}
	}

	private extend(error: unknown, during: FailureStage): void {
		const failures = (this.record.episode?.failures ?? 0) + 1;
		const waitMs = lastingFailureBackoffMs(failures);
		this.record.episode = { error, failures, until: this.clock.now() + waitMs };
		this.logger.error(`Gmail Push Trigger: ${(error as Error).message} (will not heal by retrying; next try in ${waitMs / 60000} min)`);
		this.onLastingFailure?.(error, during);
	}
}
