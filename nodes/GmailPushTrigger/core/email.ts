/**
 * A raw Gmail message -> the item n8n's built-in Gmail Trigger gives with Simplify off (same
 * mailparser), so the nodes after it keep working when a user swaps triggers. Unlike the
 * built-in we hand mailparser the bytes, not UTF-8 text, so a declared 8-bit charset survives.
 */
import { simpleParser } from 'mailparser';
import type { GmailMessage } from './port';

export interface EmailAttachment {
	content: Buffer;
	filename?: string;
	contentType: string;
}

export interface ParsedEmail {
	json: Record<string, unknown>;
	/** In the order the built-in numbers them (attachment_0, attachment_1, …), inline images included. */
	attachments: EmailAttachment[];
}

export function rawBytes(message: GmailMessage): Buffer {
	if (typeof message.raw !== 'string') throw new Error(`Gmail returned message ${message.id} without its raw content`);
	// Gmail's raw is base64url; Buffer's base64 decoder reads both alphabets.
	return Buffer.from(message.raw, 'base64');
}

export async function parseEmail(message: GmailMessage): Promise<ParsedEmail> {
	const raw = rawBytes(message);
	// The raw string is no longer needed: let it go before mailparser allocates its copies.
	delete message.raw;
	// mailparser's defaults, as the built-in: inline images (cid:) become data: URIs in `html`.
	const parsed = await simpleParser(raw);
	const headers: Record<string, string> = {};
	for (const line of parsed.headerLines) headers[line.key] = line.line;
	const { headerLines: _lines, attachments, headers: _map, date, ...rest } = parsed;
	const json: Record<string, unknown> = {
		id: message.id,
		threadId: message.threadId,
		labelIds: message.labelIds,
		sizeEstimate: message.sizeEstimate,
		...rest,
		headers,
		date: date ? date.toISOString() : date,
	};
	return {
		json,
		attachments: attachments.map((a) => ({ content: a.content, filename: a.filename, contentType: a.contentType })),
	};
}
