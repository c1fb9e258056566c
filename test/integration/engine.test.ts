/**
 * MailboxEngine end to end: our GmailPort (Gmail REST through google-auth-library), against the
 * fake Google API on loopback. Gmail calls are counted on the fake, never timed.
 */
import type { INode } from 'n8n-workflow';
import { decodeNotificationData, type GmailNotification } from '../../nodes/GmailPushTrigger/core/notification';
import type { OutputItem } from '../../nodes/GmailPushTrigger/core/output';
import { GmailApiError } from '../../nodes/GmailPushTrigger/core/port';
import { seenKeys } from '../../nodes/GmailPushTrigger/core/seen';
import { pendingIds } from '../../nodes/GmailPushTrigger/core/recovery';
import { readConfig, WHOLE_EMAIL_MAX_EVENTS } from '../../nodes/GmailPushTrigger/shell/config';
import { LATE_READ_MS } from '../../nodes/GmailPushTrigger/engine/followUp';
import { renderMessage, type FakeGoogle, type StoredMessage } from '../support/fakeGoogle';
import { EMAIL, TOPIC, activeEngine, engineFor, ids, startFake, uniqueKey, type EngineHarness, type EngineSetup } from './harness';

const DAY = 24 * 60 * 60 * 1000;

/** The notification Gmail would publish now, decoded the way the push webhook decodes it. */
function notificationOf(fake: FakeGoogle, historyId?: string): GmailNotification {
	const data = Buffer.from(fake.mailbox.notificationData(historyId)).toString('base64');
	const decoded = decodeNotificationData(data);
	if (!decoded.ok) throw new Error(`fake notification did not decode: ${decoded.reason}`);
	return decoded.notification;
}

function deliverMany(fake: FakeGoogle, n: number, prefix = 'mail'): StoredMessage[] {
	return Array.from({ length: n }, (_, i) => fake.mailbox.deliver({ subject: `${prefix} ${i + 1}` }));
}

/**
 * Whole Email with Download Attachments, configured as the node reads its parameters (so the
 * live path's bound, WHOLE_EMAIL_MAX_EVENTS). `onPrepare` sees each batch when its attachments
 * are made files, with the fake's messages.get count at that moment; `crash` may throw there.
 */
function wholeEmail(fake: FakeGoogle, onPrepare: (items: OutputItem[], fetched: number) => void): EngineSetup {
	const parameters: Record<string, unknown> = { delivery: 'poll', output: 'email', labelIds: [], options: { downloadAttachments: true } };
	const config = readConfig({
		getNodeParameter: (name: string, fallback?: unknown) => (name in parameters ? parameters[name] : fallback),
		getNode: () => ({ name: 'Gmail Push Trigger' }) as INode,
		getCredentials: async () => ({}),
	});
	return {
		output: config.output,
		render: config.render,
		sync: { ...config.sync, metadataHeaders: undefined },
		prepare: async (items) => {
			onPrepare(items, fake.count('messages.get'));
			for (const item of items) {
				item.binary = Object.fromEntries((item.attachments ?? []).map((a, i) => [`attachment_${i}`, { fileName: a.filename }]));
				delete item.attachments;
			}
			return items;
		},
	};
}

function deliverWithAttachments(fake: FakeGoogle, n: number, prefix: string): StoredMessage[] {
	return Array.from({ length: n }, (_, i) =>
		fake.mailbox.deliver({ subject: `${prefix} ${i + 1}`, attachments: [{ filename: `file-${i + 1}.txt`, mimeType: 'text/plain', content: Buffer.from(`attachment ${i + 1}`) }] }),
	);
}

describe('MailboxEngine over the real Gmail client', () => {
	let fake: FakeGoogle;

	beforeEach(async () => {
		fake = await startFake();
	});
	afterEach(async () => {
		await fake.close();
	});

	describe('ensureWatch', () => {
		it('creates the watch, records mailbox, cursor and watch in a plain state object', async () => {
			fake.mailbox.deliver({ subject: 'before activation' });
			const h = engineFor(fake);
			expect(h.state).toEqual({});
			const current = fake.mailbox.historyId;

			await expect(h.engine.ensureWatch(uniqueKey())).resolves.toBe('missing');

			expect(fake.count('users.watch')).toBe(1);
			expect(fake.count('users.getProfile')).toBe(1);
			expect(h.state.emailAddress).toBe(EMAIL);
			expect(h.state.cursor).toBe(current);
			expect(h.state.watch).toMatchObject({ topicName: TOPIC, labelIds: [], historyId: current, renewedAt: h.clock.now });
			expect(h.state.watch?.expiration).toBe(Number(fake.mailbox.watch?.expiration));
			expect(fake.mailbox.watch).toMatchObject({ topicName: TOPIC });
			// Plain JSON: what n8n persists as static data.
			expect(JSON.parse(JSON.stringify(h.state))).toEqual(h.state);
			// A first activation starts from now: mail from before is not emitted.
			expect(h.batches).toEqual([]);
		});

		it('a second call is a no-op without any Gmail call', async () => {
			const h = engineFor(fake);
			const key = uniqueKey();
			await h.engine.ensureWatch(key);
			const before = structuredClone(h.state);
			fake.resetCalls();

			await expect(h.engine.ensureWatch(key)).resolves.toBe('fresh');

			expect(fake.calls).toHaveLength(0);
			expect(h.state).toEqual(before);
		});

		it('concurrent calls for one node share a single watch call', async () => {
			const h = engineFor(fake);
			const key = uniqueKey();
			const verdicts = await Promise.all([h.engine.ensureWatch(key), h.engine.ensureWatch(key), h.engine.ensureWatch(key)]);
			expect(verdicts).toEqual(['missing', 'missing', 'missing']);
			expect(fake.count('users.watch')).toBe(1);
		});

		it('a day later renews the watch without moving the cursor, so mail in between is still emitted', async () => {
			const h = engineFor(fake);
			const key = uniqueKey();
			await h.engine.ensureWatch(key);
			const cursor = h.state.cursor;
			const missed = deliverMany(fake, 2, 'meanwhile');

			h.clock.now += DAY;
			await expect(h.engine.ensureWatch(key)).resolves.toBe('old');

			expect(fake.count('users.watch')).toBe(2);
			expect(fake.count('users.getProfile')).toBe(1); // the mailbox is known already
			expect(h.state.cursor).toBe(cursor);
			expect(h.state.watch?.renewedAt).toBe(h.clock.now);
			expect(h.state.watch?.historyId).toBe(fake.mailbox.historyId);

			await expect(h.engine.handle(notificationOf(fake))).resolves.toMatchObject({ status: 'synced', emitted: 2 });
			expect(ids(h.items())).toEqual(missed.map((m) => m.id));
		});

		it('renews at once when the label filter changed', async () => {
			const state = {};
			const key = uniqueKey();
			await engineFor(fake, { state }).engine.ensureWatch(key);
			const relabelled = engineFor(fake, { state, watch: { labelIds: ['INBOX'] } });
			await expect(relabelled.engine.ensureWatch(key)).resolves.toBe('changed');
			expect(fake.count('users.watch')).toBe(2);
			expect(fake.mailbox.watch).toMatchObject({ labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' });
		});

		it('a refused watch (403) rejects and records no watch and no cursor', async () => {
			fake.faults.watchError = { status: 403, message: 'User not authorized to perform this action.' };
			const h = engineFor(fake);
			const error = await h.engine.ensureWatch(uniqueKey()).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(GmailApiError);
			expect(error).toMatchObject({ status: 403 });
			expect((error as Error).message).toContain('User not authorized');
			expect(h.state.watch).toBeUndefined();
			expect(h.state.cursor).toBeUndefined();
		});
	});

	describe('handle', () => {
		it('emits three new emails in order, each once, in the built-in trigger’s simplified shape', async () => {
			const h = await activeEngine(fake);
			const sent = deliverMany(fake, 3);

			const result = await h.engine.handle(notificationOf(fake));

			expect(result).toMatchObject({ status: 'synced', emitted: 3, cursor: fake.mailbox.historyId });
			expect(ids(h.items())).toEqual(sent.map((m) => m.id));
			expect(h.batches).toHaveLength(1);
			const [first] = h.items();
			expect(first).toMatchObject({
				id: sent[0].id,
				threadId: sent[0].threadId,
				Subject: 'mail 1',
				From: 'Sender <sender@example.org>',
				To: EMAIL,
				labelIds: ['INBOX', 'UNREAD'],
				labels: [
					{ id: 'INBOX', name: 'INBOX' },
					{ id: 'UNREAD', name: 'UNREAD' },
				],
				event: 'messageAdded',
			});
			expect(first.payload).not.toHaveProperty('headers');
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			expect(seenKeys(h.state)).toEqual(sent.map((m) => `added:${m.id}`));
			expect(h.state.recent).toBeUndefined();
			expect(h.state.lastEmittedAt).toBe(Math.max(...sent.map((m) => m.internalDate)));
			// The state n8n saves with the emission already holds the advanced cursor and the keys.
			expect(h.stateAtDelivery[0]).toMatchObject({ cursor: fake.mailbox.historyId });
			expect(seenKeys(h.stateAtDelivery[0] as object)).toEqual(sent.map((m) => `added:${m.id}`));
			expect(fake.count('history.list')).toBe(1);
			expect(fake.count('messages.get')).toBe(3);
			expect(fake.count('labels.list')).toBe(1);
		});

		it('the same notification again is covered, with no Gmail call', async () => {
			const h = await activeEngine(fake);
			deliverMany(fake, 3);
			const notification = notificationOf(fake);
			await h.engine.handle(notification);
			fake.resetCalls();

			await expect(h.engine.handle(notification)).resolves.toEqual({ status: 'covered', cursor: fake.mailbox.historyId });

			expect(fake.calls).toHaveLength(0);
			expect(h.items()).toHaveLength(3);
		});

		it('an older (reordered) notification is covered, with no Gmail call', async () => {
			const h = await activeEngine(fake);
			fake.mailbox.deliver({ subject: 'one' });
			const older = notificationOf(fake);
			fake.mailbox.deliver({ subject: 'two' });
			const newer = notificationOf(fake);
			await h.engine.handle(newer);
			fake.resetCalls();

			await expect(h.engine.handle(older)).resolves.toMatchObject({ status: 'covered' });

			expect(fake.calls).toHaveLength(0);
			expect(h.items()).toHaveLength(2);
		});

		it('a notification for another mailbox is ignored with no Gmail call; ours in other case is not', async () => {
			const h = await activeEngine(fake);
			fake.mailbox.deliver({ subject: 'one' });
			const ours = notificationOf(fake);

			await expect(h.engine.handle({ ...ours, emailAddress: 'someone.else@example.org' })).resolves.toEqual({ status: 'other-mailbox' });
			expect(fake.calls).toHaveLength(0);
			expect(h.items()).toHaveLength(0);

			await expect(h.engine.handle({ ...ours, emailAddress: 'User@Example.COM' })).resolves.toMatchObject({ status: 'synced', emitted: 1 });
		});

		it('a notification with nothing new moves the cursor without emitting', async () => {
			const h = await activeEngine(fake);
			const changed = fake.mailbox.advanceHistoryId();
			await expect(h.engine.handle(notificationOf(fake))).resolves.toMatchObject({ status: 'synced', emitted: 0, cursor: changed });
			expect(h.batches).toEqual([]);
			expect(fake.count('messages.get')).toBe(0);
			expect(fake.count('labels.list')).toBe(0);
		});

		it('two overlapping handle() calls for two new emails emit each email once in total', async () => {
			const h = await activeEngine(fake);
			// Slow answers keep the first sync in flight while the second notification comes in.
			fake.faults.latency('history.list', 30);
			fake.faults.latency('messages.get', 30);
			const one = fake.mailbox.deliver({ subject: 'one' });
			const first = h.engine.handle(notificationOf(fake));
			const two = fake.mailbox.deliver({ subject: 'two' });
			const second = h.engine.handle(notificationOf(fake));

			const results = await Promise.all([first, second]);

			expect(ids(h.items())).toEqual([one.id, two.id]);
			const emitted = results.map((r) => (r.status === 'synced' ? r.emitted : 0));
			expect(emitted.reduce((a, b) => a + b, 0)).toBe(2);
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			// Each email fetched once: the serialised second run starts from the first run's cursor.
			expect(fake.count('messages.get')).toBe(2);
		});

		it('a burst of interleaved emails and notifications emits every email exactly once, in order', async () => {
			const h = await activeEngine(fake);
			fake.faults.latency('history.list', 5);
			const sent: StoredMessage[] = [];
			const handled: Array<Promise<unknown>> = [];
			for (let i = 0; i < 12; i++) {
				sent.push(fake.mailbox.deliver({ subject: `burst ${i}` }));
				const notification = notificationOf(fake);
				handled.push(h.engine.handle(notification));
				if (i % 3 === 0) handled.push(h.engine.handle(notification)); // Pub/Sub redelivery
			}
			await Promise.all(handled);

			expect(ids(h.items())).toEqual(sent.map((m) => m.id));
			expect(fake.count('messages.get')).toBe(12);
		});

		it('reads every page with a small history page size and emits all once', async () => {
			const h = await activeEngine(fake, { sync: { pageSize: 2 } });
			const sent = deliverMany(fake, 9);

			const result = await h.engine.handle(notificationOf(fake));

			expect(result).toMatchObject({ status: 'synced', emitted: 9 });
			expect(ids(h.items())).toEqual(sent.map((m) => m.id));
			expect(fake.count('history.list')).toBe(5);
			for (const call of fake.calls.filter((c) => c.method === 'history.list')) expect(call.query.maxResults).toBe('2');
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
		});

		it('with maxEvents below the backlog, one handle() drains it in bounded runs, each email once', async () => {
			const h = await activeEngine(fake, { sync: { pageSize: 2, maxEvents: 3 } });
			const sent = deliverMany(fake, 8);

			await expect(h.engine.handle(notificationOf(fake))).resolves.toMatchObject({ status: 'synced', emitted: 8 });

			expect(ids(h.items())).toEqual(sent.map((m) => m.id));
			expect(h.batches.map((b) => b.length)).toEqual([3, 3, 2]);
			// Each batch was delivered with the cursor already past it, and short of the rest.
			const cursors = h.stateAtDelivery.map((st) => BigInt(st.cursor as string));
			expect(cursors[0] < cursors[1] && cursors[1] < cursors[2]).toBe(true);
			expect(cursors[0]).toBeGreaterThanOrEqual(BigInt(sent[2].historyId));
			expect(cursors[0]).toBeLessThan(BigInt(sent[3].historyId));
			expect(cursors[1]).toBeGreaterThanOrEqual(BigInt(sent[5].historyId));
			expect(cursors[1]).toBeLessThan(BigInt(sent[6].historyId));
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
		});

		it('skips a message deleted before the fetch, without an error', async () => {
			const h = await activeEngine(fake);
			const [a, b, c] = deliverMany(fake, 3);
			fake.mailbox.deleteMessage(b.id);

			const result = await h.engine.handle(notificationOf(fake));

			expect(result).toMatchObject({ status: 'synced', emitted: 2, stats: { gone: 1 } });
			expect(ids(h.items())).toEqual([a.id, c.id]);
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
		});

		it('history.list failing with 503 rejects with the cursor unchanged; the redelivery emits everything once', async () => {
			const h = await activeEngine(fake);
			const sent = deliverMany(fake, 2);
			const notification = notificationOf(fake);
			const cursor = h.state.cursor;
			fake.faults.failNext('history.list', 503);

			const error = await h.engine.handle(notification).catch((e: unknown) => e);

			expect(error).toBeInstanceOf(GmailApiError);
			expect(error).toMatchObject({ status: 503 });
			expect(h.state.cursor).toBe(cursor);
			expect(h.batches).toEqual([]);
			expect(fake.count('messages.get')).toBe(0);

			await expect(h.engine.handle(notification)).resolves.toMatchObject({ status: 'synced', emitted: 2 });
			expect(ids(h.items())).toEqual(sent.map((m) => m.id));
			await expect(h.engine.handle(notification)).resolves.toMatchObject({ status: 'covered' });
			expect(h.items()).toHaveLength(2);
		});

		it('a fetch failing half-way emits nothing; the retry emits every email once', async () => {
			const h = await activeEngine(fake, { sync: { fetchConcurrency: 1 } });
			const sent = deliverMany(fake, 3);
			const notification = notificationOf(fake);
			const cursor = h.state.cursor;
			// The second message answers 500 once (the first was fetched fine), then normally.
			let failures = 1;
			fake.addRoute({
				name: 'messages.get',
				httpMethod: 'GET',
				pattern: new RegExp(`^/gmail/v1/users/[^/]+/messages/${sent[1].id}$`),
				auth: true,
				handle: (req) => {
					if (failures-- > 0) {
						const error = { code: 500, message: 'Backend Error', errors: [{ message: 'Backend Error', domain: 'global', reason: 'backendError' }], status: 'INTERNAL' };
						return { status: 500, body: { error } };
					}
					const msg = fake.mailbox.getMessage(sent[1].id) as StoredMessage;
					return { status: 200, body: renderMessage(msg, req.query.get('format') ?? 'full', req.query.getAll('metadataHeaders')) };
				},
			});

			await expect(h.engine.handle(notification)).rejects.toMatchObject({ status: 500, reason: 'backendError' });
			expect(fake.calls.filter((c) => c.method === 'messages.get').map((c) => c.status)).toEqual([200, 500]);
			expect(h.batches).toEqual([]);
			expect(h.state.cursor).toBe(cursor);
			expect(h.state.seen).toBeUndefined();

			await expect(h.engine.handle(notification)).resolves.toMatchObject({ status: 'synced', emitted: 3 });
			expect(ids(h.items())).toEqual(sent.map((m) => m.id));
		});

		it('a failing handle() does not block the next one (the queue keeps going)', async () => {
			const h = await activeEngine(fake);
			fake.mailbox.deliver({ subject: 'one' });
			fake.faults.failNext('history.list', 503);
			const failing = h.engine.handle(notificationOf(fake));
			const two = fake.mailbox.deliver({ subject: 'two' });
			const next = h.engine.handle(notificationOf(fake));
			await expect(failing).rejects.toBeInstanceOf(GmailApiError);
			await expect(next).resolves.toMatchObject({ status: 'synced', emitted: 2 });
			expect(ids(h.items())).toContain(two.id);
		});

		it('label filter include INBOX skips SENT-only mail and drafts, and narrows history.list', async () => {
			const h = await activeEngine(fake, { sync: { labelIds: ['INBOX'] }, watch: { labelIds: ['INBOX'] } });
			const a = fake.mailbox.deliver({ subject: 'inbox a' });
			fake.mailbox.sendMail({ subject: 'sent' });
			fake.mailbox.saveDraft({ subject: 'draft' });
			const b = fake.mailbox.deliver({ subject: 'inbox b' });

			await h.engine.handle(notificationOf(fake));

			expect(ids(h.items())).toEqual([a.id, b.id]);
			expect(fake.calls.find((c) => c.method === 'history.list')?.query.labelId).toBe('INBOX');
			expect(fake.count('messages.get')).toBe(2);
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
		});

		it('label filter with two labels filters on our side (history has labels: no fetch for skipped mail)', async () => {
			const invoices = fake.mailbox.addUserLabel('Invoices');
			const h = await activeEngine(fake, { sync: { labelIds: ['INBOX', invoices.id] } });
			const a = fake.mailbox.deliver({ subject: 'inbox' });
			fake.mailbox.sendMail({ subject: 'sent' });
			const c = fake.mailbox.deliver({ subject: 'invoice', labelIds: [invoices.id] });
			fake.mailbox.saveDraft({ subject: 'draft', labelIds: ['DRAFT', invoices.id] });

			await h.engine.handle(notificationOf(fake));

			expect(ids(h.items())).toEqual([a.id, c.id]);
			expect(fake.calls.find((c2) => c2.method === 'history.list')?.query).not.toHaveProperty('labelId');
			expect(fake.count('messages.get')).toBe(2);
			expect(h.items()[1].labels).toEqual([{ id: invoices.id, name: 'Invoices' }]);
		});

		it('label filter exclude skips mail with the label; drafts are emitted when asked for', async () => {
			const h = await activeEngine(fake, { sync: { labelIds: ['SPAM'], labelFilterBehavior: 'exclude', includeDrafts: true } });
			const a = fake.mailbox.deliver({ subject: 'ham' });
			fake.mailbox.deliver({ subject: 'spam', labelIds: ['SPAM'] });
			const d = fake.mailbox.saveDraft({ subject: 'draft' });

			await h.engine.handle(notificationOf(fake));

			expect(ids(h.items())).toEqual([a.id, d.id]);
		});

		it('labelAdded events are emitted when a label is added, once per change', async () => {
			const h = await activeEngine(fake, { sync: { events: ['labelAdded'] } });
			const msg = fake.mailbox.deliver({ subject: 'to be starred' });
			fake.mailbox.addLabels(msg.id, ['STARRED']);

			await h.engine.handle(notificationOf(fake));

			expect(h.items()).toHaveLength(1);
			expect(h.items()[0]).toMatchObject({ id: msg.id, event: 'labelAdded', changedLabelIds: ['STARRED'], Subject: 'to be starred' });
			expect((h.items()[0].labelIds as string[]).sort()).toEqual(['INBOX', 'STARRED', 'UNREAD']);

			// Removing is not a wanted event; adding it again is a new change.
			fake.mailbox.removeLabels(msg.id, ['STARRED']);
			await h.engine.handle(notificationOf(fake));
			expect(h.items()).toHaveLength(1);
			fake.mailbox.addLabels(msg.id, ['STARRED']);
			await h.engine.handle(notificationOf(fake));
			expect(h.items()).toHaveLength(2);
		});

		it('a label filter on label events looks at the label that changed', async () => {
			const h = await activeEngine(fake, { sync: { events: ['messageAdded', 'labelAdded'], labelIds: ['STARRED'] } });
			const msg = fake.mailbox.deliver({ subject: 'plain inbox mail' });
			fake.mailbox.addLabels(msg.id, ['IMPORTANT']);
			fake.mailbox.addLabels(msg.id, ['STARRED']);

			await h.engine.handle(notificationOf(fake));

			expect(h.items().map((i) => [i.id, i.event, i.changedLabelIds])).toEqual([[msg.id, 'labelAdded', ['STARRED']]]);
		});

		it('full output decodes the bodies', async () => {
			const h = await activeEngine(fake, { output: 'full', sync: { format: 'full', metadataHeaders: undefined } });
			const msg = fake.mailbox.deliver({ subject: 'Bodies', text: 'Grüße, plain', html: '<p>Grüße, <b>html</b></p>' });

			await h.engine.handle(notificationOf(fake));

			expect(h.items()).toHaveLength(1);
			expect(h.items()[0]).toMatchObject({ id: msg.id, subject: 'Bodies', text: expect.stringContaining('Grüße, plain'), html: expect.stringContaining('<b>html</b>') });
			expect(fake.count('labels.list')).toBe(0);
		});
	});

	describe('historyIds above 2^53', () => {
		it('works end to end: exact cursor, notifications decoded from Gmail’s unquoted number', async () => {
			await fake.close();
			fake = await startFake({ startHistoryId: '9007199254740993' });
			const h = engineFor(fake);
			await h.engine.ensureWatch(uniqueKey());
			expect(h.state.cursor).toBe('9007199254740993');

			const first = fake.mailbox.deliver({ subject: 'big one' });
			const older = notificationOf(fake);
			expect(fake.mailbox.notificationData()).toMatch(/"historyId":\d{16,}\}$/); // a JSON number, not a string
			const second = fake.mailbox.deliver({ subject: 'big two' });
			const notification = notificationOf(fake);
			expect(notification.historyId).toBe(fake.mailbox.historyId);

			await expect(h.engine.handle(notification)).resolves.toMatchObject({ status: 'synced', emitted: 2 });
			expect(ids(h.items())).toEqual([first.id, second.id]);
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			expect(BigInt(h.state.cursor as string)).toBeGreaterThan(9007199254740993n);

			fake.resetCalls();
			await expect(h.engine.handle(older)).resolves.toMatchObject({ status: 'covered' });
			await expect(h.engine.handle(notification)).resolves.toMatchObject({ status: 'covered' });
			expect(fake.calls).toHaveLength(0);

			const third = fake.mailbox.deliver({ subject: 'big three' });
			await h.engine.handle(notificationOf(fake));
			expect(ids(h.items())).toEqual([first.id, second.id, third.id]);
		});

		it('works next to uint64 max', async () => {
			await fake.close();
			fake = await startFake({ startHistoryId: '18446744073709550000' });
			const h = engineFor(fake);
			await h.engine.ensureWatch(uniqueKey());
			const sent = deliverMany(fake, 3);
			await h.engine.handle(notificationOf(fake));
			expect(ids(h.items())).toEqual(sent.map((m) => m.id));
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
		});
	});

	describe('stale cursor', () => {
		it('recovers from history.list 404 by catching up, emitting the missed mail once', async () => {
			const h = await activeEngine(fake);
			const emitted = fake.mailbox.deliver({ subject: 'already emitted' });
			await h.engine.handle(notificationOf(fake));
			const missed = deliverMany(fake, 2, 'missed');
			fake.mailbox.expireAllHistory();
			h.clock.now = Date.now();

			const result = await h.engine.handle(notificationOf(fake));

			expect(result).toMatchObject({ status: 'synced' });
			expect(ids(h.items())).toEqual([emitted.id, ...missed.map((m) => m.id)]);
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			expect(h.logger.lines.some((l) => l.level === 'warn' && /404/.test(l.message))).toBe(true);

			const later = fake.mailbox.deliver({ subject: 'after recovery' });
			await h.engine.handle(notificationOf(fake));
			expect(ids(h.items())).toEqual([emitted.id, ...missed.map((m) => m.id), later.id]);
		});

		it('a labels.list outage during the catch-up still emits the missed mail, once, with the new cursor in the saved state', async () => {
			const h = await activeEngine(fake);
			const missed = deliverMany(fake, 2, 'missed');
			fake.mailbox.expireAllHistory();
			h.clock.now = Date.now();
			fake.faults.failNext('labels.list', 500, 50);

			await h.engine.handle(notificationOf(fake));

			expect(ids(h.items())).toEqual(missed.map((m) => m.id));
			// The state n8n saved with the emit holds the catch-up's cursor, not none.
			expect(h.stateAtDelivery[0].cursor).toBe(fake.mailbox.historyId);
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			expect(h.items()[0].labels).toEqual([]);
			expect(h.items()[0].labelIds).toEqual(expect.arrayContaining(['INBOX']));
			expect(h.logger.lines.some((l) => l.level === 'warn' && /labels\.list failed/.test(l.message))).toBe(true);
		});

		it('a catch-up cut off before its emit (close) keeps the stale cursor, so the next start catches up again', async () => {
			const h = await activeEngine(fake);
			deliverMany(fake, 1, 'missed');
			const stale = h.state.cursor;
			fake.mailbox.expireAllHistory();
			h.clock.now = Date.now();
			const closing = h.engine.handle(notificationOf(fake));
			void h.engine.close(0, 0);

			await expect(closing).rejects.toThrow(/stopping/);

			expect(h.batches).toEqual([]);
			expect(h.state.cursor).toBe(stale);
		});
	});

	describe('stale cursor with Whole Email', () => {
		it('a catch-up of 35 raw emails goes out in executions of at most 10, fetching one batch at a time', async () => {
			const prepared: Array<{ items: number; fetched: number }> = [];
			const h = await activeEngine(fake, wholeEmail(fake, (items, fetched) => prepared.push({ items: items.length, fetched })));
			const stale = h.state.cursor;
			const missed = deliverWithAttachments(fake, 35, 'missed');
			fake.mailbox.expireAllHistory();
			const restartFrom = fake.mailbox.historyId;
			h.clock.now = Date.now();

			await h.engine.handle(notificationOf(fake));

			expect(WHOLE_EMAIL_MAX_EVENTS).toBe(10);
			expect(h.batches.map((b) => b.length)).toEqual([10, 10, 10, 5]);
			expect(ids(h.items())).toEqual(missed.map((m) => m.id));
			expect(h.delivered.every((item) => Object.keys(item.binary ?? {}).length === 1)).toBe(true);
			// No more than one batch of raw emails fetched before its attachments were prepared.
			expect(prepared).toEqual([
				{ items: 10, fetched: 10 },
				{ items: 10, fetched: 20 },
				{ items: 10, fetched: 30 },
				{ items: 5, fetched: 35 },
			]);
			expect(fake.count('history.list')).toBe(1);
			expect(fake.count('users.getProfile')).toBe(1);
			expect(fake.count('messages.list')).toBe(1);
			expect(fake.count('messages.get')).toBe(35);
			// What n8n saved with each execution: the stale cursor and what is left until the last.
			expect(h.stateAtDelivery.map((s) => [s.cursor, s.pendingCatchUp ? pendingIds(s.pendingCatchUp).length : 0])).toEqual([
				[stale, 25],
				[stale, 15],
				[stale, 5],
				[restartFrom, 0],
			]);
			expect(h.state.cursor).toBe(restartFrom);
			expect(h.state.pendingCatchUp).toBeUndefined();
			expect(h.logger.lines.some((l) => l.level === 'warn' && /35 listed, 35 not yet emitted, emitted in executions of at most 10\)/.test(l.message))).toBe(true);
		});

		it('n8n crashing during the 3rd execution resumes from what it saved: nothing twice, nothing lost, no new listing', async () => {
			let preparedBatches = 0;
			const crashing = await activeEngine(
				fake,
				wholeEmail(fake, () => {
					// The process dies while the 3rd batch is held in memory (out of memory, a kill).
					if (++preparedBatches === 3) throw new Error('JavaScript heap out of memory');
				}),
			);
			const missed = deliverWithAttachments(fake, 35, 'missed');
			fake.mailbox.expireAllHistory();
			const restartFrom = fake.mailbox.historyId;
			crashing.clock.now = Date.now();
			await expect(crashing.engine.handle(notificationOf(fake))).rejects.toThrow(/heap/);
			expect(crashing.batches.map((b) => b.length)).toEqual([10, 10]);
			expect(fake.count('messages.get')).toBe(30);

			// n8n starts again with the static data it saved at the last emit; mail came meanwhile.
			const saved = structuredClone(crashing.stateAtDelivery[1]);
			const meanwhile = deliverWithAttachments(fake, 2, 'meanwhile');
			const fetchedAt: number[] = [];
			fake.resetCalls();
			const restarted = engineFor(fake, { ...wholeEmail(fake, (_items, fetched) => fetchedAt.push(fetched)), state: saved });
			restarted.clock.now = Date.now();
			await restarted.engine.sync();

			expect(restarted.batches.map((b) => b.length)).toEqual([10, 5]);
			expect(fetchedAt).toEqual([10, 15]);
			expect([...ids(crashing.items()), ...ids(restarted.items())]).toEqual(missed.map((m) => m.id));
			// Only the rest's messages.get: no history.list to learn the cursor is stale, no new listing.
			expect(fake.calls.map((c) => c.method)).toEqual(Array(15).fill('messages.get'));
			expect(restarted.state.cursor).toBe(restartFrom);
			expect(restarted.state.pendingCatchUp).toBeUndefined();

			// The mail that came during the crash is after the catch-up's cursor: history has it, once.
			fake.resetCalls();
			await restarted.engine.handle(notificationOf(fake));
			expect(ids(restarted.batches.at(-1) ?? [])).toEqual(meanwhile.map((m) => m.id));
			expect(fake.count('messages.get')).toBe(2);
			expect(new Set(ids(restarted.items())).size).toBe(17);
		});

		it('a saved catch-up that cannot be read is dropped with a warning; the stale cursor catches up again, once', async () => {
			const h = await activeEngine(fake, wholeEmail(fake, () => undefined));
			const missed = deliverWithAttachments(fake, 3, 'missed');
			fake.mailbox.expireAllHistory();
			h.state.pendingCatchUp = { cursor: 'not a history id' } as never;
			h.clock.now = Date.now();

			await h.engine.handle(notificationOf(fake));

			expect(ids(h.items())).toEqual(missed.map((m) => m.id));
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			expect(h.logger.lines.some((l) => l.level === 'warn' && /saved catch-up cannot be read \(it has no valid cursor\)/.test(l.message))).toBe(true);
		});
	});

	describe('lasting failures', () => {
		it('are reported once, then backed off: redelivered notifications ask Google nothing until the back-off ends', async () => {
			const reports: Array<{ message: string; during: string }> = [];
			const h = await activeEngine(fake, {});
			const failing = engineFor(fake, {
				state: h.state,
				onLastingFailure: (error, during) => reports.push({ message: (error as Error).message, during }),
			});
			const mail = fake.mailbox.deliver({ subject: 'while the scope is gone' });
			fake.faults.failNext('history.list', 403, 1, { reason: 'insufficientPermissions', message: 'Request had insufficient authentication scopes.' });

			await expect(failing.engine.handle(notificationOf(fake))).rejects.toThrow(/insufficient authentication scopes/);
			expect(reports).toEqual([{ message: expect.stringMatching(/insufficient/), during: 'sync' }]);
			const calls = fake.calls.length;
			for (let i = 0; i < 10; i++) await expect(failing.engine.handle(notificationOf(fake))).rejects.toThrow(/insufficient/);
			await failing.engine.tick({ syncAfterMs: 0 });
			expect(fake.calls.length).toBe(calls);

			// After the back-off (5 min) the next notification tries again, and the fix heals it.
			failing.clock.now += 5 * 60 * 1000;
			await failing.engine.handle(notificationOf(fake));
			expect(ids(failing.items())).toEqual([mail.id]);
			expect(reports).toHaveLength(1);
		});

		it('transient ones (429, 503) are neither reported nor backed off', async () => {
			const reports: unknown[] = [];
			const h = engineFor(fake, { onLastingFailure: (error) => reports.push(error) });
			await h.engine.ensureWatch(uniqueKey());
			const mail = fake.mailbox.deliver({ subject: 'through the storm' });
			fake.faults.failNext('history.list', 503, 1);
			await expect(h.engine.handle(notificationOf(fake))).rejects.toThrow(/503/);
			await h.engine.handle(notificationOf(fake));
			expect(ids(h.items())).toEqual([mail.id]);
			expect(reports).toEqual([]);
		});
	});

	describe('deactivation', () => {
		it('retire() forgets the watch but keeps cursor and dedupe record, so a re-activation resumes and emits what came meanwhile once', async () => {
			const h = await activeEngine(fake);
			const before = fake.mailbox.deliver({ subject: 'before the save' });
			await h.engine.handle(notificationOf(fake));
			h.engine.retire();
			expect(h.state.watch).toBeUndefined();
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			expect(seenKeys(h.state)).toEqual([`added:${before.id}`]);

			const during = deliverMany(fake, 2, 'while inactive');
			// Re-activation: a new engine on the saved state (n8n loads it from the DB).
			const again = engineFor(fake, { state: structuredClone(h.state) });
			await expect(again.engine.ensureWatch(uniqueKey())).resolves.toBe('missing');
			await again.engine.sync();
			const after = fake.mailbox.deliver({ subject: 'after the save' });
			await again.engine.handle(notificationOf(fake));
			await again.engine.handle(notificationOf(fake, String(during[0].historyId)));

			expect(ids(h.items())).toEqual([before.id]);
			expect(ids(again.items())).toEqual([...during.map((m) => m.id), after.id]);
		});
	});

	describe('the follow-up sync after a notification (Gmail drops notifications within a second)', () => {
		const FOLLOW_UP_MS = 200;
		const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));
		/** Waits out the follow-up window and then some: what is still to come has come. */
		const afterFollowUp = async () => await sleep(FOLLOW_UP_MS * 3);

		/** Notifications the fake Gmail sends (it drops those within its gap, as Gmail does). */
		function notifications(): GmailNotification[] {
			const sent: GmailNotification[] = [];
			fake.mailbox.subscribe((change) => {
				if (change.notifies) sent.push(notificationOf(fake, change.historyId));
			});
			return sent;
		}

		it('emits the emails whose notification Gmail dropped, for one extra history.list', async () => {
			fake.mailbox.notificationGapMs = 1000;
			const h = await activeEngine(fake, { followUpMs: FOLLOW_UP_MS });
			const sent = notifications();
			const first = fake.mailbox.deliver({ subject: 'first' });
			const dropped = [fake.mailbox.deliver({ subject: 'second' }), fake.mailbox.deliver({ subject: 'third' })];
			expect(sent).toHaveLength(1);
			expect(fake.mailbox.droppedNotifications).toBe(2);

			await expect(h.engine.handle(sent[0])).resolves.toMatchObject({ status: 'synced' });
			// The notification's own sync saw what history held then; mail after it has no notification.
			const late = fake.mailbox.deliver({ subject: 'after the sync' });
			expect(sent).toHaveLength(1);
			await afterFollowUp();

			expect(ids(h.items())).toEqual([first, ...dropped, late].map((m) => m.id));
			expect(h.state.cursor).toBe(fake.mailbox.historyId);
			expect(fake.count('history.list')).toBe(2);
			expect(fake.count('messages.get')).toBe(4);
			// The follow-up arms no follow-up of its own: the mailbox is quiet, Gmail is not asked.
			await afterFollowUp();
			expect(fake.count('history.list')).toBe(2);
		});

		it('a notification inside the window moves the follow-up later: at most one extra history.list per notification', async () => {
			const h = await activeEngine(fake, { followUpMs: FOLLOW_UP_MS });
			const sent = notifications();
			for (const subject of ['one', 'two', 'three']) {
				fake.mailbox.deliver({ subject });
				await h.engine.handle(sent[sent.length - 1]);
				await sleep(FOLLOW_UP_MS / 4);
			}
			// Three syncs so far, no follow-up yet: each notification re-armed it.
			expect(fake.count('history.list')).toBe(3);
			await afterFollowUp();
			expect(fake.count('history.list')).toBe(4);
			expect(fake.count('history.list')).toBeLessThanOrEqual(2 * sent.length);
			expect(h.items().map((i) => i.Subject)).toEqual(['one', 'two', 'three']);
		});

		it('a covered notification arms nothing, and a mailbox that gets no mail costs nothing', async () => {
			const h = await activeEngine(fake, { followUpMs: FOLLOW_UP_MS });
			await expect(h.engine.handle(notificationOf(fake))).resolves.toMatchObject({ status: 'covered' });
			await afterFollowUp();
			expect(fake.calls).toHaveLength(0);
			expect(h.items()).toEqual([]);
		});

		it('the follow-up never emits twice what a notification emitted, nor what a redelivered notification covers', async () => {
			fake.mailbox.notificationGapMs = 1000;
			const h = await activeEngine(fake, { followUpMs: FOLLOW_UP_MS });
			const sent = notifications();
			const mails = deliverMany(fake, 3);
			await h.engine.handle(sent[0]);
			await afterFollowUp();
			// Pub/Sub delivers at least once: the same notification again, late.
			await expect(h.engine.handle(sent[0])).resolves.toMatchObject({ status: 'covered' });
			await afterFollowUp();
			expect(ids(h.items())).toEqual(mails.map((m) => m.id));
			expect(fake.count('history.list')).toBe(2);
			expect(fake.count('messages.get')).toBe(3);
		});

		it('a notification read long after Pub/Sub published it (a redelivery, a backlog) gets no follow-up', async () => {
			const h = await activeEngine(fake, { followUpMs: FOLLOW_UP_MS });
			fake.mailbox.deliver({ subject: 'late' });
			const publishedAt = (offsetMs: number) => new Date(h.clock.now - offsetMs).toISOString();
			const late = { ...notificationOf(fake), publishTime: publishedAt(LATE_READ_MS) };
			await expect(h.engine.handle(late)).resolves.toMatchObject({ status: 'synced', emitted: 1 });
			await afterFollowUp();
			expect(fake.count('history.list')).toBe(1);
			// A recent one (within any clock skew) does get its follow-up.
			fake.mailbox.deliver({ subject: 'fresh' });
			await h.engine.handle({ ...notificationOf(fake), publishTime: publishedAt(LATE_READ_MS - 5000) });
			await afterFollowUp();
			expect(fake.count('history.list')).toBe(3);
			expect(h.items().map((i) => i.Subject)).toEqual(['late', 'fresh']);
		});

		it('closing or retiring the engine cancels the armed follow-up', async () => {
			for (const stop of [async (engine: EngineHarness['engine']) => await engine.close(1000, 0), async (engine: EngineHarness['engine']) => engine.retire()]) {
				fake.resetCalls();
				const h = await activeEngine(fake, { followUpMs: FOLLOW_UP_MS });
				fake.mailbox.deliver({ subject: 'announced' });
				await h.engine.handle(notificationOf(fake));
				await stop(h.engine);
				fake.mailbox.deliver({ subject: 'after the stop' });
				const calls = fake.calls.length;
				await afterFollowUp();
				expect(fake.calls.slice(calls).map((c) => c.method)).toEqual([]);
				expect(h.items().map((i) => i.Subject)).toEqual(['announced']);
			}
		});

		it('a failed follow-up is logged and leaves the cursor for the next sync', async () => {
			fake.mailbox.notificationGapMs = 1000;
			const h = await activeEngine(fake, { followUpMs: FOLLOW_UP_MS });
			const sent = notifications();
			fake.mailbox.deliver({ subject: 'announced' });
			await h.engine.handle(sent[0]);
			const cursor = h.state.cursor;
			fake.mailbox.deliver({ subject: 'dropped' });
			fake.faults.failNext('history.list', 403, 1, { reason: 'insufficientPermissions' });
			await afterFollowUp();
			expect(h.state.cursor).toBe(cursor);
			expect(h.logger.lines.some((l) => l.level === 'warn' && /follow-up sync failed/.test(l.message))).toBe(true);
			expect(h.items().map((i) => i.Subject)).toEqual(['announced']);
		});
	});
});
