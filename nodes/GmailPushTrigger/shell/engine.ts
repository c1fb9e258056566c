/**
 * One engine per active trigger node in this n8n process. Every way a notification comes in
 * (push webhook, pull subscriber, timer) goes through `handle()`, which runs one sync at a time,
 * so overlapping notifications cannot emit an email twice, and is the only code that moves the
 * cursor. It owns the trigger's copy of the static data, which n8n saves when we emit.
 */
import { advance, isAfter } from '../core/cursor';
import { seenKeys } from '../core/seen';
import { classifyFailure, lastingFailureBackoffMs, watchLapsesSoon } from '../core/failure';
import type { Logger } from '../core/logger';
import { sameMailbox, type GmailNotification } from '../core/notification';
import type { GmailLabel, GmailPort } from '../core/port';
import { DEFAULT_MAX_EVENTS, isStaleCursorError, refetchEvents, syncFromCursor, withoutMessage, type HistoryEvent, type SyncedEvent, type SyncOptions, type SyncOutcome, type SyncStats } from '../core/sync';
import { catchUpFromStaleCursor, continueCatchUp, DEFAULT_CATCH_UP, readPending, type CatchUpOptions, type CatchUpOutcome, type PendingCatchUp } from '../core/recovery';
import { dueForRecheck, nextRecheckAt, readHeld, RECHECK_CAP, RECHECK_DELAY_MS, recheckSearch, type HeldForSearch, type RecheckResult } from '../core/recheck';
import { toOutputItems, type OutputItem, type OutputMode, type RenderOptions } from '../core/output';
import { watchRequest, watchStateFrom, watchVerdict, type WatchConfig, type WatchVerdict } from '../core/watch';
import { recordedWatch, recordWatch } from './registry';
import { asPossibleDuplicates } from '../core/unsettled';
import { forgetWatch, holdSearchMisses, recordCatchUpBatch, recordUnsettled, rememberInState, setHeld, settleInState, type TriggerState } from './state';

export type EngineLogger = Logger;

export interface EngineDeps {
	port: GmailPort;
	state: TriggerState;
	sync: SyncOptions;
	output: OutputMode;
	render?: RenderOptions;
	/**
	 * Makes items ready to emit (the attachments become n8n binary data) before the cursor
	 * moves: a failure here leaves the cursor where it was, so the emails are tried again.
	 */
	prepare?: (items: OutputItem[]) => Promise<OutputItem[]>;
	watch: WatchConfig;
	/**
	 * Hands items to n8n. Called after the state already holds the advanced cursor. `emission`
	 * names the emails, so that the shell can emit them again (emitAgain) when n8n reports
	 * their execution crashed.
	 */
	deliver: (items: OutputItem[], emission: Emission) => void | Promise<void>;
	logger: EngineLogger;
	/** Bounds of the catch-up after a stale cursor (history.list 404). */
	catchUp?: CatchUpOptions;
	/**
	 * A failure that retrying will not heal (see core/failure), reported each time it happens:
	 * at most once per back-off (5 minutes doubling to an hour), since the engine asks Google
	 * nothing in between. Also a watch renewal that keeps failing while the watch lapses.
	 */
	onLastingFailure?: (error: unknown, during: FailureStage) => void;
	/**
	 * Where the lasting-failure episode lives: shared by the engines of one node in this process,
	 * so the engine n8n starts after reporting it (n8n re-adds the trigger) keeps backing off.
	 */
	failures?: FailureRecord;
	/**
	 * After each notification that made a sync, one more sync this long after it. Gmail sends
	 * at most one notification per second per mailbox and drops the rest, so an email that
	 * arrives in the second after a notification may never get one of its own. A notification
	 * that comes meanwhile moves the follow-up later instead of adding one: at most one extra
	 * history.list per notification, none for a mailbox that gets no mail, none for a
	 * notification read long after it was published (LATE_READ_MS). Unset: no follow-up.
	 */
	followUpMs?: number;
	/** How long after Search missed a new email it is asked again (core/recheck; default a minute). */
	searchRecheckMs?: number;
	now?: () => number;
}

export type FailureStage = 'sync' | 'watch';

/** One hand-over of items to n8n. */
export interface Emission {
	/** The emitted events without their messages: enough to fetch them again. */
	events: HistoryEvent[];
	/** 1 for the first emission of these emails, 2 for the next, and so on. */
	number: number;
	/** Its name in the state's list of unsettled emissions (core/unsettled), when it is listed. */
	at?: number;
	/** Its items carry `possibleDuplicate: true` (an earlier execution of them may have run). */
	possibleDuplicate?: boolean;
}

/** The current episode of lasting failures of one node (empty when the last call succeeded). */
export interface FailureRecord {
	episode?: { error: unknown; failures: number; until: number };
	/** The lapsing watch was reported (once per lapse). */
	lapseReported?: boolean;
}

export type EnsureWatchResult = WatchVerdict | 'forced';

export type HandleResult =
	| { status: 'other-mailbox' }
	| { status: 'covered'; cursor: string | undefined }
	| { status: 'owed'; until: number }
	| { status: 'synced'; emitted: number; cursor: string | undefined; stats: SyncStats };

export interface HandleOptions {
	/**
	 * During a lasting-failure back-off (also one this notification's sync starts), resolve
	 * `owed` instead of failing with the episode's error: the engine then syncs at the first
	 * tick after the back-off (see tick()).
	 */
	oweDuringBackOff?: boolean;
}

const LABELS_TTL_MS = 10 * 60 * 1000;

/** One step of a sync: a history expansion, or a batch of a stale-cursor catch-up. */
type SyncStep = { outcome: SyncOutcome; catchUp: false } | { outcome: CatchUpOutcome; catchUp: true };

export class MailboxEngine {
	private tail: Promise<unknown> = Promise.resolve();
	private labels?: { at: number; list: GmailLabel[] };
	/** When a sync last completed: the safety net syncs when none has for too long. */
	private lastSyncAt?: number;
	private ticking = false;
	private retired = false;
	private closing = false;
	/** close() has returned: n8n may already run a new trigger on a newer copy of the static data. */
	private closed = false;
	/** When we last handed items to n8n (see close()). */
	private lastDeliveredAt?: number;
	/** After a failed renewal: no new attempt before this (each watch call costs 100 units). */
	private watchRetryAt = 0;
	private watchFailures = 0;
	/** An activation's forced watch failed: the next renewal watches even if the record looks fresh. */
	private watchUnsure = false;
	private readonly failures: FailureRecord;
	/** The follow-up sync armed by the last notification (see EngineDeps.followUpMs). */
	private followUp?: NodeJS.Timeout;
	/** A notification was taken during a back-off: a sync is owed once the back-off ends. */
	private syncOwed = false;
	/** The next re-ask of Search about the emails it missed (see recheckDue). */
	private recheckTimer?: NodeJS.Timeout;

	constructor(private readonly deps: EngineDeps) {
		this.failures = deps.failures ?? {};
	}

	/**
	 * Runs a Gmail task unless a lasting failure is backing off (then it fails at once with that
	 * error and asks Google nothing: no token request per redelivered push). A lasting failure
	 * starts or extends the back-off and is reported.
	 */
	private async guarded<T>(during: FailureStage, task: () => Promise<T>): Promise<T> {
		const episode = this.failures.episode;
		if (episode && this.backingOff()) throw episode.error;
		try {
			const result = await task();
			this.failures.episode = undefined;
			return result;
		} catch (error) {
			if (classifyFailure(error) === 'lasting') {
				const failures = (this.failures.episode?.failures ?? 0) + 1;
				this.failures.episode = { error, failures, until: this.now() + lastingFailureBackoffMs(failures) };
				this.deps.logger.error(
					`Gmail Push Trigger: ${(error as Error).message} (will not heal by retrying; next try in ${lastingFailureBackoffMs(failures) / 60000} min)`,
				);
				this.deps.onLastingFailure?.(error, during);
			}
			throw error;
		}
	}

	get state(): TriggerState {
		return this.deps.state;
	}

	/** Deactivated, or its trigger closed: n8n must hear nothing more from it. */
	get stopped(): boolean {
		return this.retired || this.closed;
	}

	private backingOff(): boolean {
		const episode = this.failures.episode;
		return episode !== undefined && this.now() < episode.until;
	}

	private now(): number {
		return (this.deps.now ?? Date.now)();
	}

	/** Runs `task` after every task queued before it (one sync at a time). */
	private serial<T>(task: () => Promise<T>): Promise<T> {
		const run = this.tail.then(task, task);
		this.tail = run.catch(() => undefined);
		return run;
	}

	/**
	 * A notification: ignored when it is for another mailbox or already covered by the cursor
	 * (no Gmail call), otherwise a sync from the cursor. Gmail errors propagate: the caller
	 * answers non-2xx / nacks so Pub/Sub redelivers, and the cursor has not moved.
	 */
	async handle(notification: GmailNotification, options: HandleOptions = {}): Promise<HandleResult> {
		const { emailAddress } = this.deps.state;
		if (emailAddress !== undefined && !sameMailbox(notification.emailAddress, emailAddress)) {
			return { status: 'other-mailbox' };
		}
		if (!isAfter(notification.historyId, this.deps.state.cursor)) {
			return { status: 'covered', cursor: this.deps.state.cursor };
		}
		return await this.serial(async () => {
			// Re-check: a sync that ran while we waited may already cover this notification.
			if (!isAfter(notification.historyId, this.deps.state.cursor)) {
				return { status: 'covered', cursor: this.deps.state.cursor } as const;
			}
			const owe = options.oweDuringBackOff === true;
			if (owe && this.backingOff()) return this.owe();
			const readAt = this.now();
			try {
				const result = await this.syncNow();
				if (!readLongAfterPublish(notification.publishTime, readAt)) this.armFollowUp();
				return result;
			} catch (error) {
				// This sync's own lasting failure started the back-off: owed like the ones after it.
				if (owe && this.backingOff()) return this.owe();
				throw error;
			}
		});
	}

	/** Called during a back-off: a sync is owed from its end on (see tick()). */
	private owe(): HandleResult {
		this.syncOwed = true;
		return { status: 'owed', until: this.failures.episode?.until ?? this.now() };
	}

	/**
	 * (Re)arms the one follow-up sync. Only a notification's sync arms it: the follow-up itself
	 * does not (mail after it is more than a second past the last notification, so Gmail
	 * notifies it), nor a covered notification (nothing new was announced).
	 */
	private armFollowUp(): void {
		const delayMs = this.deps.followUpMs;
		if (delayMs === undefined || this.retired || this.closing) return;
		this.cancelFollowUp();
		this.followUp = setTimeout(() => {
			this.followUp = undefined;
			if (this.retired || this.closing) return;
			this.sync().catch((error: unknown) => {
				// The next notification or the safety net syncs again from the unmoved cursor.
				this.deps.logger.warn(`Gmail Push Trigger: follow-up sync failed, the next sync catches up: ${(error as Error).message}`);
			});
		}, delayMs);
		this.followUp.unref?.();
	}

	private cancelFollowUp(): void {
		if (this.followUp !== undefined) clearTimeout(this.followUp);
		this.followUp = undefined;
	}

	/** Syncs from the cursor until history is drained (used by notifications and timers). */
	async sync(): Promise<HandleResult> {
		return await this.serial(async () => await this.syncNow());
	}

	private async syncNow(): Promise<HandleResult> {
		return await this.guarded('sync', async () => await this.drainHistory());
	}

	private async drainHistory(): Promise<HandleResult> {
		const state = this.deps.state;
		let emitted = 0;
		const total: SyncStats = { pages: 0, records: 0, duplicates: 0, filtered: 0, gone: 0 };
		for (;;) {
			const step = await this.syncOnce();
			const { outcome } = step;
			for (const key of Object.keys(total) as Array<keyof SyncStats>) total[key] += outcome.stats[key];
			const items = await this.itemsFor(outcome.events);
			// Deactivated or shutting down meanwhile: touch nothing, emit nothing; the next run
			// (or Pub/Sub's redelivery) starts again from the unmoved cursor.
			if (this.retired || this.closing) throw new Error('Gmail Push Trigger is stopping');
			// State first, then emit: n8n saves the static data at the moment we emit. A catch-up
			// records its batch here, never earlier, so a failure or a close before this point
			// leaves the stale cursor and the batch to try again.
			if (step.catchUp) recordCatchUpBatch(state, step.outcome);
			else state.cursor = advance(state.cursor, outcome.cursor);
			if (outcome.keys.length > 0) rememberInState(state, outcome.keys);
			// A catch-up's emails are old enough for Gmail's index: what Search missed does not match.
			const unheld = holdSearchMisses(state, step.catchUp ? [] : (outcome.searchMissed ?? []), this.now());
			if (unheld > 0) this.deps.logger.warn(`Gmail Push Trigger: ${unheld} email(s) Search did not find will not be asked about again (more than ${RECHECK_CAP} waiting)`);
			const newest = Math.max(...outcome.events.map((e) => Number(e.message.internalDate ?? 0)), 0);
			if (newest > (state.lastEmittedAt ?? 0)) state.lastEmittedAt = newest;
			if (items.length > 0) await this.handOver(items, outcome.events, 1);
			emitted += items.length;
			this.deps.logger.debug('Gmail Push Trigger: synced history', { emitted: items.length, cursor: state.cursor, ...outcome.stats });
			if (!outcome.more) break;
		}
		emitted += await this.recheckDue();
		this.lastSyncAt = this.now();
		this.syncOwed = false;
		return { status: 'synced', emitted, cursor: state.cursor, stats: total };
	}

	/**
	 * Asks Search again about the held emails that are due (core/recheck), emits those it finds
	 * and lets the rest go. A Gmail failure keeps them held for the next try and does not fail
	 * the sync, whose own emails are already out.
	 */
	private async recheckDue(): Promise<number> {
		const state = this.deps.state;
		const delayMs = this.deps.searchRecheckMs ?? RECHECK_DELAY_MS;
		const { due, later } = dueForRecheck(readHeld(state.searchRecheck), this.now(), delayMs);
		const answer = due.length > 0 ? await this.askSearchAgain(due) : undefined;
		if (answer && !this.retired && !this.closing) {
			setHeld(state, later);
			if (answer.events.length > 0) rememberInState(state, answer.events.map((e) => e.key));
		}
		this.armRecheck(delayMs);
		if (!answer || this.retired || this.closing) return 0;
		if (answer.items.length > 0) await this.handOver(answer.items, answer.events, 1);
		this.deps.logger.debug('Gmail Push Trigger: asked Search again', { asked: answer.asked, emitted: answer.items.length, dropped: answer.dropped });
		return answer.items.length;
	}

	private async askSearchAgain(due: HeldForSearch[]): Promise<(RecheckResult & { items: OutputItem[] }) | undefined> {
		try {
			const result = await recheckSearch(this.deps.port, due, seenKeys(this.deps.state, this.deps.state.recent), this.deps.sync);
			return { ...result, items: await this.itemsFor(result.events) };
		} catch (error) {
			this.deps.logger.warn(`Gmail Push Trigger: asking Gmail's search again failed, will retry: ${(error as Error).message}`);
			return undefined;
		}
	}

	/** (Re)arms the next re-ask, at least half a delay away: a failing one is not retried in a loop. */
	private armRecheck(delayMs: number): void {
		clearTimeout(this.recheckTimer);
		const at = nextRecheckAt(readHeld(this.deps.state.searchRecheck), delayMs);
		if (at === undefined || this.retired || this.closing) return;
		this.recheckTimer = setTimeout(() => {
			if (this.retired || this.closing) return;
			this.sync().catch((error: unknown) => this.deps.logger.warn(`Gmail Push Trigger: the sync to ask Search again failed, the next sync does: ${(error as Error).message}`));
		}, Math.max(at - this.now(), delayMs / 2));
		this.recheckTimer.unref?.();
	}

	/** Events -> items ready to emit: rendered in the output mode, attachments prepared. */
	private async itemsFor(events: readonly SyncedEvent[]): Promise<OutputItem[]> {
		const labels = this.deps.output === 'simplified' && events.length > 0 ? await this.labelList() : [];
		const rendered = await toOutputItems(events, this.deps.output, labels, this.deps.render);
		return this.deps.prepare && rendered.length > 0 ? await this.deps.prepare(rendered) : rendered;
	}

	/**
	 * Lists the emission as unsettled in the state, then hands it to n8n (which saves the state
	 * at that emit), so that a restart before n8n reports it still knows it (core/unsettled).
	 */
	private async handOver(items: OutputItem[], events: readonly SyncedEvent[], number: number, again: Pick<Emission, 'at' | 'possibleDuplicate'> = {}): Promise<void> {
		const named = events.map(withoutMessage);
		const { at, dropped } = recordUnsettled(this.deps.state, named, number, this.now(), again.at);
		if (dropped.length > 0) this.deps.logger.warn(`Gmail Push Trigger: ${dropped.length} emission(s) will not be emitted again after a restart: more than the state keeps are unsettled`);
		const duplicate = again.possibleDuplicate === true;
		await this.deps.deliver(duplicate ? asPossibleDuplicates(items) : items, { events: named, number, at, ...(duplicate && { possibleDuplicate: true }) });
		this.lastDeliveredAt = Date.now();
	}

	/**
	 * Emits the emails of an emission again (their execution crashed, or its outcome was lost
	 * with a restart), fetched afresh, in its place in the unsettled list, without touching the
	 * cursor or the dedupe record (both already count them as emitted). It may
	 * still run while close() waits for the engine's work: n8n stops triggers before it waits for
	 * executions, so an emission made then still runs. Once close() has returned nothing is
	 * emitted: n8n saves the static data on every emit, and this copy may be older than the one
	 * a new trigger (after a save of the workflow) works on. Returns how many items went out.
	 */
	async emitAgain(emission: Emission): Promise<number> {
		const stopped = () => this.retired || this.closed;
		return await this.serial(async () => {
			if (stopped()) throw new Error('Gmail Push Trigger is stopping');
			const { events, gone } = await this.guarded('sync', async () => await refetchEvents(this.deps.port, emission.events, this.deps.sync));
			if (gone > 0) this.deps.logger.warn(`Gmail Push Trigger: ${gone} email(s) of a crashed execution were deleted since; the rest are emitted again`);
			const items = await this.itemsFor(events);
			if (stopped()) throw new Error('Gmail Push Trigger is stopping');
			if (items.length > 0) await this.handOver(items, events, emission.number + 1, emission);
			else settleInState(this.deps.state, emission.at); // all deleted since: nothing left to settle
			return items.length;
		});
	}

	/**
	 * The periodic duties, run by a timer: renew the watch when it is due (push, pull), and
	 * sync when no sync has completed for `syncAfterMs` (the safety net for notifications that
	 * Gmail or Pub/Sub lost; in poll delivery, the poll itself). The first tick syncs, so mail
	 * that arrived while n8n was down is emitted at start, and so does the first tick after a
	 * back-off in which notifications were owed. Failures are logged, not thrown: the next tick
	 * tries again.
	 */
	async tick(duties: { watchKey?: string; syncAfterMs: number }): Promise<void> {
		if (this.ticking) return;
		this.ticking = true;
		try {
			if (duties.watchKey !== undefined && this.now() >= this.watchRetryAt) {
				try {
					const watchKey = duties.watchKey;
					await this.guarded('watch', async () => await this.ensureWatch(watchKey, { force: this.watchUnsure }));
					this.watchUnsure = false;
					this.watchFailures = 0;
					this.failures.lapseReported = false;
				} catch (error) {
					// 5, 10, 20, 40, 60, 60 ... minutes: well inside the week a watch lives.
					const waitMs = Math.min(60, 5 * 2 ** this.watchFailures++) * 60 * 1000;
					this.watchRetryAt = this.now() + waitMs;
					this.deps.logger.error(
						`Gmail Push Trigger: could not renew the Gmail watch (next try in ${waitMs / 60000} min): ${(error as Error).message}`,
					);
					// Transient or not, a watch about to lapse means no more notifications: say so once.
					if (classifyFailure(error) !== 'lasting' && watchLapsesSoon(this.deps.state.watch?.expiration, this.now()) && !this.failures.lapseReported) {
						this.failures.lapseReported = true;
						this.deps.onLastingFailure?.(error, 'watch');
					}
				}
			}
			const owed = this.syncOwed && !this.backingOff();
			if (owed || this.lastSyncAt === undefined || this.now() - this.lastSyncAt >= duties.syncAfterMs) {
				try {
					await this.sync();
				} catch (error) {
					this.deps.logger.warn(`Gmail Push Trigger: periodic sync failed, will retry: ${(error as Error).message}`);
				}
			}
		} finally {
			this.ticking = false;
		}
	}

	/**
	 * One history expansion; on a stale cursor, the bounded catch-up instead of a crash loop.
	 * A catch-up with batches left goes on without asking history (its cursor is still stale).
	 */
	private async syncOnce(): Promise<SyncStep> {
		const state = { cursor: this.deps.state.cursor, recent: seenKeys(this.deps.state, this.deps.state.recent), lastEmittedAt: this.deps.state.lastEmittedAt };
		const pending = this.pendingCatchUp();
		if (pending !== undefined) {
			const outcome = await continueCatchUp(this.deps.port, pending, state, this.deps.sync);
			if (outcome.pending === undefined) this.deps.logger.info(`Gmail Push Trigger: caught up after the stale cursor; restarting from historyId ${outcome.cursor}.`);
			return { outcome, catchUp: true };
		}
		try {
			return { outcome: await syncFromCursor(this.deps.port, state, this.deps.sync), catchUp: false };
		} catch (error) {
			if (!isStaleCursorError(error)) throw error;
			const catchUp = this.deps.catchUp ?? DEFAULT_CATCH_UP;
			const outcome = await catchUpFromStaleCursor(this.deps.port, state, this.deps.sync, catchUp, this.now());
			const { report } = outcome;
			const batched = outcome.pending !== undefined;
			this.deps.logger.warn(
				`Gmail Push Trigger: history cursor ${state.cursor} is older than the history Gmail keeps (history.list 404). ` +
					`${batched ? 'Catching' : 'Caught'} up with messages.list since ${new Date(report.since).toISOString()} ` +
					`(at most ${Math.round(catchUp.maxWindowMs / 3600000)} h and ${catchUp.maxMessages} messages back; ` +
					`${report.listed} listed, ${report.unseen} not yet emitted${report.truncated ? ', older ones beyond the bound were skipped' : ''}` +
					`${batched ? `, emitted in executions of at most ${this.deps.sync.maxEvents ?? DEFAULT_MAX_EVENTS}` : ''}); ` +
					`restarting from historyId ${outcome.cursor ?? outcome.pending?.cursor}${batched ? ' once the last is emitted' : ''}.`,
			);
			return { outcome, catchUp: true };
		}
	}

	/** The state's pending catch-up. A damaged one is dropped: the stale cursor starts a new one. */
	private pendingCatchUp(): PendingCatchUp | undefined {
		const stored = this.deps.state.pendingCatchUp;
		if (stored === undefined) return undefined;
		const read = readPending(stored);
		if ('pending' in read) return read.pending;
		this.deps.logger.warn(`Gmail Push Trigger: the saved catch-up cannot be read (${read.problem}); catching up again from the last emitted email`);
		delete this.deps.state.pendingCatchUp;
		return undefined;
	}

	/**
	 * Label names for the simplified output. They only decorate the items: when labels.list
	 * fails, emit with the names we last had (or ids alone) rather than hold the mail back.
	 */
	private async labelList(): Promise<GmailLabel[]> {
		if (!this.labels || this.now() - this.labels.at > LABELS_TTL_MS) {
			try {
				this.labels = { at: this.now(), list: await this.deps.port.listLabels() };
			} catch (error) {
				this.deps.logger.warn(`Gmail Push Trigger: labels.list failed, emitting with the label names last known: ${(error as Error).message}`);
				return this.labels?.list ?? [];
			}
		}
		return this.labels.list;
	}

	/**
	 * Deactivation: from now on this engine emits nothing. n8n may run the webhook's delete()
	 * on another copy of the static data than the trigger's: forget the stopped watch in ours
	 * too, so a later save cannot bring it back. The cursor stays (see forgetWatch).
	 */
	retire(): void {
		this.retired = true;
		this.cancelFollowUp();
		clearTimeout(this.recheckTimer);
		forgetWatch(this.deps.state);
	}

	/**
	 * The trigger is closing (deactivation, restart, shutdown): start nothing new, wait (at
	 * most `timeoutMs`) for a sync in flight, then give n8n `graceMs` after our last emit.
	 * n8n saves the static data (our advanced cursor) the moment we emit but registers the
	 * execution a little later, and a shutdown only waits for registered executions: without
	 * the grace an emit just before a shutdown could be saved but never run (seen in the
	 * chaos suite on n8n 2.41).
	 */
	async close(timeoutMs = 10_000, graceMs = 3_000): Promise<void> {
		this.closing = true;
		this.cancelFollowUp();
		clearTimeout(this.recheckTimer);
		let timer: NodeJS.Timeout | undefined;
		const sleep = async (ms: number) => await new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
		await Promise.race([this.tail, sleep(timeoutMs)]);
		clearTimeout(timer);
		const since = this.lastDeliveredAt === undefined ? Infinity : Date.now() - this.lastDeliveredAt;
		if (since < graceMs) await sleep(graceMs - since);
		this.closed = true;
	}

	/** Renews the watch when it is missing, changed, a day old or close to expiry (or forced). */
	async ensureWatch(key: string, options: { force?: boolean } = {}): Promise<EnsureWatchResult> {
		return await ensureWatch(key, this.deps.port, this.deps.state, this.deps.watch, this.deps.logger, this.now(), options.force);
	}

	/**
	 * A restart's watch: forced, but a failure only logs (the old watch most likely lives) and
	 * leaves the next tick to force it again, rather than failing n8n's start on a Google outage.
	 */
	async ensureWatchOnRestart(key: string): Promise<void> {
		try {
			await this.ensureWatch(key, { force: true });
		} catch (error) {
			this.watchUnsure = true;
			this.deps.logger.warn(`Gmail Push Trigger: could not renew the Gmail watch at start, will retry within a minute: ${(error as Error).message}`);
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

/**
 * A notification read this long after Pub/Sub published it (a redelivery, a backlog after a
 * restart) needs no follow-up: the read already covered the second after it in which Gmail
 * drops notifications. Far above any clock skew between Google and this machine, so a skewed
 * clock cannot cost a fresh notification its follow-up.
 */
export const LATE_READ_MS = 30_000;

function readLongAfterPublish(publishTime: string | undefined, readAt: number): boolean {
	const published = publishTime === undefined ? NaN : Date.parse(publishTime);
	return Number.isFinite(published) && readAt - published >= LATE_READ_MS;
}

const watchesInFlight = new Map<string, Promise<EnsureWatchResult>>();

/**
 * A forced watch skips a watch this process made for the node this recently: create() watches
 * just before n8n starts the trigger (n8n awaits the webhooks first, see docs), and the trigger
 * takes that watch over instead of paying 100 units again.
 */
export const JUST_MADE_MS = 60_000;

/**
 * Makes sure a fresh watch for our topic and labels exists. `force` watches even when the
 * recorded watch looks fresh: an activation cannot tell whether a users.stop ran since (another
 * process, a delete() without the trigger, before a restart). Callers for one node share a call.
 */
export async function ensureWatch(
	key: string,
	port: GmailPort,
	state: TriggerState,
	config: WatchConfig,
	logger: EngineLogger,
	now: number,
	force = false,
): Promise<EnsureWatchResult> {
	adoptRecordedWatch(key, state);
	let pending = watchesInFlight.get(key);
	if (pending && force) {
		// A renewal under way may decide "fresh" without calling Google: a forced caller waits
		// for it and watches itself unless that one made a watch.
		await pending.catch(() => undefined);
		adoptRecordedWatch(key, state);
		if (justMade(key, now)) return 'fresh';
		pending = watchesInFlight.get(key);
	}
	if (!pending) {
		pending = (async () => {
			const found = watchVerdict(state.watch, config, now);
			if (found === 'fresh' && (!force || justMade(key, now))) return found;
			const verdict = found === 'fresh' ? 'forced' : found;
			await renewWatch(port, state, config, now);
			if (state.watch) recordWatch(key, { watch: state.watch, emailAddress: state.emailAddress });
			logger.info(`Gmail Push Trigger: watch ${verdict === 'missing' ? 'created' : 'renewed'} (${verdict}) for ${state.emailAddress} on ${config.topicName}`, {
				expiration: new Date(state.watch?.expiration ?? 0).toISOString(),
				cursor: state.cursor,
			});
			return verdict;
		})().finally(() => watchesInFlight.delete(key));
		watchesInFlight.set(key, pending);
	}
	const verdict = await pending;
	// A caller that joined another's call (with another copy of the state) takes its watch too.
	adoptRecordedWatch(key, state);
	return verdict;
}

function justMade(key: string, now: number): boolean {
	const made = recordedWatch(key)?.watch.renewedAt;
	return made !== undefined && now - made < JUST_MADE_MS;
}

/**
 * Takes the watch this process last made for the node into `state` when it is newer than the
 * one state holds: create() makes it on a copy it never writes back (lifecycle.ts), the trigger
 * then records it in the state n8n saves, without a second watch call (100 units).
 */
function adoptRecordedWatch(key: string, state: TriggerState): void {
	const recorded = recordedWatch(key);
	if (!recorded || (state.watch && state.watch.renewedAt >= recorded.watch.renewedAt)) return;
	state.watch = { ...recorded.watch, labelIds: [...recorded.watch.labelIds] };
	if (state.emailAddress === undefined && recorded.emailAddress !== undefined) state.emailAddress = recorded.emailAddress;
}

/**
 * users.watch, then record it. The first watch sets the cursor (a first activation starts from
 * now); later ones keep it, so mail that arrived meanwhile is still expanded.
 */
export async function renewWatch(port: GmailPort, state: TriggerState, config: WatchConfig, now: number): Promise<void> {
	if (state.emailAddress === undefined) state.emailAddress = (await port.getProfile()).emailAddress;
	const response = await port.watch(watchRequest(config));
	state.watch = watchStateFrom(config, response, now);
	if (state.cursor === undefined) state.cursor = response.historyId;
}
