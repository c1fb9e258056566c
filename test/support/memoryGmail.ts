/**
 * An in-memory Gmail behind the GmailPort interface, for clock-driven engine tests: a mailbox
 * whose history grows as mail arrives, a watch that expires in 7 days (by the given clock), and
 * failures injected per method. Every call is recorded. The HTTP-level fake is test/support/fakeGoogle.
 */
import {
	GmailApiError,
	type GmailHistoryPage,
	type GmailHistoryRecord,
	type GmailLabel,
	type GmailMessage,
	type GmailMessageRef,
	type GmailPort,
	type ListHistoryRequest,
	type WatchRequest,
	type WatchResponse,
} from '../../nodes/GmailPushTrigger/core/port';

export type GmailMethod = keyof GmailPort;

const WATCH_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export class MemoryGmail implements GmailPort {
	/** Every call, with the clock's time. */
	readonly calls: Array<{ method: GmailMethod; at: number }> = [];
	historyId = 1000;
	/** The watch Gmail keeps for the mailbox. */
	activeWatch?: WatchRequest & { expiration: number };
	private readonly records: GmailHistoryRecord[] = [];
	private readonly messages = new Map<string, GmailMessage>();
	private readonly faults = new Map<GmailMethod, { error: Error; times: number }>();
	private sent = 0;

	constructor(
		private readonly now: () => number,
		readonly emailAddress = 'user@example.com',
	) {}

	/** A new email in the inbox; returns its id (16 hex digits, as Gmail's). */
	deliver(subject = `mail ${this.sent + 1}`): string {
		this.sent += 1;
		const id = (0x18f0000000000000n + BigInt(this.sent)).toString(16);
		this.historyId += 1;
		const ref: GmailMessageRef = { id, threadId: id, labelIds: ['INBOX'] };
		this.messages.set(id, {
			...ref,
			historyId: String(this.historyId),
			internalDate: String(this.now()),
			payload: { headers: [{ name: 'Subject', value: subject }] },
		});
		this.records.push({ id: String(this.historyId), messages: [ref], messagesAdded: [{ message: ref }] });
		return id;
	}

	/** The next `times` calls of `method` fail with `error` (Infinity: until `heal`). */
	failNext(method: GmailMethod, error: Error, times = 1): void {
		this.faults.set(method, { error, times });
	}

	heal(method: GmailMethod): void {
		this.faults.delete(method);
	}

	count(method: GmailMethod): number {
		return this.calls.filter((c) => c.method === method).length;
	}

	private call(method: GmailMethod): void {
		this.calls.push({ method, at: this.now() });
		const fault = this.faults.get(method);
		if (!fault) return;
		if (--fault.times <= 0) this.faults.delete(method);
		throw fault.error;
	}

	async listHistory(request: ListHistoryRequest): Promise<GmailHistoryPage> {
		this.call('listHistory');
		const history = this.records.filter((r) => BigInt(r.id) > BigInt(request.startHistoryId));
		return { history, historyId: String(this.historyId) };
	}

	async getMessage(id: string): Promise<GmailMessage | undefined> {
		this.call('getMessage');
		const message = this.messages.get(id);
		return message && structuredClone(message);
	}

	async listMessages(): Promise<{ messages: GmailMessageRef[] }> {
		this.call('listMessages');
		return { messages: [...this.messages.values()].map(({ id, threadId }) => ({ id, threadId })).reverse() };
	}

	async listLabels(): Promise<GmailLabel[]> {
		this.call('listLabels');
		return [{ id: 'INBOX', name: 'INBOX' }];
	}

	async getProfile(): Promise<{ emailAddress: string; historyId: string }> {
		this.call('getProfile');
		return { emailAddress: this.emailAddress, historyId: String(this.historyId) };
	}

	async watch(request: WatchRequest): Promise<WatchResponse> {
		this.call('watch');
		this.activeWatch = { ...request, expiration: this.now() + WATCH_LIFETIME_MS };
		return { historyId: String(this.historyId), expiration: String(this.activeWatch.expiration) };
	}

	async stop(): Promise<void> {
		this.call('stop');
		this.activeWatch = undefined;
	}

	/** True while Gmail would still publish notifications for the mailbox. */
	watching(): boolean {
		return this.activeWatch !== undefined && this.now() < this.activeWatch.expiration;
	}
}

/** Gmail's answer when the Gmail scope was taken away: lasting (core/failure). */
export function scopeRevoked(): GmailApiError {
	return new GmailApiError('Gmail history.list failed (403): Request had insufficient authentication scopes.', 403, 'insufficientPermissions');
}

/** A 503: transient, heals by retrying. */
export function unavailable(): GmailApiError {
	return new GmailApiError('Gmail failed (503): The service is currently unavailable.', 503);
}
