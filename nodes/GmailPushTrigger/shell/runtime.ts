/**
 * Everything this n8n process keeps between calls, and nothing else does: an object per node,
 * made when first needed (a trigger starts, create() watches) and dropped once nothing of it is
 * left; and the use of each Pub/Sub subscription, whose removal outlives the node that left.
 */
import { OAuth2Client } from 'google-auth-library';
import { UNSETTLED_MAX_AGE_MS } from '../core/unsettled';
import type { EmissionLedger } from '../engine/emissionLedger';
import type { FailureRecord, RecordedWatch, WatchBook } from '../engine/engineDeps';
import type { MailboxEngine } from '../engine/mailboxEngine';

/** One node (by workflow and node id) in this process. */
export interface NodeRuntime {
	readonly key: string;
	/** Its running triggers (a save's new one may start before the old one has closed). */
	triggers: number;
	/** Push: the running trigger's engine; the webhook hands it each notification. */
	engine?: MailboxEngine;
	/** The watch this process made for it, and a watch call under way. */
	readonly watches: WatchBook;
	/** Its lasting-failure episode: outlives a trigger that reported it, which n8n starts again. */
	failures: FailureRecord;
	/** What this process knows of its emissions: outlives a trigger, which a save starts again. */
	ledger?: EmissionLedger;
	/** The mailboxes (lower case) whose Gmail watch its triggers hold: Gmail keeps one per mailbox. */
	readonly mailboxes: Set<string>;
}

/** A subscription's use here: the triggers reading it (or pushed through it), and its pending removal. */
export interface SubscriptionUse {
	readonly readers: Set<{ key: string }>;
	removal?: NodeJS.Timeout;
}

const nodes = new Map<string, NodeRuntime>();
const subscriptions = new Map<string, SubscriptionUse>();
/** n8n was told to stop (see removal.ts), whether we listen for that yet, and the push token verifier. */
const processWide: { told: boolean; listening: boolean; verifier?: OAuth2Client } = { told: false, listening: false };

export function engineKey(workflowId: string | undefined, nodeId: string): string {
	return `${workflowId ?? ''}:${nodeId}`;
}

function nodeRuntime(key: string): NodeRuntime {
	let node = nodes.get(key);
	if (!node) nodes.set(key, (node = { key, triggers: 0, watches: {}, failures: {}, mailboxes: new Set() }));
	return node;
}

function dropIfEmpty(key: string): void {
	const node = nodes.get(key);
	if (!node || node.triggers > 0 || node.engine || node.ledger || node.mailboxes.size > 0) return;
	if (node.watches.recorded || node.watches.inFlight || node.failures.episode || node.failures.lapseReported) return;
	nodes.delete(key);
}

/** A trigger of the node starts; the returned function is its leaving (more than once counts once). */
export function enterTrigger(key: string): () => void {
	nodeRuntime(key).triggers += 1;
	let left = false;
	return () => {
		const node = nodes.get(key);
		if (left || !node) return;
		left = true;
		node.triggers -= 1;
		dropIfEmpty(key);
	};
}

export function registerEngine(key: string, engine: MailboxEngine): () => void {
	nodeRuntime(key).engine = engine;
	return () => {
		const node = nodes.get(key);
		if (node?.engine !== engine) return;
		node.engine = undefined;
		dropIfEmpty(key);
	};
}

export function findEngine(key: string): MailboxEngine | undefined {
	return nodes.get(key)?.engine;
}

/** The node's lasting-failure episode in this process (see NodeRuntime.failures). */
export function failureRecordFor(key: string): FailureRecord {
	return nodeRuntime(key).failures;
}

/** A deliberate deactivation or save starts afresh. */
export function forgetFailures(key: string): void {
	const node = nodes.get(key);
	if (!node) return;
	node.failures = {};
	dropIfEmpty(key);
}

/** What this process knows of the node's emissions (engine/emissionLedger). */
export function emissionLedgerFor(key: string, now = Date.now()): EmissionLedger {
	pruneLedgers(now);
	const node = nodeRuntime(key);
	return (node.ledger ??= { outcomes: new Map() });
}

/** A node whose trigger left and whose last emission a restart would no longer look at is forgotten. */
function pruneLedgers(now: number): void {
	for (const node of [...nodes.values()]) {
		const ledger = node.ledger;
		if (!ledger || ledger.current !== undefined || ledger.outcomes.size === 0) continue;
		if (Math.max(...ledger.outcomes.keys()) >= now - UNSETTLED_MAX_AGE_MS) continue;
		node.ledger = undefined;
		dropIfEmpty(node.key);
	}
}

/** The trigger left with nothing handed over: the node's ledger goes (a start makes a new one). */
export function dropLedgerIfIdle(key: string, ledger: EmissionLedger): void {
	const node = nodes.get(key);
	if (ledger.current !== undefined || ledger.outcomes.size > 0 || node?.ledger !== ledger) return;
	node.ledger = undefined;
	dropIfEmpty(key);
}

/** Records that `key` watches `emailAddress`; returns the other nodes that already do. */
export function holdWatch(emailAddress: string, key: string): { others: string[]; release: () => void } {
	const mailbox = emailAddress.toLowerCase();
	const others = watchersOf(mailbox).filter((k) => k !== key);
	const node = nodeRuntime(key);
	node.mailboxes.add(mailbox);
	return {
		others,
		release: () => {
			node.mailboxes.delete(mailbox);
			dropIfEmpty(key);
		},
	};
}

function watchersOf(mailbox: string): string[] {
	return [...nodes.values()].filter((node) => node.mailboxes.has(mailbox)).map((node) => node.key);
}

/** True when a node of this process other than `key` still watches the mailbox. */
export function watchedByOthers(emailAddress: string | undefined, key: string): boolean {
	if (emailAddress === undefined) return false;
	return watchersOf(emailAddress.toLowerCase()).some((k) => k !== key);
}

/** The process's record of the node's watch, shared by create() and the trigger's engine. */
export function watchBookFor(key: string): WatchBook {
	return nodeRuntime(key).watches;
}

export function recordedWatch(key: string): RecordedWatch | undefined {
	return nodes.get(key)?.watches.recorded;
}

/** The node's watch was stopped, or its trigger left: what this process made is no longer live. */
export function forgetRecordedWatch(key: string): void {
	const node = nodes.get(key);
	if (!node) return;
	node.watches.recorded = undefined;
	dropIfEmpty(key);
}

/** The subscription's use here, made when first needed. */
export function subscriptionUse(name: string): SubscriptionUse {
	let use = subscriptions.get(name);
	if (!use) subscriptions.set(name, (use = { readers: new Set() }));
	return use;
}

/** Drops the subscription's use once no trigger reads it and no removal waits. */
export function dropSubscriptionIfUnused(name: string): void {
	const use = subscriptions.get(name);
	if (use && use.readers.size === 0 && use.removal === undefined) subscriptions.delete(name);
}

export function readersOfSubscription(name: string): Array<{ key: string }> {
	return [...(subscriptions.get(name)?.readers ?? [])];
}

/** Takes every pending removal away (n8n is stopping) and returns their timers. */
export function takePendingRemovals(): NodeJS.Timeout[] {
	const timers: NodeJS.Timeout[] = [];
	for (const [name, use] of [...subscriptions]) {
		if (use.removal) timers.push(use.removal);
		use.removal = undefined;
		dropSubscriptionIfUnused(name);
	}
	return timers;
}

/** n8n was told to stop: what its closing triggers do then is no deactivation. */
export function stopTold(): boolean {
	return processWide.told;
}

export function tellStop(): void {
	processWide.told = true;
}

/** True the first time only: whoever gets it listens for n8n's stop signals. */
export function claimStopListening(): boolean {
	if (processWide.listening) return false;
	processWide.listening = true;
	return true;
}

/** One OIDC verifier per process: it caches Google's public keys as their Cache-Control allows. */
export function pushTokenVerifier(): OAuth2Client {
	return (processWide.verifier ??= new OAuth2Client());
}
