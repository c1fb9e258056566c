/**
 * Active engines of this n8n process, by workflow and node. The push webhook looks its engine
 * up here so that the trigger's engine, not the webhook, moves the cursor (see state.ts).
 */
import type { WatchState } from '../core/watch';
import type { FailureRecord, MailboxEngine } from './engine';
import type { EmissionLedger } from './unsettled';
import { UNSETTLED_MAX_AGE_MS } from '../core/unsettled';

const engines = new Map<string, MailboxEngine>();
const failureRecords = new Map<string, FailureRecord>();
const ledgers = new Map<string, EmissionLedger>();

export function engineKey(workflowId: string | undefined, nodeId: string): string {
	return `${workflowId ?? ''}:${nodeId}`;
}

export function registerEngine(key: string, engine: MailboxEngine): () => void {
	engines.set(key, engine);
	return () => {
		if (engines.get(key) === engine) engines.delete(key);
	};
}

export function findEngine(key: string): MailboxEngine | undefined {
	return engines.get(key);
}

/**
 * The node's lasting-failure episode in this process. It outlives an engine: after the trigger
 * reports one, n8n closes the trigger and starts it again, and the new engine must keep backing
 * off instead of asking Google at once (and reporting again).
 */
export function failureRecordFor(key: string): FailureRecord {
	let record = failureRecords.get(key);
	if (!record) failureRecords.set(key, (record = {}));
	return record;
}

/**
 * What this process knows of the node's emissions (shell/unsettled). It outlives an engine: a
 * save or a re-activation starts a new trigger here on the state saved at the last emit.
 */
export function emissionLedgerFor(key: string, now = Date.now()): EmissionLedger {
	pruneLedgers(now);
	let ledger = ledgers.get(key);
	if (!ledger) ledgers.set(key, (ledger = { outcomes: new Map() }));
	return ledger;
}

/** A node whose trigger left and whose last emission a restart would no longer look at is forgotten. */
function pruneLedgers(now: number): void {
	for (const [key, ledger] of ledgers) {
		const newest = Math.max(...ledger.outcomes.keys());
		if (ledger.current === undefined && ledger.outcomes.size > 0 && newest < now - UNSETTLED_MAX_AGE_MS) ledgers.delete(key);
	}
}

/** The trigger left with nothing handed over: the node's ledger goes (a start makes a new one). */
export function dropLedgerIfIdle(key: string, ledger: EmissionLedger): void {
	if (ledger.current === undefined && ledger.outcomes.size === 0 && ledgers.get(key) === ledger) ledgers.delete(key);
}

/**
 * Gmail keeps one watch per mailbox (and Cloud project): two active triggers on one mailbox
 * share it, so stopping it for one would silence the other. Which triggers of this process
 * watch which mailbox.
 */
const watchers = new Map<string, Set<string>>();

/** Records that `key` watches `emailAddress`; returns the other triggers that already do. */
export function holdWatch(emailAddress: string, key: string): { others: string[]; release: () => void } {
	const mailbox = emailAddress.toLowerCase();
	let keys = watchers.get(mailbox);
	if (!keys) watchers.set(mailbox, (keys = new Set()));
	const others = [...keys].filter((k) => k !== key);
	keys.add(key);
	const held = keys;
	return {
		others,
		release: () => {
			held.delete(key);
			if (held.size === 0 && watchers.get(mailbox) === held) watchers.delete(mailbox);
		},
	};
}

/** True when a trigger of this process other than `key` still watches the mailbox. */
export function watchedByOthers(emailAddress: string | undefined, key: string): boolean {
	if (emailAddress === undefined) return false;
	return [...(watchers.get(emailAddress.toLowerCase()) ?? [])].some((k) => k !== key);
}

/**
 * The last watch this process made for each node, and the mailbox and historyId it came with.
 * The webhook hooks write no static data (see lifecycle.ts): the watch create() makes is kept
 * here, and the trigger's engine in this process takes it into its state (no second watch call).
 */
export interface RecordedWatch {
	watch: WatchState;
	emailAddress?: string;
}

const recordedWatches = new Map<string, RecordedWatch>();

export function recordWatch(key: string, record: RecordedWatch): void {
	const known = recordedWatches.get(key);
	if (!known || record.watch.renewedAt >= known.watch.renewedAt) recordedWatches.set(key, { watch: { ...record.watch }, emailAddress: record.emailAddress });
}

export function recordedWatch(key: string): RecordedWatch | undefined {
	return recordedWatches.get(key);
}

/** The node's watch was stopped, or its trigger left: what this process made is no longer live. */
export function forgetRecordedWatch(key: string): void {
	recordedWatches.delete(key);
}

/** A deliberate deactivation or save starts afresh. */
export function forgetFailures(key: string): void {
	failureRecords.delete(key);
}
