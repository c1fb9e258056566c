/**
 * The Gmail watch of one node: made at activation, renewed daily by the trigger's timer, and
 * reported when renewals keep failing while it lapses.
 */
import { classifyFailure, watchLapsesSoon } from '../core/failure';
import type { Logger } from '../core/logger';
import type { GmailPort } from '../core/port';
import { watchRequest, watchStateFrom, watchVerdict, type WatchConfig } from '../core/watch';
import type { BackOff } from './backOff';
import type { Clock } from './clock';
import type { EnsureWatchResult, FailureStage, WatchBook } from './engineDeps';
import type { TriggerState } from './triggerState';

/**
 * A forced watch skips a watch this process made for the node this recently: create() watches
 * just before n8n starts the trigger, which takes that watch over instead of paying 100 units.
 */
export const JUST_MADE_MS = 60_000;

/**
 * Makes sure a fresh watch for our topic and labels exists. `force` watches even when the
 * recorded watch looks fresh: an activation cannot tell whether a users.stop ran since.
 * Callers for one node share a call (through `book`).
 */
export async function ensureWatch(book: WatchBook, port: GmailPort, state: TriggerState, config: WatchConfig, logger: Logger, now: number, force = false): Promise<EnsureWatchResult> {
	adoptRecordedWatch(book, state);
	let pending = book.inFlight;
	if (pending && force) {
		// A renewal under way may decide "fresh" without calling Google: wait, then watch unless it did.
		await pending.catch(() => undefined);
		adoptRecordedWatch(book, state);
		if (justMade(book, now)) return 'fresh';
		pending = book.inFlight;
	}
	if (!pending) {
		const call = watchCall(book, port, state, config, logger, now, force).finally(() => {
			if (book.inFlight === call) book.inFlight = undefined;
		});
		book.inFlight = pending = call;
	}
	const verdict = await pending;
	// A caller that joined another's call (with another copy of the state) takes its watch too.
	adoptRecordedWatch(book, state);
	return verdict;
}

async function watchCall(book: WatchBook, port: GmailPort, state: TriggerState, config: WatchConfig, logger: Logger, now: number, force: boolean): Promise<EnsureWatchResult> {
	const found = watchVerdict(state.watch, config, now);
	if (found === 'fresh' && (!force || justMade(book, now))) return found;
	const verdict = found === 'fresh' ? 'forced' : found;
	await renewWatch(port, state, config, now);
	if (state.watch) recordWatch(book, state);
	logger.info(`Gmail Push Trigger: watch ${verdict === 'missing' ? 'created' : 'renewed'} (${verdict}) for ${state.emailAddress} on ${config.topicName}`, {
		expiration: new Date(state.watch?.expiration ?? 0).toISOString(),
		cursor: state.cursor,
	});
	return verdict;
}

/** Keeps the newer of the book's watch and the state's. */
function recordWatch(book: WatchBook, state: TriggerState): void {
	const watch = state.watch;
	if (!watch || (book.recorded && watch.renewedAt < book.recorded.watch.renewedAt)) return;
	book.recorded = { watch: { ...watch }, emailAddress: state.emailAddress };
}

function justMade(book: WatchBook, now: number): boolean {
	const made = book.recorded?.watch.renewedAt;
	return made !== undefined && now - made < JUST_MADE_MS;
}

/**
 * Takes the watch this process last made for the node into `state` when it is newer: create()
 * makes it on a copy it never writes back, the trigger records it in the state n8n saves.
 */
function adoptRecordedWatch(book: WatchBook, state: TriggerState): void {
	const recorded = book.recorded;
	if (!recorded || (state.watch && state.watch.renewedAt >= recorded.watch.renewedAt)) return;
	state.watch = { ...recorded.watch, labelIds: [...recorded.watch.labelIds] };
	if (state.emailAddress === undefined && recorded.emailAddress !== undefined) state.emailAddress = recorded.emailAddress;
}

/** users.watch, then record it. The first watch sets the cursor; later ones keep it, so mail meanwhile is still expanded. */
export async function renewWatch(port: GmailPort, state: TriggerState, config: WatchConfig, now: number): Promise<void> {
	if (state.emailAddress === undefined) state.emailAddress = (await port.getProfile()).emailAddress;
	const response = await port.watch(watchRequest(config));
	state.watch = watchStateFrom(config, response, now);
	if (state.cursor === undefined) state.cursor = response.historyId;
}

/** The timer's renewal duty for one engine: retries a failed renewal later, reports a lapse once. */
export class WatchKeeper {
	/** After a failed renewal: no new attempt before this (each watch call costs 100 units). */
	private retryAt = 0;
	private failures = 0;
	/** An activation's forced watch failed: the next renewal watches even if the record looks fresh. */
	private unsure = false;

	constructor(
		private readonly ensure: (key: string, force: boolean) => Promise<EnsureWatchResult>,
		private readonly state: TriggerState,
		private readonly backOff: BackOff,
		private readonly clock: Clock,
		private readonly logger: Logger,
		private readonly onLastingFailure?: (error: unknown, during: FailureStage) => void,
	) {}

	/** Renews the watch when due; failures are logged, and reported when the watch lapses. */
	async renewIfDue(key: string): Promise<void> {
		if (this.clock.now() < this.retryAt) return;
		try {
			await this.backOff.guard('watch', async () => await this.ensure(key, this.unsure));
			this.unsure = false;
			this.failures = 0;
			this.backOff.record.lapseReported = false;
		} catch (error) {
			this.failed(error);
		}
	}

	private failed(error: unknown): void {
		// 5, 10, 20, 40, 60, 60 ... minutes: well inside the week a watch lives.
		const waitMs = Math.min(60, 5 * 2 ** this.failures++) * 60 * 1000;
		const now = this.clock.now();
		this.retryAt = now + waitMs;
		this.logger.error(`Gmail Push Trigger: could not renew the Gmail watch (next try in ${waitMs / 60000} min): ${(error as Error).message}`);
		// Transient or not, a watch about to lapse means no more notifications: say so once.
		const record = this.backOff.record;
		if (classifyFailure(error) !== 'lasting' && watchLapsesSoon(this.state.watch?.expiration, now) && !record.lapseReported) {
			record.lapseReported = true;
			this.onLastingFailure?.(error, 'watch');
		}
	}

	/** A restart's forced watch failed: only logged (the old watch most likely lives); the next renewal forces. */
	startFailed(error: unknown): void {
		this.unsure = true;
		this.logger.warn(`Gmail Push Trigger: could not renew the Gmail watch at start, will retry within a minute: ${(error as Error).message}`);
	}
}
