import {
	SIMPLIFIED_HEADERS,
	collectBodies,
	decodeBase64Url,
	deletedItem,
	fetchFormat,
	fullItem,
	simplifiedItem,
	toOutputItem,
} from '../../nodes/GmailPushTrigger/core/output';
import type { GmailLabel, GmailMessage } from '../../nodes/GmailPushTrigger/core/port';
import type { SyncedEvent } from '../../nodes/GmailPushTrigger/core/historyEvent';

const LABELS: GmailLabel[] = [
	{ id: 'CHAT', name: 'CHAT' },
	{ id: 'INBOX', name: 'INBOX' },
	{ id: 'UNREAD', name: 'UNREAD' },
	{ id: 'IMPORTANT', name: 'IMPORTANT' },
	{ id: 'Label_7', name: 'Invoices' },
];

const b64url = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64url');

function synced(message: GmailMessage, overrides: Partial<SyncedEvent> = {}): SyncedEvent {
	return {
		key: `added:${message.id}`,
		event: 'messageAdded',
		historyId: '4000010',
		ref: { id: message.id, threadId: message.threadId },
		message,
		...overrides,
	};
}

/** What messages.get?format=metadata&metadataHeaders=From,... returns. */
function metadataMessage(): GmailMessage {
	return {
		id: '18f2c3a4b5d6e7f8',
		threadId: '18f2c3a4b5d6e7f8',
		labelIds: ['UNREAD', 'IMPORTANT', 'Label_7', 'INBOX'],
		snippet: 'Please find the invoice attached',
		historyId: '4000010',
		internalDate: '1714557600000',
		sizeEstimate: 5123,
		payload: {
			partId: '',
			mimeType: 'multipart/mixed',
			filename: '',
			headers: [
				{ name: 'From', value: 'Billing <billing@example.org>' },
				{ name: 'To', value: 'user@example.com' },
				{ name: 'Cc', value: 'boss@example.com' },
				{ name: 'Subject', value: 'Invoice 42' },
			],
			body: { size: 0 },
		},
	};
}

describe('fetchFormat', () => {
	it('simplified fetches metadata with the headers the built-in trigger lifts', () => {
		expect(fetchFormat('simplified')).toEqual({ format: 'metadata', metadataHeaders: ['From', 'To', 'Cc', 'Bcc', 'Subject'] });
		expect(SIMPLIFIED_HEADERS).toEqual(['From', 'To', 'Cc', 'Bcc', 'Subject']);
	});

	it('full fetches the full message', () => {
		expect(fetchFormat('full')).toEqual({ format: 'full' });
	});
});

describe('simplifiedItem (the shape of n8n’s built-in Gmail Trigger, simple mode)', () => {
	it('lifts the headers, drops payload.headers, resolves labels and adds labelIds and event', () => {
		const message = metadataMessage();
		expect(simplifiedItem(synced(message), LABELS)).toEqual({
			id: '18f2c3a4b5d6e7f8',
			threadId: '18f2c3a4b5d6e7f8',
			snippet: 'Please find the invoice attached',
			historyId: '4000010',
			internalDate: '1714557600000',
			sizeEstimate: 5123,
			payload: { partId: '', mimeType: 'multipart/mixed', filename: '', body: { size: 0 } },
			From: 'Billing <billing@example.org>',
			To: 'user@example.com',
			Cc: 'boss@example.com',
			Subject: 'Invoice 42',
			// Like the built-in trigger: the label list's order, only labels the message has.
			labels: [
				{ id: 'INBOX', name: 'INBOX' },
				{ id: 'UNREAD', name: 'UNREAD' },
				{ id: 'IMPORTANT', name: 'IMPORTANT' },
				{ id: 'Label_7', name: 'Invoices' },
			],
			// Ours in addition.
			labelIds: ['UNREAD', 'IMPORTANT', 'Label_7', 'INBOX'],
			event: 'messageAdded',
		});
	});

	it('does not change the fetched message (items are independent copies)', () => {
		const message = metadataMessage();
		const before = structuredClone(message);
		const item = simplifiedItem(synced(message), LABELS);
		expect(message).toEqual(before);
		(item.payload as Record<string, unknown>).mimeType = 'changed';
		expect(message.payload?.mimeType).toBe('multipart/mixed');
	});

	it('leaves out labels a message does not carry and labels the list does not know', () => {
		const message = { ...metadataMessage(), labelIds: ['INBOX', 'Label_unknown'] };
		expect(simplifiedItem(synced(message), LABELS).labels).toEqual([{ id: 'INBOX', name: 'INBOX' }]);
	});

	it('has no labels key when the message has no labelIds, and works without a payload', () => {
		const item = simplifiedItem(synced({ id: 'x', threadId: 'x' }), LABELS);
		expect(item).toEqual({ id: 'x', threadId: 'x', event: 'messageAdded' });
	});

	it('carries the changed labels of a label event', () => {
		const item = simplifiedItem(synced(metadataMessage(), { event: 'labelAdded', changedLabelIds: ['Label_7'] }), LABELS);
		expect(item).toMatchObject({ event: 'labelAdded', changedLabelIds: ['Label_7'] });
	});
});

describe('decodeBase64Url', () => {
	it('decodes base64url and standard base64, with or without padding', () => {
		const text = 'Grüße ?>~ ünïcødé';
		const url = b64url(text);
		expect(url).toMatch(/[-_]/);
		expect(decodeBase64Url(url)).toBe(text);
		expect(decodeBase64Url(Buffer.from(text).toString('base64'))).toBe(text);
	});

	it('decodes in the given charset', () => {
		expect(decodeBase64Url(b64url(Buffer.from('café', 'latin1')), 'iso-8859-1')).toBe('café');
	});

	it('falls back to UTF-8 for an unknown charset', () => {
		expect(decodeBase64Url(b64url('héllo'), 'x-no-such-charset')).toBe('héllo');
	});
});

describe('fullItem', () => {
	const text = 'Hello Ünïcode ?>?> world';
	const html = '<p>Café crème à la carte</p>';
	const message: GmailMessage = {
		id: '18f2c3a4b5d6e800',
		threadId: '18f2c3a4b5d6e7f8',
		labelIds: ['INBOX'],
		snippet: 'Hello Ünïcode',
		historyId: '4000020',
		internalDate: '1714557600000',
		sizeEstimate: 9000,
		payload: {
			partId: '',
			mimeType: 'multipart/mixed',
			filename: '',
			headers: [
				{ name: 'From', value: 'Alice <alice@example.org>' },
				{ name: 'To', value: 'user@example.com' },
				{ name: 'CC', value: 'carol@example.org' },
				{ name: 'Reply-To', value: 'replies@example.org' },
				{ name: 'Subject', value: 'Menu' },
				{ name: 'Message-ID', value: '<menu-1@example.org>' },
				{ name: 'Date', value: 'Wed, 1 May 2024 10:00:00 +0000' },
			],
			body: { size: 0 },
			parts: [
				{
					partId: '0',
					mimeType: 'multipart/alternative',
					filename: '',
					headers: [{ name: 'Content-Type', value: 'multipart/alternative; boundary="b2"' }],
					body: { size: 0 },
					parts: [
						{
							partId: '0.0',
							mimeType: 'text/plain',
							filename: '',
							headers: [{ name: 'Content-Type', value: 'text/plain; charset=UTF-8' }],
							body: { size: Buffer.byteLength(text), data: b64url(text) },
						},
						{
							partId: '0.1',
							mimeType: 'text/html',
							filename: '',
							headers: [{ name: 'Content-Type', value: 'text/html; charset="ISO-8859-1"' }],
							body: { size: html.length, data: b64url(Buffer.from(html, 'latin1')) },
						},
					],
				},
				{
					partId: '1',
					mimeType: 'application/pdf',
					filename: 'menu.pdf',
					headers: [{ name: 'Content-Type', value: 'application/pdf; name="menu.pdf"' }],
					body: { size: 20480, attachmentId: 'ANGjdJ-attachment-1' },
				},
				{
					partId: '2',
					mimeType: 'text/plain',
					filename: 'notes.txt',
					headers: [{ name: 'Content-Type', value: 'text/plain; charset=UTF-8' }],
					body: { size: 5, data: b64url('notes') },
				},
			],
		},
	};

	it('decodes the text and html alternatives, each in its charset', () => {
		// The html part really is Latin-1: read as UTF-8 it would not come out right.
		expect(Buffer.from(html, 'latin1').toString('utf8')).not.toBe(html);
		const item = fullItem(synced(message));
		expect(item.text).toBe(text);
		expect(item.html).toBe(html);
	});

	it('lists attachments (a named text part is an attachment, not the body)', () => {
		expect(fullItem(synced(message)).attachments).toEqual([
			{ partId: '1', filename: 'menu.pdf', mimeType: 'application/pdf', size: 20480, attachmentId: 'ANGjdJ-attachment-1' },
			{ partId: '2', filename: 'notes.txt', mimeType: 'text/plain', size: 5, attachmentId: undefined },
		]);
	});

	it('reads headers case-insensitively into the top-level fields', () => {
		const item = fullItem(synced(message));
		expect(item).toMatchObject({
			id: '18f2c3a4b5d6e800',
			threadId: '18f2c3a4b5d6e7f8',
			labelIds: ['INBOX'],
			snippet: 'Hello Ünïcode',
			historyId: '4000020',
			internalDate: '1714557600000',
			sizeEstimate: 9000,
			date: '2024-05-01T10:00:00.000Z',
			from: 'Alice <alice@example.org>',
			to: 'user@example.com',
			cc: 'carol@example.org',
			replyTo: 'replies@example.org',
			subject: 'Menu',
			messageId: '<menu-1@example.org>',
			event: 'messageAdded',
		});
		expect(item.bcc).toBeUndefined();
		expect((item.headers as Record<string, string>)['message-id']).toBe('<menu-1@example.org>');
	});

	it('uses the Date header when internalDate is missing, and [] labels when none', () => {
		const { internalDate: _drop, labelIds: _none, ...rest } = message;
		const item = fullItem(synced(rest as GmailMessage));
		expect(item.date).toBe('Wed, 1 May 2024 10:00:00 +0000');
		expect(item.labelIds).toEqual([]);
	});

	it('handles a single-part text message', () => {
		const single: GmailMessage = {
			id: 's',
			threadId: 's',
			payload: { mimeType: 'text/plain', headers: [{ name: 'Subject', value: 'Hi' }], body: { size: 2, data: b64url('hi') } },
		};
		expect(fullItem(synced(single))).toMatchObject({ text: 'hi', html: undefined, attachments: [], subject: 'Hi' });
	});

	it('collectBodies keeps the first text and html found', () => {
		const bodies = collectBodies({
			mimeType: 'multipart/mixed',
			parts: [
				{ mimeType: 'text/plain', body: { data: b64url('first') } },
				{ mimeType: 'text/plain', body: { data: b64url('second') } },
				{ mimeType: 'text/html', body: { data: b64url('<b>first</b>') } },
			],
		});
		expect(bodies).toEqual({ text: 'first', html: '<b>first</b>', attachments: [] });
	});
});

describe('deletedItem and toOutputItem', () => {
	it('a deletion carries what history said', async () => {
		const event = synced({ id: 'gone', threadId: 't' }, { event: 'messageDeleted', key: 'deleted:gone', ref: { id: 'gone', threadId: 't' } });
		expect(deletedItem(event)).toEqual({ id: 'gone', threadId: 't', labelIds: [], event: 'messageDeleted' });
		expect((await toOutputItem(event, 'simplified', LABELS)).json).toEqual(deletedItem(event));
		expect((await toOutputItem(event, 'full', LABELS)).json).toEqual(deletedItem(event));
	});

	it('dispatches on the output mode', async () => {
		const event = synced(metadataMessage());
		expect((await toOutputItem(event, 'simplified', LABELS)).json).toEqual(simplifiedItem(event, LABELS));
		expect((await toOutputItem(event, 'full', LABELS)).json).toEqual(fullItem(event));
	});
});
