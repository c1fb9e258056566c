/**
 * The small Gmail interface the core needs. `transport/gmail.ts` implements it over Gmail's
 * REST API; tests run it against a fake Gmail served over HTTP.
 * Shapes follow the Gmail REST API v1 (only the fields we read are typed).
 */

export type HistoryType = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';
export const HISTORY_TYPES: readonly HistoryType[] = [
	'messageAdded',
	'messageDeleted',
	'labelAdded',
	'labelRemoved',
];

export type MessageFormat = 'minimal' | 'metadata' | 'full' | 'raw';

export interface GmailMessageRef {
	id: string;
	threadId?: string;
	labelIds?: string[];
}

export interface GmailHeader {
	name: string;
	value: string;
}

export interface GmailMessagePart {
	partId?: string;
	mimeType?: string;
	filename?: string;
	headers?: GmailHeader[];
	body?: { size?: number; data?: string; attachmentId?: string };
	parts?: GmailMessagePart[];
}

export interface GmailMessage extends GmailMessageRef {
	snippet?: string;
	historyId?: string;
	internalDate?: string;
	sizeEstimate?: number;
	payload?: GmailMessagePart;
	raw?: string;
}

export interface GmailHistoryRecord {
	id: string;
	messages?: GmailMessageRef[];
	messagesAdded?: Array<{ message: GmailMessageRef }>;
	messagesDeleted?: Array<{ message: GmailMessageRef }>;
	labelsAdded?: Array<{ message: GmailMessageRef; labelIds?: string[] }>;
	labelsRemoved?: Array<{ message: GmailMessageRef; labelIds?: string[] }>;
}

export interface GmailHistoryPage {
	history?: GmailHistoryRecord[];
	/** The mailbox's current historyId at the time of the call. */
	historyId?: string;
	nextPageToken?: string;
}

export interface ListHistoryRequest {
	startHistoryId: string;
	historyTypes: HistoryType[];
	labelId?: string;
	pageToken?: string;
	maxResults?: number;
}

export interface ListMessagesRequest {
	q?: string;
	labelIds?: string[];
	includeSpamTrash?: boolean;
	maxResults?: number;
	pageToken?: string;
}

export interface WatchRequest {
	topicName: string;
	labelIds?: string[];
	labelFilterBehavior?: 'INCLUDE' | 'EXCLUDE';
}

export interface WatchResponse {
	historyId: string;
	/** Epoch milliseconds, as a decimal string. */
	expiration: string;
}

export interface GmailLabel {
	id: string;
	name: string;
}

export interface GmailPort {
	listHistory(request: ListHistoryRequest): Promise<GmailHistoryPage>;
	/** Resolves to undefined when Gmail answers 404 (the message is gone). */
	getMessage(id: string, format: MessageFormat, metadataHeaders?: string[]): Promise<GmailMessage | undefined>;
	listMessages(request: ListMessagesRequest): Promise<{ messages: GmailMessageRef[]; nextPageToken?: string }>;
	listLabels(): Promise<GmailLabel[]>;
	getProfile(): Promise<{ emailAddress: string; historyId: string }>;
	watch(request: WatchRequest): Promise<WatchResponse>;
	stop(): Promise<void>;
}

/**
 * A Gmail API failure as the core sees it: the HTTP status decides what happens
 * (404 on history.list = stale cursor; 429/5xx = retry later; 401/403 = fix the set-up).
 */
export class GmailApiError extends Error {
	constructor(
		message: string,
		readonly status: number,
		readonly reason?: string,
		readonly retryAfterMs?: number,
	) {
		super(message);
		this.name = 'GmailApiError';
	}

	get retryable(): boolean {
		return this.status === 429 || this.status >= 500 || this.status === 0;
	}
}
