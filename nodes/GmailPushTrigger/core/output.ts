/**
 * Gmail message -> n8n item json. "simplified" matches n8n's built-in Gmail Trigger (plus
 * `labelIds`) so downstream expressions survive a swap of triggers; "email" is its Simplify-off
 * item (see ./email); "full" is the Gmail API message with decoded bodies.
 */
import type { SyncedEvent } from './historyEvent';
import type { GmailLabel, GmailMessage, GmailMessagePart, MessageFormat } from './port';
import { parseEmail, type EmailAttachment } from './email';

export type OutputMode = 'simplified' | 'email' | 'full';
export const OUTPUT_MODES: readonly OutputMode[] = ['simplified', 'email', 'full'];

export const SIMPLIFIED_HEADERS = ['From', 'To', 'Cc', 'Bcc', 'Subject'];

export function fetchFormat(output: OutputMode): { format: MessageFormat; metadataHeaders?: string[] } {
	if (output === 'simplified') return { format: 'metadata', metadataHeaders: SIMPLIFIED_HEADERS };
	return { format: output === 'email' ? 'raw' : 'full' };
}

export type ItemJson = Record<string, unknown>;

function eventFields(event: SyncedEvent): ItemJson {
	return { event: event.event, ...(event.changedLabelIds && { changedLabelIds: event.changedLabelIds }) };
}

export function simplifiedItem(event: SyncedEvent, labels: readonly GmailLabel[]): ItemJson {
	const message = structuredClone(event.message) as GmailMessage & ItemJson;
	const item: ItemJson = { ...message };
	if (message.labelIds) {
		item.labels = labels.filter((label) => message.labelIds?.includes(label.id)).map(({ id, name }) => ({ id, name }));
	}
	if (message.payload?.headers) {
		for (const header of message.payload.headers) item[header.name] = header.value;
		const { headers: _lifted, ...payload } = message.payload;
		item.payload = payload;
	}
	return { ...item, ...eventFields(event) };
}

export function decodeBase64Url(data: string, charset = 'utf-8'): string {
	const bytes = Buffer.from(data.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
	try {
		return new TextDecoder(charset).decode(bytes);
	} catch {
		return bytes.toString('utf8');
	}
}

function header(part: GmailMessagePart | undefined, name: string): string | undefined {
	return part?.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

function charsetOf(part: GmailMessagePart): string {
	return /charset="?([^";]+)"?/i.exec(header(part, 'Content-Type') ?? '')?.[1] ?? 'utf-8';
}

interface Bodies {
	text?: string;
	html?: string;
	attachments: Array<{ partId?: string; filename: string; mimeType?: string; size?: number; attachmentId?: string }>;
}

/** Walks the MIME tree: first text/plain and text/html bodies win; named parts are attachments. */
export function collectBodies(part: GmailMessagePart | undefined, into: Bodies = { attachments: [] }): Bodies {
	if (!part) return into;
	if (part.filename) {
		into.attachments.push({
			partId: part.partId,
			filename: part.filename,
			mimeType: part.mimeType,
			size: part.body?.size,
			attachmentId: part.body?.attachmentId,
		});
	} else if (part.body?.data && part.mimeType === 'text/plain' && into.text === undefined) {
		into.text = decodeBase64Url(part.body.data, charsetOf(part));
	} else if (part.body?.data && part.mimeType === 'text/html' && into.html === undefined) {
		into.html = decodeBase64Url(part.body.data, charsetOf(part));
	}
	for (const child of part.parts ?? []) collectBodies(child, into);
	return into;
}

export function fullItem(event: SyncedEvent): ItemJson {
	const message = event.message;
	const headers: Record<string, string> = {};
	for (const h of message.payload?.headers ?? []) headers[h.name.toLowerCase()] = h.value;
	const bodies = collectBodies(message.payload);
	return {
		id: message.id,
		threadId: message.threadId,
		labelIds: message.labelIds ?? [],
		snippet: message.snippet,
		historyId: message.historyId,
		internalDate: message.internalDate,
		sizeEstimate: message.sizeEstimate,
		date: message.internalDate ? new Date(Number(message.internalDate)).toISOString() : headers.date,
		from: headers.from,
		to: headers.to,
		cc: headers.cc,
		bcc: headers.bcc,
		replyTo: headers['reply-to'],
		subject: headers.subject,
		messageId: headers['message-id'],
		text: bodies.text,
		html: bodies.html,
		attachments: bodies.attachments,
		headers,
		...eventFields(event),
	};
}

/** A deleted message cannot be fetched: its item carries what history said. */
export function deletedItem(event: SyncedEvent): ItemJson {
	return { id: event.ref.id, threadId: event.ref.threadId, labelIds: event.ref.labelIds ?? [], ...eventFields(event) };
}

/** One item to emit; `attachments` are turned into n8n binary data by the shell. */
export interface OutputItem {
	json: ItemJson;
	attachments?: EmailAttachment[];
	/** n8n binary data, once the shell has stored the attachments. */
	binary?: Record<string, unknown>;
}

export interface RenderOptions {
	/** "email" output: hand the attachments (inline images included) on as files. */
	downloadAttachments?: boolean;
}

export async function toOutputItem(
	event: SyncedEvent,
	output: OutputMode,
	labels: readonly GmailLabel[],
	options: RenderOptions = {},
): Promise<OutputItem> {
	if (event.event === 'messageDeleted') return { json: deletedItem(event) };
	if (output === 'simplified') return { json: simplifiedItem(event, labels) };
	if (output === 'full') return { json: fullItem(event) };
	const email = await parseEmail(event.message);
	return {
		json: { ...email.json, ...eventFields(event) },
		...(options.downloadAttachments && email.attachments.length > 0 && { attachments: email.attachments }),
	};
}

/** One at a time: a parsed email holds its attachments in memory until it is emitted. */
export async function toOutputItems(
	events: readonly SyncedEvent[],
	output: OutputMode,
	labels: readonly GmailLabel[],
	options: RenderOptions = {},
): Promise<OutputItem[]> {
	const items: OutputItem[] = [];
	for (const event of events) items.push(await toOutputItem(event, output, labels, options));
	return items;
}
