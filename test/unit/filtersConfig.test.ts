/** The Gmail Trigger's filters and output options, read into the core's config. */
import type { INode } from 'n8n-workflow';
import { readConfig } from '../../nodes/GmailPushTrigger/shell/config';

function reader(parameters: Record<string, unknown>) {
	return {
		getNodeParameter: (name: string, fallback?: unknown) => (name in parameters ? parameters[name] : fallback),
		getNode: () => ({ name: 'Gmail Push Trigger' }) as INode,
		getCredentials: async () => ({}),
	};
}

const poll = { delivery: 'poll' };

describe('filters', () => {
	it.each([
		[{}, undefined],
		[{ q: 'has:attachment' }, 'has:attachment'],
		[{ sender: ' alice@example.org ' }, 'from:alice@example.org'],
		[{ readStatus: 'unread' }, 'is:unread'],
		[{ readStatus: 'read' }, 'is:read'],
		[{ readStatus: 'both' }, undefined],
		// The order n8n's Gmail Trigger builds it in.
		[{ q: 'subject:invoice', sender: 'billing@shop.example', readStatus: 'unread' }, 'subject:invoice from:billing@shop.example is:unread'],
	])('%j searches Gmail for %j', (filters, search) => {
		expect(readConfig(reader({ ...poll, filters })).sync.search).toBe(search);
	});

	it('Include Spam and Trash is off unless set', () => {
		expect(readConfig(reader(poll)).sync.includeSpamTrash).toBe(false);
		expect(readConfig(reader({ ...poll, filters: { includeSpamTrash: true } })).sync.includeSpamTrash).toBe(true);
	});

	it('an unknown Read Status is refused with the choices', () => {
		expect(() => readConfig(reader({ ...poll, filters: { readStatus: 'maybe' } }))).toThrow('Read Status must be "both", "unread" or "read"');
	});
});

describe('output', () => {
	it('Whole Email fetches the raw email; attachments only when asked, with the built-in\'s prefix', () => {
		const plain = readConfig(reader({ ...poll, output: 'email' }));
		expect(plain.sync.format).toBe('raw');
		expect(plain.render).toEqual({ downloadAttachments: false });
		expect(plain.attachmentPrefix).toBe('attachment_');
		const files = readConfig(reader({ ...poll, output: 'email', options: { downloadAttachments: true, dataPropertyAttachmentsPrefixName: 'file_' } }));
		expect(files.render).toEqual({ downloadAttachments: true });
		expect(files.attachmentPrefix).toBe('file_');
		// A backlog of whole emails goes out ten at a time; the other outputs keep the core's bound.
		expect(plain.sync.maxEvents).toBe(10);
		expect(readConfig(reader(poll)).sync.maxEvents).toBeUndefined();
	});

	it('Download Attachments does nothing for the other outputs (they fetch no attachment bytes)', () => {
		expect(readConfig(reader({ ...poll, output: 'simplified', options: { downloadAttachments: true } })).render).toEqual({ downloadAttachments: false });
		expect(readConfig(reader({ ...poll, output: 'full' })).sync.format).toBe('full');
	});

	it('an unknown output is refused with the choices', () => {
		expect(() => readConfig(reader({ ...poll, output: 'html' }))).toThrow('Output must be one of simplified, email, full');
	});
});
