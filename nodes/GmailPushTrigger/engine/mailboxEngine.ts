/**
 * One engine per active trigger node. Every way a notification comes in (push, pull, timer)
 * goes through handle(), which runs one sync at a time, so overlapping notifications cannot emit
 * an email twice; it is the only code that moves the cursor.
 */
import { advance, isAfter } from '../core/cursor';
import { sameMailbox, type GmailNotification } from '../core/notification';
import { refetchEvents } from '../core/fetchEvents';
import { withoutMessage, type SyncedEvent } from '../core/historyEvent';
import { type SyncStats } from '../core/sync';
import { RECHECK_CAP } from '../core/recheck';
import type { OutputItem } from '../core/output';
import { asPossibleDuplicates } from '../core/unsettled';
import { BackOff } from './backOff';
import { sleep, systemClock, type Clock } from './clock';
import type { Emission, EngineDeps, EnsureWatchResult, HandleOptions, HandleResult } from './engineDeps';
import { readLongAfterPublish, SyncTimer } from './followUp';
import { nextSyncStep, type SyncStep } from './historyStep';
import { ItemPreparation } from './itemPreparation';
import { SearchRecheck } from './searchRecheck';
import { forgetWatch, holdSearchMisses, recordCatchUpBatch, recordUnsettled, rememberInState, settleInState, type TriggerState } from './triggerState';
import { ensureWatch, WatchKeeper } from './watchKeeper';

/** Thrown when the engine stops mid-task; callers tell it apart by class, not by its text. */
export class EngineStopping extends Error {
	constructor() {
		super('Gmail Push Trigger is stopping');
	}
}

export class MailboxEngine {
	private tail: Promise<unknown> = Promise.resolve();
	/** When a sync last completed: the safety net syncs when none has for too long. */
	private lastSyncAt?: number;
	private ticking = false;
	private retired = false;
	private closing = false;
	/** close() has returned: n8n may already run a new trigger on a newer copy of the static data. */
	private closed = false;
	/** When we last handed items to n8n (see close()). */
	private lastDeliveredAt?: number;
	/** A notification was taken during a back-off: a sync is owed once the back-off ends. */
	private syncOwed = false;
	private readonly clock: Clock;
	private readonly backOff: BackOff;
	private readonly followUp: SyncTimer;
	private readonly recheck: SearchRecheck;
	private readonly items: ItemPreparation;
	private readonly watchKeeper: WatchKeeper;

	constructor(private readonly deps: EngineDeps) {
		const clock = (this.clock = deps.clock ?? systemClock);
		this.backOff = new BackOff(deps.failures ?? {}, clock, deps.logger, deps.onLastingFailure);
		const stopping = () => this.retired || this.closing;
		this.followUp = new SyncTimer(clock, () => this.sync(), stopping, deps.logger, 'follow-up sync failed, the next sync catches up');
		this.items = new ItemPreparation(deps, clock);
		this.recheck = new SearchRecheck({
			deps,
			clock,
			stopping,
			sync: () => this.sync(),
			itemsFor: (events) => this.items.itemsFor(events),
			handOver: (items, events, number) => this.handOver(items, events, number),
		});
		const ensure = (key: string, force: boolean) => this.ensureWatch(key, { force });
		this.watchKeeper = new WatchKeeper(ensure, deps.state, this.backOff, clock, deps.logger, deps.onLastingFailure);
	}

	get state(): TriggerState {
		return this.deps.state;
	}

	/** Deactivated, or its trigger closed: n8n must hear nothing more from it. */
	get stopped(): boolean {
		return this.retired || this.closed;
	}

	/** Runs `task` after every task queued before it (one sync at a time). */
	private serial<T>(task: () => Promise<T>): Promise<T> {
		const run = this.tail.then(task, task);
		this.tail = run.catch(() => undefined);
		return run;
	}

	/**
	 * A notification: ignored when for another mailbox or covered by the cursor (no Gmail call),
	 * otherwise a sync. Gmail errors propagate, so Pub/Sub redelivers; the cursor has not moved.
	 */
	async handle(notification: GmailNotification, options: HandleOptions = {}): Promise<HandleResult> {
		const { emailAddress } = this.deps.state;
		if (emailAddress !== undefined && !sameMailbox(notification.emailAddress, emailAddress)) return { status: 'other-mailbox' };
		if (!isAfter(notification.historyId, this.deps.state.cursor)) return { status: 'covered', cursor: this.deps.state.cursor };
		return await this.serial(async () => {
			// A sync that ran while we waited may already cover it.
			if (!isAfter(notification.historyId, this.deps.state.cursor)) return { status: 'covered', cursor: this.deps.state.cursor } as const;
			const owe = options.oweDuringBackOff === true;
			if (owe && this.backOff.active) return this.owe();
			const readAt = this.clock.now();
			try {
				const result = await this.syncNow();
				if (!readLongAfterPublish(notification.publishTime, readAt)) this.armFollowUp();
				return result;
			} catch (error) {
				// This sync's own lasting failure started the back-off: owed like the ones after it.
				if (owe && this.backOff.active) return this.owe();
				throw error;
			}
		});
	}

	private owe(): HandleResult {
		this.syncOwed = true;
		return { status: 'owed', until: this.backOff.until };
	}

	/** Only a notification's sync arms it: later mail is more than a second past it, so Gmail notifies it. */
	private armFollowUp(): void {
		if (this.deps.followUpMs !== undefined) this.followUp.arm(this.deps.followUpMs);
	}

	/** Syncs from the cursor until history is drained (used by notifications and timers). */
	async sync(): Promise<HandleResult> {
		return await this.serial(async () => await this.syncNow());
	}

	private async syncNow(): Promise<HandleResult> {
		return await this.backOff.guard('sync', async () => await this.drainHistory());
	}

	private async drainHistory(): Promise<HandleResult> {
		let emitted = 0;
		const total: SyncStats = { pages: 0, records: 0, duplicates: 0, filtered: 0, gone: 0 };
		for (let more = true; more; ) {
			const step = await nextSyncStep(this.deps, this.clock.now());
			for (const key of Object.keys(total) as Array<keyof SyncStats>) total[key] += step.outcome.stats[key];
			const items = await this.items.itemsFor(step.outcome.events);
			// Stopping meanwhile: touch nothing, emit nothing; the next run starts from the unmoved cursor.
			if (this.retired || this.closing) throw new EngineStopping();
			this.recordStep(step);
			if (items.length > 0) await this.handOver(items, step.outcome.events, 1);
			emitted += items.length;
			this.deps.logger.debug('Gmail Push Trigger: synced history', { emitted: items.length, cursor: this.deps.state.cursor, ...step.outcome.stats });
			more = step.outcome.more;
		}
		emitted += await this.recheck.runDue();
		this.lastSyncAt = this.clock.now();
		this.syncOwed = false;
		return { status: 'synced', emitted, cursor: this.deps.state.cursor, stats: total };
	}

	/**
	 * State first, then emit: n8n saves the static data when we emit. A catch-up records its batch
	 * only here, so a failure before this point leaves the stale cursor and the batch to try again.
	 */
	private recordStep(step: SyncStep): void {
		const state = this.deps.state;
		const { outcome } = step;
		if (step.catchUp) recordCatchUpBatch(state, step.outcome);
		else state.cursor = advance(state.cursor, step.outcome.cursor);
		if (outcome.keys.length > 0) rememberInState(state, outcome.keys);
		// A catch-up's emails are old enough for Gmail's index: what Search missed does not match.
		const misses = step.catchUp ? [] : (step.outcome.searchMissed ?? []);
		const unheld = holdSearchMisses(state, misses, this.clock.now());
		if (unheld > 0) this.deps.logger.warn(`Gmail Push Trigger: ${unheld} email(s) Search did not find will not be asked about again (more than ${RECHECK_CAP} waiting)`);
		const newest = Math.max(...outcome.events.map((e) => Number(e.message.internalDate ?? 0)), 0);
		if (newest > (state.lastEmittedAt ?? 0)) state.lastEmittedAt = newest;
	}

	/** Lists the emission as unsettled in the state (core/unsettled), then hands it to n8n, which saves the state then. */
	private async handOver(items: OutputItem[], events: readonly SyncedEvent[], number: number, again: Pick<Emission, 'at' | 'possibleDuplicate'> = {}): Promise<void> {
		const named = events.map(withoutMessage);
		const { at, dropped } = recordUnsettled(this.deps.state, named, number, this.clock.now(), again.at);
		if (dropped.length > 0) this.deps.logger.warn(`Gmail Push Trigger: ${dropped.length} emission(s) will not be emitted again after a restart: more than the state keeps are unsettled`);
		const duplicate = again.possibleDuplicate === true;
		await this.deps.deliver(duplicate ? asPossibleDuplicates(items) : items, { events: named, number, at, ...(duplicate && { possibleDuplicate: true }) });
		this.lastDeliveredAt = this.clock.now();
	}

	/**
	 * Emits an emission's emails again (their execution crashed, or its outcome was lost with a
	 * restart), fetched afresh, in its place in the unsettled list; cursor and dedupe record stay.
	 * It may run while close() waits (n8n stops triggers before executions), never after: this
	 * copy of the static data may be older than a new trigger's. Returns how many items went out.
	 */
	async emitAgain(emission: Emission): Promise<number> {
		return await this.serial(async () => {
			if (this.stopped) throw new EngineStopping();
			const { events, gone } = await this.backOff.guard('sync', async () => await refetchEvents(this.deps.port, emission.events, this.deps.sync));
			if (gone > 0) this.deps.logger.warn(`Gmail Push Trigger: ${gone} email(s) of a crashed execution were deleted since; the rest are emitted again`);
			const items = await this.items.itemsFor(events);
			if (this.stopped) throw new EngineStopping();
			if (items.length > 0) await this.handOver(items, events, emission.number + 1, emission);
			else settleInState(this.deps.state, emission.at); // all deleted since: nothing left to settle
			return items.length;
		});
	}

	/**
	 * The timer's duties: renew the watch when due (push, pull), and sync when none completed for
	 * `syncAfterMs` (the safety net; in poll delivery, the poll). The first tick syncs, and so does
	 * the first after a back-off that owed one. Failures are logged: the next tick tries again.
	 */
	async tick(duties: { watchKey?: string; syncAfterMs: number }): Promise<void> {
		if (this.ticking) return;
		this.ticking = true;
		try {
			if (duties.watchKey !== undefined) await this.watchKeeper.renewIfDue(duties.watchKey);
			const owed = this.syncOwed && !this.backOff.active;
			if (owed || this.lastSyncAt === undefined || this.clock.now() - this.lastSyncAt >= duties.syncAfterMs) {
				await this.sync().catch((error: unknown) => this.deps.logger.warn(`Gmail Push Trigger: periodic sync failed, will retry: ${(error as Error).message}`));
			}
		} finally {
			this.ticking = false;
		}
	}

	/**
	 * Deactivation: from now on this engine emits nothing. delete() may run on another copy of
	 * the static data: forget the stopped watch in ours too, so a later save cannot bring it back.
	 */
	retire(): void {
		this.retired = true;
		this.followUp.cancel();
		this.recheck.cancel();
		forgetWatch(this.deps.state);
	}

	/**
	 * The trigger is closing: start nothing new, wait (at most `timeoutMs`) for a sync in flight,
	 * then give n8n `graceMs` after our last emit to register its execution before a shutdown.
	 * n8n: see docs/n8n-behaviour.md#static-data
	 */
	async close(timeoutMs = 10_000, graceMs = 3_000): Promise<void> {
		this.closing = true;
		this.followUp.cancel();
		this.recheck.cancel();
		const wait = sleep(this.clock, timeoutMs);
		await Promise.race([this.tail, wait.done]);
		wait.cancel();
		const since = this.lastDeliveredAt === undefined ? Infinity : this.clock.now() - this.lastDeliveredAt;
		if (since < graceMs) await sleep(this.clock, graceMs - since).done;
		this.closed = true;
	}

	/** Renews the watch when it is missing, changed, a day old or close to expiry (or forced). */
	async ensureWatch(key: string, options: { force?: boolean } = {}): Promise<EnsureWatchResult> {
		return await ensureWatch(this.deps.watchBook(key), this.deps.port, this.deps.state, this.deps.watch, this.deps.logger, this.clock.now(), options.force);
	}

	/** A restart's watch: forced, but a failure only logs rather than failing n8n's start on a Google outage. */
	async ensureWatchOnRestart(key: string): Promise<void> {
		try {
			await this.ensureWatch(key, { force: true });
		} catch (error) {
			this.watchKeeper.startFailed(error);
		}
	}

	/** Poll delivery has no watch: a first activation starts from the mailbox's current historyId. */
	async ensureCursor(): Promise<void> {
		const state = this.deps.state;
		if (state.cursor !== undefined && state.emailAddress !== undefined) return;
		const profile = await this.deps.port.getProfile();
		state.emailAddress ??= profile.emailAddress;
		state.cursor ??= profile.historyId;
	}
}
