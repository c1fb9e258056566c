/**
 * Our GmailPort (transport/gmail.ts) through google-auth-library's real clients against the fake
 * Google API on loopback: request shapes, response mapping and error mapping.
 */
import { GmailApiError, type GmailPort } from '../../nodes/GmailPushTrigger/core/port';
import { isStaleCursorError } from '../../nodes/GmailPushTrigger/core/sync';
import { retryingPort } from '../../nodes/GmailPushTrigger/transport/retry';
import { SCOPES, type FakeGoogle } from '../support/fakeGoogle';
import { EMAIL, TOPIC, portFor, startFake } from './harness';

async function rejection(promise: Promise<unknown>): Promise<GmailApiError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	if (!(error instanceof GmailApiError)) throw new Error(`expected a GmailApiError, got ${String(error)}`);
	return error;
}

describe('GmailPort over the real Gmail client', () => {
	let fake: FakeGoogle;
	let port: GmailPort;

	beforeEach(async () => {
		fake = await startFake();
		port = portFor(fake);
	});
	afterEach(async () => {
		await fake.close();
	});

	it('getProfile returns the mailbox address and its current historyId', async () => {
		fake.mailbox.deliver({ subject: 'x' });
		await expect(port.getProfile()).resolves.toEqual({ emailAddress: EMAIL, historyId: fake.mailbox.historyId });
		expect(fake.count('users.getProfile')).toBe(1);
	});

	it('listLabels returns id and name of system and user labels', async () => {
		const invoices = fake.mailbox.addUserLabel('Invoices');
		const labels = await port.listLabels();
		expect(labels).toContainEqual({ id: 'INBOX', name: 'INBOX' });
		expect(labels).toContainEqual({ id: invoices.id, name: 'Invoices' });
		for (const label of labels) expect(Object.keys(label).sort()).toEqual(['id', 'name']);
	});

	it('watch sends topic and label filter, and returns historyId and expiration as strings', async () => {
		const before = Date.now();
		const response = await port.watch({ topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' });
		expect(response.historyId).toBe(fake.mailbox.historyId);
		expect(typeof response.expiration).toBe('string');
		expect(Number(response.expiration)).toBeGreaterThan(before + 6 * 24 * 3600 * 1000);
		expect(fake.mailbox.watch).toMatchObject({ topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' });
		expect(fake.count('users.watch')).toBe(1);
	});

	it('stop removes the watch', async () => {
		await port.watch({ topicName: TOPIC });
		expect(fake.mailbox.watch).toBeDefined();
		await expect(port.stop()).resolves.toBeUndefined();
		expect(fake.mailbox.watch).toBeUndefined();
		expect(fake.count('users.stop')).toBe(1);
	});

	it('listHistory pages through history with the requested types and page size', async () => {
		const start = fake.mailbox.historyId;
		const sent = [1, 2, 3, 4, 5].map((n) => fake.mailbox.deliver({ subject: `mail ${n}` }));
		fake.mailbox.markRead(sent[0].id);

		const seen: string[] = [];
		let pageToken: string | undefined;
		let pages = 0;
		let last: Awaited<ReturnType<GmailPort['listHistory']>> | undefined;
		do {
			last = await port.listHistory({ startHistoryId: start, historyTypes: ['messageAdded'], maxResults: 2, ...(pageToken && { pageToken }) });
			pages++;
			expect(last.history?.length).toBeLessThanOrEqual(2);
			for (const record of last.history ?? []) for (const added of record.messagesAdded ?? []) seen.push(added.message.id);
			pageToken = last.nextPageToken;
		} while (pageToken);
		expect(pages).toBe(3);
		expect(seen).toEqual(sent.map((m) => m.id));
		expect(last.historyId).toBe(fake.mailbox.historyId);
		// The client really sent what we asked for.
		const query = fake.calls.find((c) => c.method === 'history.list')?.query;
		expect(query).toMatchObject({ startHistoryId: start, historyTypes: 'messageAdded', maxResults: '2' });
	});

	it('listHistory returns records with labels and an empty page with the current historyId', async () => {
		const start = fake.mailbox.historyId;
		const msg = fake.mailbox.deliver({ subject: 'labelled' });
		fake.mailbox.addLabels(msg.id, ['STARRED']);
		const page = await port.listHistory({ startHistoryId: start, historyTypes: ['messageAdded', 'labelAdded'] });
		expect(page.history).toHaveLength(2);
		expect(page.history?.[0].messagesAdded?.[0].message).toMatchObject({ id: msg.id, labelIds: ['INBOX', 'UNREAD'] });
		expect(page.history?.[1].labelsAdded?.[0]).toMatchObject({ message: { id: msg.id }, labelIds: ['STARRED'] });
		expect(page.nextPageToken).toBeUndefined();

		const empty = await port.listHistory({ startHistoryId: fake.mailbox.historyId, historyTypes: ['messageAdded'] });
		expect(empty.history).toEqual([]);
		expect(empty.historyId).toBe(fake.mailbox.historyId);
	});

	it('listHistory passes labelId', async () => {
		const start = fake.mailbox.historyId;
		const inbox = fake.mailbox.deliver({ subject: 'in' });
		fake.mailbox.sendMail({ subject: 'out' });
		const page = await port.listHistory({ startHistoryId: start, historyTypes: ['messageAdded'], labelId: 'INBOX' });
		expect(page.history?.map((r) => r.messagesAdded?.[0].message.id)).toEqual([inbox.id]);
	});

	it('getMessage returns metadata with only the asked headers, and full with bodies', async () => {
		const msg = fake.mailbox.deliver({ subject: 'Hello', from: 'Alice <alice@example.org>', text: 'plain body', html: '<p>html body</p>' });
		const metadata = await port.getMessage(msg.id, 'metadata', ['From', 'Subject']);
		expect(metadata).toMatchObject({ id: msg.id, threadId: msg.threadId, labelIds: ['INBOX', 'UNREAD'] });
		expect(metadata?.payload?.headers?.map((h) => h.name).sort()).toEqual(['From', 'Subject']);
		const query = fake.calls.find((c) => c.method === 'messages.get')?.query;
		expect(query).toMatchObject({ format: 'metadata', metadataHeaders: ['From', 'Subject'] });

		const full = await port.getMessage(msg.id, 'full');
		expect(full?.payload?.parts?.length).toBeGreaterThan(0);
	});

	it('getMessage answers undefined for a message that is gone (404), without throwing', async () => {
		const msg = fake.mailbox.deliver({ subject: 'soon gone' });
		fake.mailbox.deleteMessage(msg.id);
		await expect(port.getMessage(msg.id, 'metadata')).resolves.toBeUndefined();
		await expect(port.getMessage('0123456789abcdef', 'full')).resolves.toBeUndefined();
		expect(fake.count('messages.get')).toBe(2);
	});

	it('getMessage still throws for errors other than 404', async () => {
		const msg = fake.mailbox.deliver({ subject: 'x' });
		fake.faults.failNext('messages.get', 500);
		const error = await rejection(port.getMessage(msg.id, 'metadata'));
		expect(error.status).toBe(500);
		expect(error.retryable).toBe(true);
	});

	it('listMessages returns refs and the next page token', async () => {
		const sent = [1, 2, 3].map((n) => fake.mailbox.deliver({ subject: `m${n}` }));
		const first = await port.listMessages({ maxResults: 2 });
		expect(first.messages).toHaveLength(2);
		expect(first.nextPageToken).toBeDefined();
		const second = await port.listMessages({ maxResults: 2, pageToken: first.nextPageToken });
		expect(new Set([...first.messages, ...second.messages].map((m) => m.id))).toEqual(new Set(sent.map((m) => m.id)));
	});

	describe('errors become GmailApiError with status and reason', () => {
		it('403 from users.watch when Gmail may not publish to the topic', async () => {
			fake.faults.watchError = { status: 403, message: 'User not authorized to perform this action.' };
			const error = await rejection(port.watch({ topicName: TOPIC }));
			expect(error.status).toBe(403);
			expect(error.reason).toBe('forbidden');
			expect(error.message).toContain('User not authorized');
			expect(error.message).toContain('users.watch');
			expect(error.retryable).toBe(false);
		});

		it('400 for an invalid topic name', async () => {
			const error = await rejection(port.watch({ topicName: 'gmail-push' }));
			expect(error.status).toBe(400);
			expect(error.message).toMatch(/topicName/);
			expect(error.retryable).toBe(false);
		});

		it('400 for a topic of another project', async () => {
			await fake.close();
			fake = await startFake({ expectedProject: 'my-project' });
			port = portFor(fake);
			const error = await rejection(port.watch({ topicName: 'projects/other-project/topics/gmail-push' }));
			expect(error.status).toBe(400);
			await expect(port.watch({ topicName: TOPIC })).resolves.toMatchObject({ historyId: fake.mailbox.historyId });
		});

		it('404 for a stale history cursor', async () => {
			const old = fake.mailbox.historyId;
			fake.mailbox.deliver({ subject: 'x' });
			fake.mailbox.expireAllHistory();
			const error = await rejection(port.listHistory({ startHistoryId: old, historyTypes: ['messageAdded'] }));
			expect(error.status).toBe(404);
			expect(error.reason).toBe('notFound');
			expect(isStaleCursorError(error)).toBe(true);
		});

		it('401 for a token the fake does not know', async () => {
			fake.expireTokens();
			const error = await rejection(port.getProfile());
			expect(error.status).toBe(401);
			expect(error.retryable).toBe(false);
		});

		it('403 insufficientPermissions for a token without a Gmail read scope', async () => {
			const labelsOnly = portFor(fake, [SCOPES.labels]);
			const error = await rejection(labelsOnly.listHistory({ startHistoryId: fake.mailbox.historyId, historyTypes: ['messageAdded'] }));
			expect(error).toMatchObject({ status: 403, reason: 'insufficientPermissions' });
		});

		it('429 with Retry-After carries retryAfterMs', async () => {
			fake.faults.failNext('history.list', 429, 1, { retryAfterSeconds: 3 });
			const error = await rejection(port.listHistory({ startHistoryId: fake.mailbox.historyId, historyTypes: ['messageAdded'] }));
			expect(error).toMatchObject({ status: 429, reason: 'rateLimitExceeded', retryAfterMs: 3000 });
			expect(error.retryable).toBe(true);
		});

		it('the client itself does not retry (retries are ours)', async () => {
			fake.faults.failNext('users.getProfile', 503, 1);
			await rejection(port.getProfile());
			expect(fake.count('users.getProfile')).toBe(1);
		});
	});

	describe('retryingPort', () => {
		it('retries a 429 with Retry-After once, waiting as asked, and returns the real result', async () => {
			const start = fake.mailbox.historyId;
			const msg = fake.mailbox.deliver({ subject: 'after the rate limit' });
			fake.faults.failNext('history.list', 429, 1, { retryAfterSeconds: 1 });
			let clock = 0;
			const sleeps: number[] = [];
			const retrying = retryingPort(port, {
				budgetMs: 7000,
				baseDelayMs: 250,
				maxDelayMs: 4000,
				now: () => clock,
				sleep: async (ms) => {
					sleeps.push(ms);
					clock += ms;
				},
				random: () => 1,
			});
			const page = await retrying.listHistory({ startHistoryId: start, historyTypes: ['messageAdded'] });
			expect(page.history?.map((r) => r.messagesAdded?.[0].message.id)).toEqual([msg.id]);
			expect(fake.count('history.list')).toBe(2);
			expect(fake.calls.filter((c) => c.method === 'history.list').map((c) => c.status)).toEqual([429, 200]);
			expect(sleeps).toEqual([1000]);
		});

		it('gives up on a persistent 503 within its budget and never retries a 404', async () => {
			fake.faults.failNext('users.getProfile', 503, 100);
			let clock = 0;
			const retrying = retryingPort(port, {
				budgetMs: 2000,
				baseDelayMs: 250,
				maxDelayMs: 4000,
				now: () => clock,
				sleep: async (ms) => {
					clock += ms;
				},
				random: () => 1,
			});
			const error = await rejection(retrying.getProfile());
			expect(error.status).toBe(503);
			// 250 + 500 + 1000 = 1750 waited; the next wait (2000) would pass the budget.
			expect(fake.count('users.getProfile')).toBe(4);

			const old = fake.mailbox.historyId;
			fake.mailbox.deliver({});
			fake.mailbox.expireAllHistory();
			const stale = await rejection(retrying.listHistory({ startHistoryId: old, historyTypes: ['messageAdded'] }));
			expect(stale.status).toBe(404);
			expect(fake.count('history.list')).toBe(1);
		});
	});
});
