/**
 * The Gmail Trigger's filters and its Simplify-off email, through our engine and the real Gmail
 * client against the fake Gmail: which emails come out, what they look like, and what it costs.
 */
import type { OutputItem } from '../../nodes/GmailPushTrigger/core/output';
import { RECHECK_DELAY_MS } from '../../nodes/GmailPushTrigger/core/recheck';
import type { FakeGoogle, StoredMessage } from '../support/fakeGoogle';
import { CORPUS } from '../fixtures/emailCorpus';
import { activeEngine, engineFor, ids, startFake, type EngineHarness, type EngineSetup } from './harness';

describe('filters (Search, Sender, Read Status, Include Spam and Trash)', () => {
	let fake: FakeGoogle;
	const engines: EngineHarness[] = [];
	beforeEach(async () => {
		fake = await startFake();
	});
	afterEach(async () => {
		// Their timers would ask Search again a minute on.
		for (const h of engines.splice(0)) h.engine.retire();
		await fake.close();
	});

	async function filtering(setup: EngineSetup): Promise<EngineHarness> {
		const h = await activeEngine(fake, setup);
		engines.push(h);
		return h;
	}

	const mix = (): Record<string, StoredMessage> => ({
		invoice: fake.mailbox.deliver({ from: 'Billing <billing@shop.example>', subject: 'Your invoice 42', text: 'Amount due' }),
		hello: fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject: 'Hello', text: 'Just saying hi' }),
		read: fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject: 'Read already', labelIds: ['INBOX'] }),
		spam: fake.mailbox.deliver({ from: 'Prize <prize@spam.example>', subject: 'Invoice winner', labelIds: ['SPAM', 'UNREAD'] }),
		trash: fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject: 'Old invoice', labelIds: ['TRASH'] }),
	});

	it.each<[string, { search?: string; includeSpamTrash?: boolean }, string[]]>([
		['no filter', {}, ['invoice', 'hello', 'read']],
		['Search', { search: 'invoice' }, ['invoice']],
		['Sender', { search: 'from:alice@example.org' }, ['hello', 'read']],
		['Read Status: unread', { search: 'is:unread' }, ['invoice', 'hello']],
		['Read Status: read', { search: 'is:read' }, ['read']],
		['Include Spam and Trash', { includeSpamTrash: true }, ['invoice', 'hello', 'read', 'spam', 'trash']],
		['Search with Include Spam and Trash', { search: 'invoice', includeSpamTrash: true }, ['invoice', 'spam', 'trash']],
		['Sender and Read Status together', { search: 'from:alice@example.org is:unread' }, ['hello']],
	])('%s: Gmail\'s search decides, once per sync', async (_name, sync, expected) => {
		const h = await filtering({ sync });
		const mails = mix();
		await h.engine.sync();
		const byId = new Map(Object.entries(mails).map(([key, m]) => [m.id, key]));
		expect(h.items().map((item) => byId.get(String(item.id)))).toEqual(expected);
		// One history.list; one messages.get per new email; one messages.list for the whole sync
		// when a search is set, none otherwise.
		expect(fake.count('history.list')).toBe(1);
		expect(fake.count('messages.get')).toBe(sync.includeSpamTrash ? 5 : 3);
		expect(fake.count('messages.list')).toBe('search' in sync ? 1 : 0);

		// A sync with nothing new costs no search, and nothing comes out twice.
		fake.resetCalls();
		await h.engine.sync();
		expect(fake.count('messages.list')).toBe(0);
		expect(h.items()).toHaveLength(expected.length);
	});

	it('the search is narrowed to the new mail with after:, so old matches cost no pages', async () => {
		for (let i = 0; i < 30; i++) fake.mailbox.deliver({ subject: `old invoice ${i}`, date: Date.now() - 86_400_000 });
		const h = await filtering({ sync: { search: 'invoice' } });
		const fresh = fake.mailbox.deliver({ subject: 'new invoice' });
		await h.engine.sync();
		expect(h.items().map((i) => i.id)).toEqual([fresh.id]);
		const list = fake.calls.filter((c) => c.method === 'messages.list');
		expect(list).toHaveLength(1);
		expect(String(list[0].query?.q)).toMatch(/^invoice after:\d+$/);
		expect(Number(/after:(\d+)/.exec(String(list[0].query?.q))?.[1]) * 1000).toBeLessThanOrEqual(fresh.internalDate);
	});

	it('an email that matches only after its one re-ask is not emitted: it is judged when seen, and once more a minute later', async () => {
		const h = await filtering({ sync: { search: 'is:read' } });
		const mail = fake.mailbox.deliver({ subject: 'unread at first' });
		await h.engine.sync();
		// The re-ask, a minute on: still unread, so let go.
		h.clock.now += RECHECK_DELAY_MS;
		await h.engine.sync();
		expect(h.state.searchRecheck).toBeUndefined();
		fake.mailbox.markRead(mail.id);
		fake.mailbox.deliver({ subject: 'another', labelIds: ['INBOX'] });
		await h.engine.sync();
		expect(h.items().map((i) => i.Subject)).toEqual(['another']);
		expect(fake.count('messages.list')).toBe(3);
	});

	it('a failed search moves nothing and emits nothing; the next sync emits the mail once', async () => {
		const h = await filtering({ sync: { search: 'invoice' } });
		const mail = fake.mailbox.deliver({ subject: 'invoice' });
		const cursor = h.state.cursor;
		fake.faults.failNext('messages.list', 500);
		await expect(h.engine.sync()).rejects.toThrow();
		expect(h.state.cursor).toBe(cursor);
		expect(h.items()).toHaveLength(0);
		await h.engine.sync();
		expect(h.items().map((i) => i.id)).toEqual([mail.id]);
	});
});

describe('Search with a lagging index (Gmail\'s search learns a new email a little after it arrives)', () => {
	/** The index's lag and the re-ask's delay, in real ms (the engine's clock is moved by hand). */
	const LAG_MS = 300;
	const RECHECK_MS = 500;
	const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));
	let fake: FakeGoogle;
	const engines: EngineHarness[] = [];
	beforeEach(async () => {
		fake = await startFake();
		fake.mailbox.searchLagMs = LAG_MS;
	});
	afterEach(async () => {
		for (const h of engines.splice(0)) h.engine.retire();
		await fake.close();
	});

	async function searching(search: string): Promise<EngineHarness> {
		const h = await activeEngine(fake, { sync: { search }, searchRecheckMs: RECHECK_MS });
		engines.push(h);
		return h;
	}

	async function waitFor(done: () => boolean, timeoutMs = RECHECK_MS * 6): Promise<void> {
		for (const until = Date.now() + timeoutMs; !done(); await sleep(10)) if (Date.now() > until) throw new Error('timed out');
	}

	/** Moves the engine's clock past the re-ask and waits until its timer has run it. */
	async function afterRecheck(h: EngineHarness): Promise<void> {
		h.clock.now += RECHECK_MS;
		await waitFor(() => h.state.searchRecheck === undefined);
		await sleep(20);
	}

	it('an email Search missed at first is asked about once more, a little later, and emitted once', async () => {
		const h = await searching('subject:invoice');
		const invoice = fake.mailbox.deliver({ subject: 'Your invoice 42' });
		fake.mailbox.deliver({ subject: 'Hello' });
		await h.engine.sync();
		// The index did not know either email yet.
		expect(h.items()).toEqual([]);
		expect(fake.count('messages.list')).toBe(1);

		await afterRecheck(h);
		expect(ids(h.items())).toEqual([invoice.id]);
		// The re-ask: the timer's sync (one history.list), one messages.list for both emails,
		// one messages.get for the one that matched.
		expect(fake.count('history.list')).toBe(2);
		expect(fake.count('messages.list')).toBe(2);
		expect(fake.count('messages.get')).toBe(3);
		expect(h.state.cursor).toBe(fake.mailbox.historyId);

		// Each email is asked again once: later syncs ask nothing more and emit nothing twice.
		h.clock.now += RECHECK_MS * 10;
		await h.engine.sync();
		await sleep(RECHECK_MS * 2);
		expect(fake.count('messages.list')).toBe(2);
		expect(ids(h.items())).toEqual([invoice.id]);
	});

	it('one that Search still does not find at the re-ask is let go for good', async () => {
		fake.mailbox.searchLagMs = 60_000;
		const h = await searching('subject:invoice');
		fake.mailbox.deliver({ subject: 'Your invoice 43' });
		await h.engine.sync();
		expect(h.state.searchRecheck).toHaveLength(1);
		await afterRecheck(h);
		expect(fake.count('messages.list')).toBe(2);
		expect(h.state.searchRecheck).toBeUndefined();
		// The index knows it now, but it is not asked about a third time.
		fake.mailbox.searchLagMs = 0;
		h.clock.now += RECHECK_MS * 10;
		await h.engine.sync();
		expect(fake.count('messages.list')).toBe(2);
		expect(h.items()).toEqual([]);
	});

	it('the emails several syncs missed are asked about again with one messages.list, in the order they came', async () => {
		const h = await searching('subject:invoice');
		const invoices: StoredMessage[] = [];
		for (let i = 0; i < 3; i++) {
			invoices.push(fake.mailbox.deliver({ subject: `invoice ${i}` }));
			fake.mailbox.deliver({ subject: `newsletter ${i}` });
			await h.engine.sync();
			h.clock.now += RECHECK_MS / 8;
		}
		expect(h.state.searchRecheck?.flatMap((held) => held.ids)).toHaveLength(6);
		await afterRecheck(h);
		expect(ids(h.items())).toEqual(invoices.map((m) => m.id));
		expect(fake.count('messages.list')).toBe(3 + 1);
		expect(fake.count('messages.get')).toBe(6 + 3);
		expect(h.state.searchRecheck).toBeUndefined();
	});

	it('a held email that a stale-cursor catch-up emitted meanwhile is not emitted again, nor asked about', async () => {
		const h = await searching('subject:invoice');
		const invoice = fake.mailbox.deliver({ subject: 'invoice 1' });
		await h.engine.sync();
		// The index catches up; Gmail's history of the span is gone: the catch-up finds the invoice.
		fake.mailbox.searchLagMs = 0;
		const second = fake.mailbox.deliver({ subject: 'invoice 2' });
		fake.mailbox.expireAllHistory();
		await h.engine.sync();
		expect(ids(h.items())).toEqual([invoice.id, second.id]);
		const listed = fake.count('messages.list');
		await afterRecheck(h);
		expect(ids(h.items())).toEqual([invoice.id, second.id]);
		expect(fake.count('messages.list')).toBe(listed);
		expect(h.state.searchRecheck).toBeUndefined();
	});

	it('the held emails are kept in the static data: after a restart the new engine asks at its first sync', async () => {
		const h = await searching('subject:invoice');
		const invoice = fake.mailbox.deliver({ subject: 'invoice' });
		await h.engine.sync();
		await h.engine.close(1000, 0);
		const saved = structuredClone(h.state);
		expect(saved.searchRecheck).toEqual([{ at: h.clock.now, since: invoice.internalDate, ids: [invoice.id] }]);

		await sleep(LAG_MS);
		const next = engineFor(fake, { state: saved, sync: { search: 'subject:invoice' }, searchRecheckMs: RECHECK_MS });
		engines.push(next);
		next.clock.now = h.clock.now + RECHECK_MS;
		await next.engine.sync();
		expect(ids(next.items())).toEqual([invoice.id]);
		expect(h.items()).toEqual([]);
		expect(next.state.searchRecheck).toBeUndefined();
	});

	it('a failed re-ask keeps the emails held and is tried again half a delay later', async () => {
		const h = await searching('subject:invoice');
		const invoice = fake.mailbox.deliver({ subject: 'invoice' });
		await h.engine.sync();
		fake.faults.failNext('messages.list', 500);
		h.clock.now += RECHECK_MS;
		const failed = () => h.logger.lines.some((l) => l.level === 'warn' && /asking Gmail's search again failed/.test(l.message));
		await waitFor(failed);
		expect(h.items()).toEqual([]);
		expect(h.state.searchRecheck).toHaveLength(1);
		await waitFor(() => h.items().length > 0);
		expect(ids(h.items())).toEqual([invoice.id]);
		expect(fake.count('messages.list')).toBe(3);
	});

	it('retiring or closing the engine stops its re-ask timer', async () => {
		for (const stop of [async (h: EngineHarness) => h.engine.retire(), async (h: EngineHarness) => await h.engine.close(1000, 0)]) {
			const h = await searching('subject:invoice');
			fake.mailbox.deliver({ subject: 'invoice' });
			await h.engine.sync();
			await stop(h);
			const calls = fake.calls.length;
			h.clock.now += RECHECK_MS;
			await sleep(RECHECK_MS * 2.5);
			expect(fake.calls.slice(calls)).toEqual([]);
			expect(h.items()).toEqual([]);
		}
	});
});

describe('Whole Email output (the built-in\'s Simplify off)', () => {
	let fake: FakeGoogle;
	beforeEach(async () => {
		fake = await startFake();
	});
	afterEach(async () => {
		await fake.close();
	});

	const stored: Array<{ json: Record<string, unknown>; files: Array<{ name: string; size: number; mimeType: string }> }> = [];
	const prepare = async (items: OutputItem[]): Promise<OutputItem[]> => {
		for (const item of items) {
			stored.push({ json: item.json, files: (item.attachments ?? []).map((a) => ({ name: a.filename ?? '', size: a.content.length, mimeType: a.contentType })) });
			item.binary = Object.fromEntries((item.attachments ?? []).map((a, i) => [`attachment_${i}`, { fileName: a.filename }]));
			delete item.attachments;
		}
		return items;
	};

	it('parses every kind of email in the corpus as mailparser does, with the attachments as files', async () => {
		stored.length = 0;
		const h = await activeEngine(fake, { output: 'email', render: { downloadAttachments: true }, prepare, sync: { format: 'raw', labelIds: ['INBOX'] } });
		const earlier = new Map<string, StoredMessage>();
		const sent = CORPUS.map((email) => ({ email, message: email.deliver(fake, earlier) }));
		await h.engine.sync();
		const expected = sent.filter((s) => s.email.emitted);
		expect(h.delivered.map((i) => i.json.id)).toEqual(expected.map((s) => s.message.id));
		const byName = new Map(expected.map((s, i) => [s.email.name, stored[i]]));

		expect(byName.get('plain text')?.json).toMatchObject({ subject: 'Plain hello', text: 'Hello there,\nthis is plain text.\n', html: false, event: 'messageAdded' });
		expect(byName.get('plain text')?.json.from).toMatchObject({ value: [{ address: 'alice@example.org', name: 'Alice Example' }] });
		expect(byName.get('plain text')?.json.labelIds).toEqual(['INBOX', 'UNREAD']);
		expect(byName.get('plain text')?.json.headers).toMatchObject({ subject: 'Subject: Plain hello' });
		expect(byName.get('plain text')?.json.date).toBe('2026-12-01T09:30:00.000Z');
		expect(byName.get('ISO-8859-1, quoted-printable')?.json.text).toBe('Café crème brûlée, £ 5\n');
		// Read with the charset the email declares (the built-in decodes these bytes as UTF-8).
		expect(byName.get('windows-1252, 8-bit')?.json.text).toBe('Naïve café — “quoted”\n');
		expect(byName.get('ISO-2022-JP, base64 body and encoded subject')?.json).toMatchObject({ subject: 'こんにちは', text: 'こんにちは' });
		expect(byName.get('UTF-8 encoded-word subject and emoji')?.json.subject).toBe('Grüße 🎉 aus Köln');
		expect(byName.get('Q-encoded ISO-8859-1 subject and sender name')?.json).toMatchObject({ subject: 'Résumé attached' });
		expect(byName.get('no subject')?.json.subject).toBeUndefined();
		expect(byName.get('PDF attachment')?.files).toEqual([{ name: 'invoice-42.pdf', size: 45, mimeType: 'application/pdf' }]);
		expect(byName.get('two attachments, one with a non-ASCII name (RFC 2231)')?.files.map((f) => f.name)).toEqual(['data.csv', 'übersicht.txt']);
		expect(byName.get('inline image (multipart/related, cid:)')?.files).toEqual([{ name: 'logo.png', size: 70, mimeType: 'image/png' }]);
		expect(String(byName.get('inline image (multipart/related, cid:)')?.json.html)).toContain('src="data:image/png;base64,');
		expect(byName.get('forwarded message (message/rfc822)')?.files.map((f) => f.mimeType)).toEqual(['message/rfc822']);
		expect(byName.get('reply deep in a long thread (In-Reply-To, References)')?.json).toMatchObject({
			inReplyTo: '<thread-3@mail.example.org>',
			references: ['<thread-1@mail.example.org>', '<thread-2@mail.example.org>', '<thread-3@mail.example.org>'],
		});
		expect(byName.get('cc, bcc and reply-to')?.json).toMatchObject({ cc: { text: '"Carol" <carol@example.org>, "Dan" <dan@example.org>' }, replyTo: { text: 'team@example.org' } });
		// JSON all the way: what n8n stores and the next node gets.
		for (const item of stored) expect(Object.values(item.json).filter((v) => v instanceof Date || v instanceof Map || Buffer.isBuffer(v))).toEqual([]);
		expect(h.delivered.find((i) => i.json.subject === 'Invoice 42')?.binary).toEqual({ attachment_0: { fileName: 'invoice-42.pdf' } });
		// One raw messages.get per emitted email: the draft, the spam and the sent mail are
		// dropped on the labels history carries, before any fetch.
		expect(fake.count('messages.get')).toBe(expected.length);
	});

	it('without Download Attachments the item carries no files', async () => {
		stored.length = 0;
		const h = await activeEngine(fake, { output: 'email', prepare, sync: { format: 'raw' } });
		CORPUS.find((e) => e.name === 'PDF attachment')?.deliver(fake, new Map());
		await h.engine.sync();
		expect(stored).toHaveLength(1);
		expect(stored[0].files).toEqual([]);
		expect(h.delivered[0].binary).toEqual({});
	});
});
