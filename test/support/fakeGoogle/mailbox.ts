/**
 * The fake mailbox: messages, labels and the history log that Gmail's history.list exposes.
 *
 * History ids are uint64 decimals on Gmail. They are kept as BigInt here and advance by random
 * gaps (1..50), because real ids are not contiguous and clients must not assume they are.
 */
import { buildMessage, parseRawMessage, type AttachmentInput, type BuiltMessage } from './mime';
import { randomInt, seededRandom, type Random } from './random';
import { systemLabels, type GmailLabel } from './labels';

export type HistoryType = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';
export const HISTORY_TYPES: readonly HistoryType[] = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

export interface DeliverInput {
	from?: string;
	to?: string;
	cc?: string;
	subject?: string;
	text?: string;
	html?: string;
	/** Default for deliver(): ['INBOX', 'UNREAD']. */
	labelIds?: string[];
	/** Date header and internalDate (Gmail's receive time). Default: now. */
	date?: Date | string | number;
	attachments?: AttachmentInput[];
	/** Put the message into an existing thread (default: a new thread named after the message id). */
	threadId?: string;
	/** Extra raw headers, e.g. {'In-Reply-To': '<x@y>'}. */
	headers?: Record<string, string>;
}

export interface StoredMessage {
	readonly id: string;
	readonly threadId: string;
	labelIds: string[];
	/** Epoch ms. */
	readonly internalDate: number;
	/** Id of the last history record that modified this message. */
	historyId: bigint;
	readonly from: string;
	readonly to: string;
	readonly cc?: string;
	readonly subject: string;
	readonly text: string;
	readonly html?: string;
	readonly messageIdHeader: string;
	readonly built: BuiltMessage;
	deleted: boolean;
	/** Epoch ms the message entered the mailbox (internalDate may be set to any date). */
	readonly addedAt: number;
}

export interface MessageRef {
	id: string;
	threadId: string;
}

/** One history record as history.list returns it. */
export interface HistoryRecord {
	id: string;
	messages: MessageRef[];
	messagesAdded?: Array<{ message: MessageRef & { labelIds: string[] } }>;
	messagesDeleted?: Array<{ message: MessageRef }>;
	labelsAdded?: Array<{ message: MessageRef & { labelIds: string[] }; labelIds: string[] }>;
	labelsRemoved?: Array<{ message: MessageRef & { labelIds: string[] }; labelIds: string[] }>;
}

interface HistoryEvent {
	id: bigint;
	type: HistoryType;
	ref: MessageRef;
	/** Labels of the message right after the change (before it, for deletions). */
	labelIds: string[];
	/** Labels added or removed by a label change. */
	changed: string[];
}

export interface WatchState {
	topicName: string;
	labelIds: string[];
	labelFilterBehavior: 'INCLUDE' | 'EXCLUDE';
	historyId: string;
	expiration: string;
	createdAt: number;
}

export interface MailboxChange {
	record: HistoryRecord;
	historyId: string;
	/** Whether Gmail would publish a Pub/Sub notification for this change, given the active watch. */
	notifies: boolean;
	/** The Pub/Sub message `data` Gmail would publish (JSON text), see Mailbox.notificationData. */
	notificationData: string;
}

export interface HistoryQuery {
	startHistoryId: bigint;
	/** Continue after this record id (pagination cursor). */
	afterId?: bigint;
	types?: ReadonlySet<HistoryType>;
	labelId?: string;
	maxResults: number;
}

export interface MailboxOptions {
	emailAddress: string;
	startHistoryId?: string;
	seed?: number;
}

const UINT64_MAX = (1n << 64n) - 1n;

export function parseHistoryId(value: string): bigint | undefined {
	if (!/^\d{1,20}$/.test(value)) return undefined;
	const n = BigInt(value);
	return n <= UINT64_MAX ? n : undefined;
}

export class Mailbox {
	readonly emailAddress: string;
	/** The active users.watch, if any (set by the watch endpoint, cleared by stop). */
	watch: WatchState | undefined;
	/**
	 * Gmail's rate limit on notifications: at most one per this many ms per mailbox, the rest
	 * dropped (Google's guide: "at most one notification per second per user"; 1000 plays
	 * that). 0 (the default): every covered change notifies, which most suites rely on.
	 */
	notificationGapMs = 0;
	/** Changes whose notification the rate limit dropped. */
	droppedNotifications = 0;
	/**
	 * Gmail's search index learns a new message a little after it arrives: for this many ms
	 * messages.list with a `q` does not find it (history.list, messages.get and a listing
	 * without `q` do). 0 (the default): the index is never behind.
	 */
	searchLagMs = 0;

	private lastNotifiedAt = -Infinity;
	private current: bigint;
	private oldestAvailable: bigint;
	private readonly random: Random;
	private readonly events: HistoryEvent[] = [];
	private readonly messages = new Map<string, StoredMessage>();
	private readonly userLabels: GmailLabel[] = [];
	private readonly listeners = new Set<(change: MailboxChange) => void>();
	private lastIdValue = 0n;
	private nextUserLabel = 1;

	constructor(options: MailboxOptions) {
		this.emailAddress = options.emailAddress;
		const start = parseHistoryId(options.startHistoryId ?? '4000000');
		if (start === undefined) throw new Error(`startHistoryId must be a uint64 decimal: ${options.startHistoryId}`);
		this.current = start;
		this.oldestAvailable = start;
		this.random = seededRandom(options.seed ?? 20240501);
	}

	/** Current mailbox history id (decimal string, like Gmail). */
	get historyId(): string {
		return this.current.toString();
	}

	get historyIdBigInt(): bigint {
		return this.current;
	}

	// ---- mutations used by tests ------------------------------------------------------------

	deliver(input: DeliverInput = {}): StoredMessage {
		return this.create(input, input.labelIds ?? ['INBOX', 'UNREAD'], input.from ?? 'Sender <sender@example.org>', input.to ?? this.emailAddress);
	}

	/**
	 * An email given as its raw RFC 822 bytes (any charset, structure or encoding), as a mail
	 * server hands it to Gmail; format=full and metadata are derived from those bytes.
	 */
	deliverRaw(raw: Buffer | string, options: { labelIds?: string[]; date?: Date | string | number; threadId?: string } = {}): StoredMessage {
		const labelIds = options.labelIds ?? ['INBOX', 'UNREAD'];
		this.requireLabels(labelIds);
		const id = this.newMessageId();
		const threadId = options.threadId ?? id;
		const bytes = typeof raw === 'string' ? Buffer.from(raw.replace(/\r?\n/g, '\r\n'), 'utf8') : raw;
		const parsed = parseRawMessage(bytes, id);
		const date = options.date === undefined ? new Date() : new Date(options.date);
		return this.store(
			{
				id,
				threadId,
				internalDate: date.getTime(),
				from: parsed.headers.from ?? '',
				to: parsed.headers.to ?? '',
				cc: parsed.headers.cc,
				subject: parsed.headers.subject ?? '',
				text: parsed.text,
				html: parsed.html,
				messageIdHeader: parsed.headers['message-id'] ?? `<fake.${id}@mail.example.org>`,
				built: parsed,
			},
			labelIds,
		);
	}

	/** A draft (DRAFT label only), as Gmail stores it while the user types. */
	saveDraft(input: DeliverInput = {}): StoredMessage {
		return this.create(input, input.labelIds ?? ['DRAFT'], input.from ?? this.emailAddress, input.to ?? 'someone@example.org');
	}

	/** A message the user sent (SENT label only). */
	sendMail(input: DeliverInput = {}): StoredMessage {
		return this.create(input, input.labelIds ?? ['SENT'], input.from ?? this.emailAddress, input.to ?? 'someone@example.org');
	}

	addLabels(id: string, labelIds: string[]): HistoryRecord | undefined {
		const msg = this.requireMessage(id);
		this.requireLabels(labelIds);
		const added = [...new Set(labelIds)].filter((l) => !msg.labelIds.includes(l));
		if (added.length === 0) return undefined; // Gmail records no history for a no-op change
		msg.labelIds = [...msg.labelIds, ...added];
		return this.record('labelAdded', msg, added);
	}

	removeLabels(id: string, labelIds: string[]): HistoryRecord | undefined {
		const msg = this.requireMessage(id);
		const removed = [...new Set(labelIds)].filter((l) => msg.labelIds.includes(l));
		if (removed.length === 0) return undefined;
		msg.labelIds = msg.labelIds.filter((l) => !removed.includes(l));
		return this.record('labelRemoved', msg, removed);
	}

	markRead(id: string): HistoryRecord | undefined {
		return this.removeLabels(id, ['UNREAD']);
	}

	/** Permanent delete (not trash): afterwards messages.get returns 404. */
	deleteMessage(id: string): HistoryRecord {
		const msg = this.requireMessage(id);
		msg.deleted = true;
		return this.record('messageDeleted', msg, []);
	}

	/** Bump the history id without a visible record (Gmail does this for changes history.list does not show). */
	advanceHistoryId(): string {
		this.bump();
		return this.historyId;
	}

	/** history.list with an older startHistoryId answers 404, as after Gmail's history retention ran out. */
	expireHistoryBefore(historyId: string | bigint): void {
		this.oldestAvailable = typeof historyId === 'bigint' ? historyId : BigInt(historyId);
	}

	/** Only the current history id stays usable as a startHistoryId. */
	expireAllHistory(): void {
		this.oldestAvailable = this.current;
	}

	addUserLabel(name: string): GmailLabel {
		const label: GmailLabel = {
			id: `Label_${this.nextUserLabel++}`,
			name,
			type: 'user',
			messageListVisibility: 'show',
			labelListVisibility: 'labelShow',
		};
		this.userLabels.push(label);
		return label;
	}

	/** Listen to every history record as it is written (e.g. to publish Pub/Sub notifications). */
	subscribe(listener: (change: MailboxChange) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/**
	 * The `data` of the Pub/Sub message Gmail publishes: `{"emailAddress":"…","historyId":N}`.
	 * historyId is an unquoted JSON number, as Gmail sends it, so ids above 2^53 lose precision
	 * in a naive JSON.parse; that is deliberate.
	 */
	notificationData(historyId: string = this.historyId): string {
		return `{"emailAddress":${JSON.stringify(this.emailAddress)},"historyId":${historyId}}`;
	}

	// ---- reads used by the HTTP layer -------------------------------------------------------

	labels(): GmailLabel[] {
		return [...systemLabels(), ...this.userLabels.map((l) => ({ ...l }))];
	}

	/** A live (not deleted) message. */
	getMessage(id: string): StoredMessage | undefined {
		const msg = this.messages.get(id);
		return msg && !msg.deleted ? msg : undefined;
	}

	/** Live messages, in insertion order. */
	allMessages(): StoredMessage[] {
		return [...this.messages.values()].filter((m) => !m.deleted);
	}

	profile(): { emailAddress: string; messagesTotal: number; threadsTotal: number; historyId: string } {
		const live = this.allMessages();
		return {
			emailAddress: this.emailAddress,
			messagesTotal: live.length,
			threadsTotal: new Set(live.map((m) => m.threadId)).size,
			historyId: this.historyId,
		};
	}

	isHistoryAvailable(startHistoryId: bigint): boolean {
		return startHistoryId >= this.oldestAvailable;
	}

	/** Records with id > startHistoryId (and > afterId), filtered, at most maxResults; `more` if others follow. */
	listHistory(query: HistoryQuery): { records: HistoryRecord[]; lastId?: bigint; more: boolean } {
		const floor = query.afterId !== undefined && query.afterId > query.startHistoryId ? query.afterId : query.startHistoryId;
		const matching = this.events.filter(
			(e) =>
				e.id > floor &&
				(!query.types || query.types.has(e.type)) &&
				(!query.labelId || e.labelIds.includes(query.labelId) || e.changed.includes(query.labelId)),
		);
		const page = matching.slice(0, query.maxResults);
		return { records: page.map(toRecord), lastId: page[page.length - 1]?.id, more: matching.length > page.length };
	}

	labelExists(id: string): boolean {
		return this.labels().some((l) => l.id === id);
	}

	// ---- internals ---------------------------------------------------------------------------

	private create(input: DeliverInput, labelIds: string[], from: string, to: string): StoredMessage {
		this.requireLabels(labelIds);
		const id = this.newMessageId();
		let threadId = id;
		if (input.threadId !== undefined) {
			if (![...this.messages.values()].some((m) => m.threadId === input.threadId)) throw new Error(`unknown threadId ${input.threadId}`);
			threadId = input.threadId;
		}
		const date = input.date === undefined ? new Date() : new Date(input.date);
		if (Number.isNaN(date.getTime())) throw new Error(`invalid date ${String(input.date)}`);
		const messageIdHeader = `<fake.${id}@mail.example.org>`;
		const subject = input.subject ?? '(no subject)';
		const text = input.text ?? '';
		const built = buildMessage(
			{
				from,
				to,
				cc: input.cc,
				subject,
				text,
				html: input.html,
				date,
				messageIdHeader,
				extraHeaders: Object.entries(input.headers ?? {}),
				attachments: input.attachments ?? [],
			},
			id,
		);
		return this.store({ id, threadId, internalDate: date.getTime(), from, to, cc: input.cc, subject, text, html: input.html, messageIdHeader, built }, labelIds);
	}

	/** Keeps a new message and records its messageAdded: the one way mail enters the mailbox. */
	private store(content: Omit<StoredMessage, 'labelIds' | 'historyId' | 'deleted' | 'addedAt'>, labelIds: string[]): StoredMessage {
		const msg: StoredMessage = { ...content, labelIds: [...new Set(labelIds)], historyId: 0n, deleted: false, addedAt: Date.now() };
		this.messages.set(msg.id, msg);
		this.record('messageAdded', msg, []);
		return msg;
	}

	private record(type: HistoryType, msg: StoredMessage, changed: string[]): HistoryRecord {
		this.bump();
		msg.historyId = this.current;
		const event: HistoryEvent = { id: this.current, type, ref: { id: msg.id, threadId: msg.threadId }, labelIds: [...msg.labelIds], changed };
		this.events.push(event);
		const record = toRecord(event);
		const change: MailboxChange = {
			record,
			historyId: this.historyId,
			notifies: this.watchNotifies(event) && this.withinRateLimit(),
			notificationData: this.notificationData(),
		};
		for (const listener of this.listeners) listener(change);
		return record;
	}

	/** Takes a notification slot when the last one is at least notificationGapMs old, else drops it. */
	private withinRateLimit(): boolean {
		const now = Date.now();
		if (now - this.lastNotifiedAt < this.notificationGapMs) {
			this.droppedNotifications++;
			return false;
		}
		this.lastNotifiedAt = now;
		return true;
	}

	/** Gmail only publishes for changes touching the watched labels (INCLUDE) or other labels (EXCLUDE). */
	private watchNotifies(event: HistoryEvent): boolean {
		const watch = this.watch;
		if (!watch || Number(watch.expiration) < Date.now()) return false;
		if (watch.labelIds.length === 0) return true;
		const touched = [...event.labelIds, ...event.changed];
		const hit = touched.some((l) => watch.labelIds.includes(l));
		return watch.labelFilterBehavior === 'INCLUDE' ? hit : touched.some((l) => !watch.labelIds.includes(l));
	}

	private bump(): void {
		this.current += BigInt(randomInt(this.random, 1, 50));
	}

	/** 16 hex digits, time-ordered like real Gmail ids (ms timestamp << 20 | sequence). */
	private newMessageId(): string {
		const fromClock = BigInt(Date.now()) << 20n;
		this.lastIdValue = fromClock > this.lastIdValue ? fromClock : this.lastIdValue + 1n;
		return this.lastIdValue.toString(16).padStart(16, '0');
	}

	private requireMessage(id: string): StoredMessage {
		const msg = this.getMessage(id);
		if (!msg) throw new Error(`fake Gmail: no live message ${id}`);
		return msg;
	}

	private requireLabels(labelIds: string[]): void {
		for (const l of labelIds) if (!this.labelExists(l)) throw new Error(`fake Gmail: unknown label ${l}`);
	}
}

function toRecord(e: HistoryEvent): HistoryRecord {
	const ref = { ...e.ref };
	const withLabels = { ...e.ref, labelIds: [...e.labelIds] };
	const record: HistoryRecord = { id: e.id.toString(), messages: [ref] };
	if (e.type === 'messageAdded') record.messagesAdded = [{ message: withLabels }];
	if (e.type === 'messageDeleted') record.messagesDeleted = [{ message: { ...e.ref } }];
	if (e.type === 'labelAdded') record.labelsAdded = [{ message: withLabels, labelIds: [...e.changed] }];
	if (e.type === 'labelRemoved') record.labelsRemoved = [{ message: withLabels, labelIds: [...e.changed] }];
	return record;
}
