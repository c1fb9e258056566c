/** What a MailboxEngine is given, and what it answers. */
import type { Logger } from '../core/logger';
import type { GmailPort } from '../core/port';
import type { HistoryEvent } from '../core/historyEvent';
import type { SyncOptions } from '../core/syncOptions';
import type { SyncStats } from '../core/sync';
import type { CatchUpOptions } from '../core/recovery';
import type { OutputItem, OutputMode, RenderOptions } from '../core/output';
import type { WatchConfig, WatchState, WatchVerdict } from '../core/watch';
import type { Clock } from './clock';
import type { TriggerState } from './triggerState';

export type EngineLogger = Logger;

export interface EngineDeps {
	port: GmailPort;
	state: TriggerState;
	sync: SyncOptions;
	output: OutputMode;
	render?: RenderOptions;
	/** Makes items ready to emit (attachments become binary data) before the cursor moves. */
	prepare?: (items: OutputItem[]) => Promise<OutputItem[]>;
	watch: WatchConfig;
	/**
	 * Hands items to n8n, after the state already holds the advanced cursor. `emission` names
	 * the emails, so the shell can emit them again when their execution crashed.
	 */
	deliver: (items: OutputItem[], emission: Emission) => void | Promise<void>;
	logger: EngineLogger;
	/** Bounds of the catch-up after a stale cursor (history.list 404). */
	catchUp?: CatchUpOptions;
	/** A failure retrying will not heal (core/failure), at most once per back-off; or a lapsing watch. */
	onLastingFailure?: (error: unknown, during: FailureStage) => void;
	/** The node's lasting-failure episode: it outlives the engine, so a restarted trigger keeps backing off. */
	failures?: FailureRecord;
	/**
	 * One more sync this long after a notification's sync: Gmail drops notifications within a
	 * second of the last, so an email in that second may never get its own. Unset: none.
	 */
	followUpMs?: number;
	/** How long after Search missed a new email it is asked again (core/recheck; default a minute). */
	searchRecheckMs?: number;
	/** The process's record of the node's watch, by node key (shared by every caller for the node). */
	watchBook: (key: string) => WatchBook;
	/** Time and timers; the real ones unless given. */
	clock?: Clock;
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

/** The last watch this process made for a node, with the mailbox it came with. */
export interface RecordedWatch {
	watch: WatchState;
	emailAddress?: string;
}

/** What this process knows of one node's watch. */
export interface WatchBook {
	/** The hooks write no static data: create()'s watch waits here for the trigger to take it. */
	recorded?: RecordedWatch;
	/** A watch call under way: callers for the node share it (each costs 100 units). */
	inFlight?: Promise<EnsureWatchResult>;
}

export type EnsureWatchResult = WatchVerdict | 'forced';

export type HandleResult =
	| { status: 'other-mailbox' }
	| { status: 'covered'; cursor: string | undefined }
	| { status: 'owed'; until: number }
	| { status: 'synced'; emitted: number; cursor: string | undefined; stats: SyncStats };

export interface HandleOptions {
	/** During a lasting-failure back-off, resolve `owed` instead of failing: the first tick after it syncs. */
	oweDuringBackOff?: boolean;
}
