/**
 * The fake Google server, driven by the real @googleapis/gmail client and google-auth-library,
 * so that tests built on it exercise the same requests production code sends.
 */
import { execFile } from 'child_process';
import { generateKeyPairSync } from 'crypto';
import * as path from 'path';
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import { JWT, OAuth2Client } from 'google-auth-library';
import { SCOPES, startFakeGoogle, type FakeGoogle, type FakeGoogleOptions } from '../support/fakeGoogle';

const EMAIL = 'user@example.com';
const TOPIC = 'projects/my-project/topics/gmail-push';
const REPO_ROOT = path.resolve(__dirname, '..', '..');

interface GaxiosLikeError {
	status?: number;
	response?: { status: number; data: unknown; headers: { get(name: string): string | null } };
}

/** Runs `fn`, expects it to reject with a gaxios HTTP error, returns that error. */
async function httpError(fn: () => Promise<unknown>): Promise<GaxiosLikeError & { response: NonNullable<GaxiosLikeError['response']> }> {
	try {
		await fn();
	} catch (e) {
		const err = e as GaxiosLikeError;
		if (!err.response) throw e;
		return err as GaxiosLikeError & { response: NonNullable<GaxiosLikeError['response']> };
	}
	throw new Error('expected the call to fail');
}

/** forceRefreshOnFailure: without it the client only refreshes on 401 when it has no expiry_date. */
function oauthClient(fake: FakeGoogle, accessToken: string, refreshToken?: string): OAuth2Client {
	const client = new OAuth2Client({
		forceRefreshOnFailure: true,
		clientId: 'client-id',
		clientSecret: 'client-secret',
		endpoints: { oauth2TokenUrl: fake.tokenUrl },
		transporterOptions: { fetchImplementation: fake.fetch },
	});
	client.setCredentials({ access_token: accessToken, refresh_token: refreshToken, expiry_date: Date.now() + 3_600_000 });
	return client;
}

/**
 * @googleapis/gmail types its `auth` against its own nested google-auth-library copy (10.5), so a
 * client from the top-level google-auth-library (10.9) needs a cast; at run time it is duck-typed.
 */
function gmailFor(fake: FakeGoogle, auth: OAuth2Client | JWT): gmail_v1.Gmail {
	const gmailAuth = auth as unknown as gmail_v1.Options['auth'];
	return gmail({ version: 'v1', auth: gmailAuth, rootUrl: `${fake.baseUrl}/`, fetchImplementation: fake.fetch });
}

async function withFake(options: FakeGoogleOptions, fn: (fake: FakeGoogle) => Promise<void>): Promise<void> {
	const fake = await startFakeGoogle({ emailAddress: EMAIL, ...options });
	try {
		await fn(fake);
	} finally {
		await fake.close();
	}
}

const b64 = (data: string | null | undefined): string => Buffer.from(data ?? '', 'base64url').toString('utf8');

describe('fake Google with the real Gmail client', () => {
	let fake: FakeGoogle;
	let client: gmail_v1.Gmail;

	beforeEach(async () => {
		fake = await startFakeGoogle({ emailAddress: EMAIL });
		client = gmailFor(fake, oauthClient(fake, fake.issueToken({ scopes: [SCOPES.modify] })));
	});
	afterEach(() => fake.close());

	test('profile, watch and stop behave like Gmail and are counted with their quota cost', async () => {
		fake.mailbox.deliver({ subject: 'one' });
		const profile = (await client.users.getProfile({ userId: 'me' })).data;
		expect(profile).toEqual({ emailAddress: EMAIL, messagesTotal: 1, threadsTotal: 1, historyId: fake.mailbox.historyId });

		const seen: string[] = [];
		fake.onWatch = (w) => {
			seen.push(`${w.topicName} ${w.historyId} ${w.emailAddress}`);
		};
		const before = Date.now();
		const watch = (await client.users.watch({ userId: EMAIL, requestBody: { topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'include' } })).data;
		expect(watch.historyId).toBe(fake.mailbox.historyId);
		const expiration = Number(watch.expiration);
		expect(expiration).toBeGreaterThanOrEqual(before + 7 * 86_400_000);
		expect(expiration).toBeLessThan(Date.now() + 7 * 86_400_000 + 1000);
		expect(fake.mailbox.watch).toMatchObject({ topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' });
		expect(seen).toEqual([`${TOPIC} ${watch.historyId} ${EMAIL}`]);

		const stop = await client.users.stop({ userId: 'me' });
		expect(stop.status).toBe(204);
		expect(fake.mailbox.watch).toBeUndefined();

		expect(fake.count('users.getProfile')).toBe(1);
		expect(fake.count('users.watch')).toBe(1);
		expect(fake.count('users.stop')).toBe(1);
		expect(fake.quotaUnits()).toBe(1 + 100 + 50);
		expect(fake.calls.map((c) => [c.method, c.httpMethod, c.status])).toEqual([
			['users.getProfile', 'GET', 200],
			['users.watch', 'POST', 200],
			['users.stop', 'POST', 204],
		]);
		fake.resetCalls();
		expect(fake.calls).toHaveLength(0);
	});

	test('watch rejects bad topics and can be forced to fail', async () => {
		const invalid = await httpError(() => client.users.watch({ userId: 'me', requestBody: { topicName: 'my-topic' } }));
		expect(invalid.response.status).toBe(400);
		expect(invalid.response.data).toEqual({
			error: {
				code: 400,
				message: 'Invalid topicName does not match projects/SOME-PROJECT/topics/SOME-TOPIC',
				errors: [{ message: 'Invalid topicName does not match projects/SOME-PROJECT/topics/SOME-TOPIC', domain: 'global', reason: 'invalidArgument' }],
				status: 'INVALID_ARGUMENT',
			},
		});

		fake.faults.watchError = { status: 403, message: 'User not authorized to perform this action.' };
		const denied = await httpError(() => client.users.watch({ userId: 'me', requestBody: { topicName: TOPIC } }));
		expect(denied.response.status).toBe(403);
		expect(denied.response.data).toMatchObject({
			error: { code: 403, message: 'User not authorized to perform this action.', status: 'PERMISSION_DENIED', errors: [{ reason: 'forbidden' }] },
		});
		expect(fake.mailbox.watch).toBeUndefined();

		await withFake({ acceptAnyToken: true, expectedProject: 'my-project' }, async (strict) => {
			const c = gmailFor(strict, oauthClient(strict, 'anything'));
			const other = await httpError(() => c.users.watch({ userId: 'me', requestBody: { topicName: 'projects/other/topics/t' } }));
			expect(other.response.data).toMatchObject({ error: { code: 400, message: 'Invalid topicName does not match projects/my-project/topics/*' } });
			await expect(c.users.watch({ userId: 'me', requestBody: { topicName: TOPIC } })).resolves.toMatchObject({ status: 200 });
		});
	});

	test('history.list paginates for real, with gapped ids and the current historyId', async () => {
		const start = fake.mailbox.historyId;
		const delivered = Array.from({ length: 7 }, (_, i) => fake.mailbox.deliver({ subject: `m${i}` }).id);

		const pages: gmail_v1.Schema$ListHistoryResponse[] = [];
		let pageToken: string | undefined;
		do {
			const res = await client.users.history.list({ userId: 'me', startHistoryId: start, maxResults: 3, pageToken });
			pages.push(res.data);
			pageToken = res.data.nextPageToken ?? undefined;
		} while (pageToken);

		expect(pages.map((p) => p.history?.length)).toEqual([3, 3, 1]);
		expect(pages[2].nextPageToken).toBeUndefined();
		for (const p of pages) expect(p.historyId).toBe(fake.mailbox.historyId);
		const records = pages.flatMap((p) => p.history ?? []);
		expect(records.map((r) => r.messagesAdded?.[0].message?.id)).toEqual(delivered);
		expect(records[0].messagesAdded?.[0].message?.labelIds).toEqual(['INBOX', 'UNREAD']);
		expect(records[0].messages).toEqual([{ id: delivered[0], threadId: delivered[0] }]);
		const ids = records.map((r) => BigInt(r.id ?? '0'));
		expect(ids[0]).toBeGreaterThan(BigInt(start));
		ids.slice(1).forEach((id, i) => expect(id).toBeGreaterThan(ids[i]));
		expect(ids.slice(1).some((id, i) => id - ids[i] > 1n)).toBe(true); // not contiguous

		// Nothing new: Gmail omits `history` and still reports the current id.
		const empty = await client.users.history.list({ userId: 'me', startHistoryId: fake.mailbox.historyId });
		expect(empty.data).toEqual({ historyId: fake.mailbox.historyId });
		expect(fake.count('history.list')).toBe(4);
		expect(fake.quotaUnits()).toBe(8);
	});

	test('history.list answers 404 exactly like Google once the start id has expired', async () => {
		const old = fake.mailbox.historyId;
		fake.mailbox.deliver({ subject: 'a' });
		const fresh = fake.mailbox.historyId;
		fake.mailbox.deliver({ subject: 'b' });
		fake.mailbox.expireHistoryBefore(fresh);

		const err = await httpError(() => client.users.history.list({ userId: 'me', startHistoryId: old }));
		expect(err.response.status).toBe(404);
		expect(err.response.data).toEqual({
			error: {
				code: 404,
				message: 'Requested entity was not found.',
				errors: [{ message: 'Requested entity was not found.', domain: 'global', reason: 'notFound' }],
				status: 'NOT_FOUND',
			},
		});
		await expect(client.users.history.list({ userId: 'me', startHistoryId: fresh })).resolves.toMatchObject({ status: 200 });

		fake.mailbox.expireAllHistory();
		expect((await httpError(() => client.users.history.list({ userId: 'me', startHistoryId: fresh }))).response.status).toBe(404);
		await expect(client.users.history.list({ userId: 'me', startHistoryId: fake.mailbox.historyId })).resolves.toMatchObject({ status: 200 });

		const missing = await httpError(() => client.users.history.list({ userId: 'me' }));
		expect(missing.response.status).toBe(400);
		const notNumeric = await httpError(() => client.users.history.list({ userId: 'me', startHistoryId: 'abc' }));
		expect(notNumeric.response.status).toBe(400);
	});

	test('history.list filters by historyTypes and labelId', async () => {
		const start = fake.mailbox.historyId;
		const a = fake.mailbox.deliver({ subject: 'a' });
		const s = fake.mailbox.sendMail({ subject: 'sent' });
		fake.mailbox.addLabels(a.id, ['STARRED']);
		fake.mailbox.markRead(a.id);
		fake.mailbox.deleteMessage(s.id);

		const all = (await client.users.history.list({ userId: 'me', startHistoryId: start })).data.history ?? [];
		expect(all.map((r) => Object.keys(r).filter((k) => k !== 'id' && k !== 'messages'))).toEqual([
			['messagesAdded'],
			['messagesAdded'],
			['labelsAdded'],
			['labelsRemoved'],
			['messagesDeleted'],
		]);
		expect(all[2].labelsAdded?.[0]).toEqual({ message: { id: a.id, threadId: a.threadId, labelIds: ['INBOX', 'UNREAD', 'STARRED'] }, labelIds: ['STARRED'] });
		expect(all[3].labelsRemoved?.[0].labelIds).toEqual(['UNREAD']);

		const added = (await client.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] })).data.history ?? [];
		expect(added.map((r) => r.messagesAdded?.[0].message?.id)).toEqual([a.id, s.id]);

		const labels = (await client.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['labelAdded', 'labelRemoved'] })).data.history ?? [];
		expect(labels).toHaveLength(2);

		const inbox = (await client.users.history.list({ userId: 'me', startHistoryId: start, labelId: 'INBOX' })).data.history ?? [];
		expect(inbox.every((r) => r.messages?.[0].id === a.id)).toBe(true);
		expect(inbox).toHaveLength(3);

		const bad = await httpError(() => client.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['bogus'] }));
		expect(bad.response.status).toBe(400);
	});

	test('messages.get serves full, metadata, minimal and raw like Gmail', async () => {
		const msg = fake.mailbox.deliver({
			from: 'Zoë <zoe@example.org>',
			subject: 'Hello “world”',
			text: 'Plain body\nsecond line',
			html: '<p>Plain <b>body</b></p>',
			attachments: [{ filename: 'a.txt', mimeType: 'text/plain', content: 'attached!' }],
			date: '2024-05-01T10:00:00Z',
		});

		const full = (await client.users.messages.get({ userId: 'me', id: msg.id })).data;
		expect(full).toMatchObject({ id: msg.id, threadId: msg.id, labelIds: ['INBOX', 'UNREAD'], snippet: 'Plain body second line' });
		expect(full.historyId).toBe(msg.historyId.toString());
		expect(full.internalDate).toBe(String(Date.parse('2024-05-01T10:00:00Z')));
		expect(msg.id).toMatch(/^[0-9a-f]{16}$/);
		const payload = full.payload!;
		expect(payload.mimeType).toBe('multipart/mixed');
		expect(payload.partId).toBe('');
		expect(payload.headers?.find((h) => h.name === 'Subject')?.value).toBe('Hello “world”');
		expect(payload.headers?.find((h) => h.name === 'From')?.value).toBe('Zoë <zoe@example.org>');
		const [alt, att] = payload.parts!;
		expect(alt.mimeType).toBe('multipart/alternative');
		expect(alt.parts?.map((p) => [p.partId, p.mimeType])).toEqual([
			['0.0', 'text/plain'],
			['0.1', 'text/html'],
		]);
		expect(b64(alt.parts?.[0].body?.data)).toBe('Plain body\r\nsecond line');
		expect(b64(alt.parts?.[1].body?.data)).toBe('<p>Plain <b>body</b></p>');
		expect(alt.parts?.[0].body?.size).toBe(Buffer.byteLength('Plain body\r\nsecond line'));
		expect(att).toMatchObject({ partId: '1', filename: 'a.txt', mimeType: 'text/plain' });
		expect(att.body?.data).toBeUndefined();
		const attachment = await client.users.messages.attachments.get({ userId: 'me', messageId: msg.id, id: att.body!.attachmentId! });
		expect(b64(attachment.data.data)).toBe('attached!');

		const meta = (await client.users.messages.get({ userId: 'me', id: msg.id, format: 'metadata', metadataHeaders: ['subject', 'From'] })).data;
		expect(meta.payload?.headers?.map((h) => h.name)).toEqual(['Subject', 'From']);
		expect(meta.payload?.parts).toBeUndefined();

		const minimal = (await client.users.messages.get({ userId: 'me', id: msg.id, format: 'minimal' })).data;
		expect(minimal.payload).toBeUndefined();
		expect(minimal.labelIds).toEqual(['INBOX', 'UNREAD']);

		const raw = (await client.users.messages.get({ userId: 'me', id: msg.id, format: 'raw' })).data;
		const rfc822 = b64(raw.raw);
		expect(raw.payload).toBeUndefined();
		expect(raw.sizeEstimate).toBe(Buffer.byteLength(rfc822, 'latin1'));
		expect(rfc822).toContain('Subject: =?UTF-8?B?');
		expect(rfc822).toContain('Content-Type: multipart/mixed; boundary=');
		expect(rfc822).toContain('Content-Disposition: attachment; filename="a.txt"');
		expect(rfc822).toMatch(/\r\n\r\n/);

		fake.mailbox.deleteMessage(msg.id);
		expect((await httpError(() => client.users.messages.get({ userId: 'me', id: msg.id }))).response.status).toBe(404);
		expect((await httpError(() => client.users.messages.get({ userId: 'me', id: 'not-an-id' }))).response.status).toBe(400);
		expect(fake.count('messages.get')).toBe(6);
		expect(fake.count('messages.attachments.get')).toBe(1);
	});

	test('messages.list supports q, labelIds, spam/trash exclusion and pagination, newest first', async () => {
		const t0 = Date.parse('2024-05-01T00:00:00Z');
		const old = fake.mailbox.deliver({ subject: 'old', date: t0 - 3_600_000 });
		const m1 = fake.mailbox.deliver({ subject: 'm1', date: t0 + 1000 });
		const m2 = fake.mailbox.deliver({ subject: 'm2', date: t0 + 2000 });
		const m3 = fake.mailbox.deliver({ subject: 'm3', date: t0 + 3000, labelIds: ['INBOX'] });
		fake.mailbox.saveDraft({ subject: 'draft', date: t0 + 4000, labelIds: ['DRAFT', 'INBOX'] });
		fake.mailbox.deliver({ subject: 'spam', date: t0 + 5000, labelIds: ['SPAM'] });
		const work = fake.mailbox.addUserLabel('Work Stuff');
		fake.mailbox.addLabels(m1.id, [work.id]);

		const q = `in:inbox -in:drafts after:${Math.floor(t0 / 1000)}`;
		const list = (await client.users.messages.list({ userId: 'me', q })).data;
		expect(list.messages?.map((m) => m.id)).toEqual([m3.id, m2.id, m1.id]);
		expect(list.resultSizeEstimate).toBe(3);
		expect(list.messages?.[0]).toEqual({ id: m3.id, threadId: m3.threadId });

		const p1 = (await client.users.messages.list({ userId: 'me', q, maxResults: 2 })).data;
		expect(p1.messages?.map((m) => m.id)).toEqual([m3.id, m2.id]);
		const p2 = (await client.users.messages.list({ userId: 'me', q, maxResults: 2, pageToken: p1.nextPageToken ?? undefined })).data;
		expect(p2.messages?.map((m) => m.id)).toEqual([m1.id]);
		expect(p2.nextPageToken).toBeUndefined();

		expect((await client.users.messages.list({ userId: 'me', labelIds: ['UNREAD', 'INBOX'] })).data.messages?.map((m) => m.id)).toEqual([m2.id, m1.id, old.id]);
		expect((await client.users.messages.list({ userId: 'me', q: 'label:work-stuff' })).data.messages?.map((m) => m.id)).toEqual([m1.id]);
		expect((await client.users.messages.list({ userId: 'me', q: 'subject:spam' })).data).toEqual({ resultSizeEstimate: 0 });
		expect((await client.users.messages.list({ userId: 'me', q: 'subject:spam', includeSpamTrash: true })).data.resultSizeEstimate).toBe(1);
		expect((await httpError(() => client.users.messages.list({ userId: 'me', q: 'a OR b' }))).response.status).toBe(400);

		const labels = (await client.users.labels.list({ userId: 'me' })).data.labels ?? [];
		expect(labels.find((l) => l.id === 'INBOX')).toMatchObject({ name: 'INBOX', type: 'system' });
		expect(labels.find((l) => l.id === work.id)).toEqual({ id: 'Label_1', name: 'Work Stuff', type: 'user', messageListVisibility: 'show', labelListVisibility: 'labelShow' });
	});

	test('with a search index lag, a search does not find a new message until the lag has passed', async () => {
		fake.mailbox.searchLagMs = 300;
		const known = fake.mailbox.deliver({ subject: 'invoice 1', date: Date.now() - 60_000 });
		await new Promise((resolve) => setTimeout(resolve, 350));
		const fresh = fake.mailbox.deliver({ subject: 'invoice 2', date: Date.now() - 60_000 });
		const search = async () => (await client.users.messages.list({ userId: 'me', q: 'subject:invoice' })).data.messages?.map((m) => m.id);
		// Lag counts from the message's arrival, not its (here older) internalDate.
		expect(await search()).toEqual([known.id]);
		// A listing without q and messages.get know it at once.
		expect((await client.users.messages.list({ userId: 'me' })).data.messages?.map((m) => m.id)).toEqual([fresh.id, known.id]);
		expect((await client.users.messages.get({ userId: 'me', id: fresh.id })).data.id).toBe(fresh.id);
		await new Promise((resolve) => setTimeout(resolve, 350));
		expect(await search()).toEqual([fresh.id, known.id]);
	});

	test('mailbox changes tell whether the active watch would notify, honouring its label filter', async () => {
		const changes: Array<[string, boolean]> = [];
		const unsubscribe = fake.mailbox.subscribe((c) => changes.push([Object.keys(c.record).filter((k) => k !== 'id' && k !== 'messages')[0], c.notifies]));
		fake.mailbox.deliver(); // no watch yet
		await client.users.watch({ userId: 'me', requestBody: { topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' } });
		fake.mailbox.deliver();
		fake.mailbox.sendMail();
		await client.users.watch({ userId: 'me', requestBody: { topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'EXCLUDE' } });
		fake.mailbox.deliver({ labelIds: ['INBOX'] });
		fake.mailbox.sendMail();
		await client.users.stop({ userId: 'me' });
		fake.mailbox.deliver();
		unsubscribe();
		fake.mailbox.deliver();
		expect(changes).toEqual([
			['messagesAdded', false],
			['messagesAdded', true],
			['messagesAdded', false],
			['messagesAdded', false],
			['messagesAdded', true],
			['messagesAdded', false],
		]);
	});

	test('historyIds above 2^53 survive as exact decimal strings', async () => {
		await withFake({ acceptAnyToken: true, startHistoryId: '9007199254740993' }, async (big) => {
			const c = gmailFor(big, oauthClient(big, 'any-token'));
			expect((await c.users.getProfile({ userId: 'me' })).data.historyId).toBe('9007199254740993');
			const msg = big.mailbox.deliver({ subject: 'big' });
			expect(msg.historyId).toBeGreaterThan(9007199254740993n);
			const res = (await c.users.history.list({ userId: 'me', startHistoryId: '9007199254740993' })).data;
			expect(res.history?.[0].id).toBe(msg.historyId.toString());
			expect(res.historyId).toBe(big.mailbox.historyId);
			expect((await c.users.messages.get({ userId: 'me', id: msg.id, format: 'minimal' })).data.historyId).toBe(msg.historyId.toString());
			// Gmail's Pub/Sub payload carries the id as a bare JSON number.
			expect(big.mailbox.notificationData()).toBe(`{"emailAddress":"${EMAIL}","historyId":${big.mailbox.historyId}}`);
			const watch = (await c.users.watch({ userId: 'me', requestBody: { topicName: TOPIC } })).data;
			expect(watch.historyId).toBe(big.mailbox.historyId);
		});
	});
});

describe('fake Google authentication', () => {
	test('API calls need a valid bearer token, answered 401 like Google otherwise', async () => {
		await withFake({}, async (fake) => {
			const res = await fetch(`${fake.baseUrl}/gmail/v1/users/me/profile`);
			expect(res.status).toBe(401);
			expect(res.headers.get('www-authenticate')).toContain('Bearer realm="https://accounts.google.com/"');
			expect(await res.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'required' }] } });

			const c = gmailFor(fake, oauthClient(fake, 'ya29.not-issued'));
			const err = await httpError(() => c.users.getProfile({ userId: 'me' }));
			expect(err.response.status).toBe(401);
			expect(err.response.data).toMatchObject({
				error: { code: 401, status: 'UNAUTHENTICATED', message: expect.stringMatching(/^Request had invalid authentication credentials/) },
			});
			expect(fake.quotaUnits({ successfulOnly: true })).toBe(0);
		});
	});

	test('an expired access token is refreshed through the token endpoint and the call retried', async () => {
		await withFake({ refreshTokens: ['rt-good'], clientId: 'client-id', clientSecret: 'client-secret' }, async (fake) => {
			const auth = oauthClient(fake, fake.issueToken(), 'rt-good');
			const c = gmailFor(fake, auth);
			await c.users.getProfile({ userId: 'me' });
			fake.expireTokens();
			const profile = await c.users.getProfile({ userId: 'me' });
			expect(profile.data.emailAddress).toBe(EMAIL);
			expect(fake.calls.map((x) => [x.method, x.status])).toEqual([
				['users.getProfile', 200],
				['users.getProfile', 401],
				['token', 200],
				['users.getProfile', 200],
			]);
			expect(auth.credentials.access_token).toMatch(/^ya29\.fake-/);

			fake.auth.revokeRefreshToken('rt-good');
			fake.expireTokens();
			const err = await httpError(() => c.users.getProfile({ userId: 'me' }));
			expect(err.response.data).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
		});
	});

	test('a token impersonating another user reads and watches that user\'s own mailbox (addMailbox)', async () => {
		await withFake({}, async (fake) => {
			const other = fake.addMailbox('other@example.com');
			expect(fake.addMailbox('Other@example.com')).toBe(other);
			const mine = fake.mailbox.deliver({ subject: 'mine' });
			const theirs = other.deliver({ subject: 'theirs' });
			const asDefault = gmailFor(fake, oauthClient(fake, fake.issueToken({ scopes: [SCOPES.modify] })));
			const asOther = gmailFor(fake, oauthClient(fake, fake.issueToken({ scopes: [SCOPES.modify], subject: 'other@example.com' })));
			expect((await asOther.users.getProfile({ userId: 'me' })).data.emailAddress).toBe('other@example.com');
			expect((await asDefault.users.getProfile({ userId: 'me' })).data.emailAddress).toBe(EMAIL);
			expect((await asOther.users.messages.list({ userId: 'me' })).data.messages?.map((m) => m.id)).toEqual([theirs.id]);
			expect((await asDefault.users.messages.list({ userId: 'me' })).data.messages?.map((m) => m.id)).toEqual([mine.id]);
			await asOther.users.watch({ userId: 'me', requestBody: { topicName: 'projects/p/topics/t' } });
			expect(other.watch?.topicName).toBe('projects/p/topics/t');
			expect(fake.mailbox.watch).toBeUndefined();
		});
	});

	test('scopes are enforced: requiredScope and the gmail.metadata restrictions', async () => {
		await withFake({ requiredScope: SCOPES.modify }, async (fake) => {
			const readonly = gmailFor(fake, oauthClient(fake, fake.issueToken({ scopes: [SCOPES.readonly] })));
			const err = await httpError(() => readonly.users.history.list({ userId: 'me', startHistoryId: fake.mailbox.historyId }));
			expect(err.response.status).toBe(403);
			expect(err.response.data).toMatchObject({
				error: { code: 403, message: 'Request had insufficient authentication scopes.', status: 'PERMISSION_DENIED', errors: [{ reason: 'insufficientPermissions' }] },
			});
			const modify = gmailFor(fake, oauthClient(fake, fake.issueToken({ scopes: [SCOPES.modify] })));
			await expect(modify.users.history.list({ userId: 'me', startHistoryId: fake.mailbox.historyId })).resolves.toMatchObject({ status: 200 });
		});
		await withFake({}, async (fake) => {
			const msg = fake.mailbox.deliver();
			const meta = gmailFor(fake, oauthClient(fake, fake.issueToken({ scopes: [SCOPES.metadata] })));
			expect((await httpError(() => meta.users.messages.get({ userId: 'me', id: msg.id }))).response.data).toMatchObject({
				error: { code: 403, message: "Metadata scope doesn't allow format FULL" },
			});
			await expect(meta.users.messages.get({ userId: 'me', id: msg.id, format: 'metadata' })).resolves.toMatchObject({ status: 200 });
			const other = await httpError(() => meta.users.getProfile({ userId: 'someone-else@example.com' }));
			expect(other.response.data).toMatchObject({ error: { code: 403, message: 'Delegation denied for someone-else@example.com' } });
		});
	});

	test('a service-account JWT (google-auth-library) is verified, its sub and scope recorded', async () => {
		const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
		const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
		const sa = 'svc@my-project.iam.gserviceaccount.com';
		await withFake({ serviceAccount: { clientEmail: sa, publicKey } }, async (fake) => {
			const jwt = new JWT({ email: sa, key, scopes: [SCOPES.readonly], subject: EMAIL, transporterOptions: { fetchImplementation: fake.fetch } });
			const c = gmailFor(fake, jwt);
			expect((await c.users.getProfile({ userId: 'me' })).data.emailAddress).toBe(EMAIL);
			expect(fake.auth.jwtGrants).toEqual([
				{ iss: sa, sub: EMAIL, scope: SCOPES.readonly, aud: 'https://oauth2.googleapis.com/token', signatureVerified: true, at: expect.any(Number) },
			]);
			expect(fake.calls.map((x) => x.method)).toEqual(['token', 'users.getProfile']);

			// No `sub`: Google issues a token, but Gmail refuses a service account acting as itself.
			const noSub = gmailFor(fake, new JWT({ email: sa, key, scopes: [SCOPES.readonly], transporterOptions: { fetchImplementation: fake.fetch } }));
			expect((await httpError(() => noSub.users.getProfile({ userId: 'me' }))).response.data).toMatchObject({
				error: { code: 400, message: 'Precondition check failed.', status: 'FAILED_PRECONDITION' },
			});

			const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
			const forged = new JWT({ email: sa, key: otherKey, scopes: [SCOPES.readonly], subject: EMAIL, transporterOptions: { fetchImplementation: fake.fetch } });
			await expect(forged.getAccessToken()).rejects.toThrow(/Invalid JWT Signature/);

			fake.auth.delegationAuthorized = false;
			const undelegated = new JWT({ email: sa, key, scopes: [SCOPES.readonly], subject: EMAIL, transporterOptions: { fetchImplementation: fake.fetch } });
			await expect(undelegated.getAccessToken()).rejects.toThrow(/unauthorized_client/);
		});
	});
});

describe('fake Google fault injection', () => {
	test('failNext serves Google-shaped errors; gaxios retries 5xx by itself', async () => {
		await withFake({ acceptAnyToken: true }, async (fake) => {
			const c = gmailFor(fake, oauthClient(fake, 't'));
			fake.faults.failNext('history.list', 503);
			await expect(c.users.history.list({ userId: 'me', startHistoryId: fake.mailbox.historyId })).resolves.toMatchObject({ status: 200 });
			expect(fake.calls.map((x) => x.status)).toEqual([503, 200]);

			fake.faults.failNext('history.list', 503, 1);
			const unavailable = await httpError(() => c.users.history.list({ userId: 'me', startHistoryId: fake.mailbox.historyId }, { retry: false }));
			expect(unavailable.response.data).toEqual({
				error: {
					code: 503,
					message: 'The service is currently unavailable.',
					errors: [{ message: 'The service is currently unavailable.', domain: 'global', reason: 'backendError' }],
					status: 'UNAVAILABLE',
				},
			});

			fake.faults.failNext('messages.get', 429, 1, { retryAfterSeconds: 7 });
			const limited = await httpError(() => c.users.messages.get({ userId: 'me', id: '0123456789abcdef' }, { retry: false }));
			expect(limited.response.status).toBe(429);
			expect(limited.response.headers.get('retry-after')).toBe('7');
			expect(limited.response.data).toMatchObject({
				error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/^User-rate limit exceeded\. {2}Retry after \d{4}-/), errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits' }] },
			});

			fake.faults.failNext('*', 403, 2);
			expect((await httpError(() => c.users.getProfile({ userId: 'me' }))).response.data).toMatchObject({ error: { code: 403, errors: [{ reason: 'userRateLimitExceeded' }] } });
			expect((await httpError(() => c.users.labels.list({ userId: 'me' }))).response.status).toBe(403);
			await expect(c.users.labels.list({ userId: 'me' })).resolves.toMatchObject({ status: 200 });
			expect(fake.faults.injected.map((f) => `${f.method}:${f.status}`)).toEqual([
				'history.list:503',
				'history.list:503',
				'messages.get:429',
				'users.getProfile:403',
				'labels.list:403',
			]);
		});
	});

	test('failRate is probabilistic but reproducible with a seed', async () => {
		const run = async (): Promise<number[]> => {
			let statuses: number[] = [];
			await withFake({ acceptAnyToken: true }, async (fake) => {
				const msg = fake.mailbox.deliver();
				fake.faults.failRate('messages.get', 0.3, [429, 503], 1234);
				for (let i = 0; i < 40; i++) {
					const res = await fetch(`${fake.baseUrl}/gmail/v1/users/me/messages/${msg.id}`, { headers: { authorization: 'Bearer x' } });
					statuses.push(res.status);
				}
				statuses = fake.calls.map((x) => x.status);
			});
			return statuses;
		};
		const first = await run();
		expect(await run()).toEqual(first);
		const failures = first.filter((s) => s !== 200);
		expect(failures.length).toBeGreaterThan(4);
		expect(failures.length).toBeLessThan(24);
		expect(new Set(failures)).toEqual(new Set([429, 503]));
	});
});

interface ChildReport {
	httpsWithCa: { status: number; emailAddress: string };
	publicRootsOnly: string;
	nativeFetchToken: { status: number; hasToken: boolean };
	gmailClient: { emailAddress: string; historyId: string };
	lookupAll: Array<{ address: string; family: number }>;
	promisified: { address: string; family: number };
	unrelated: string;
}

/** Runs a script in `node --require resolveGoogleToLoopback.js` with the fake's child env. */
function runChild(fake: FakeGoogle, token: string): Promise<ChildReport> {
	const script = `
const https = require('https'); const fs = require('fs'); const dns = require('dns'); const util = require('util');
(async () => {
	const out = {};
	out.httpsWithCa = await new Promise((resolve, reject) => {
		const req = https.get('https://gmail.googleapis.com/gmail/v1/users/me/profile', {
			ca: fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS), headers: { authorization: 'Bearer ' + process.env.TOKEN },
		}, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve({ status: res.statusCode, emailAddress: JSON.parse(b).emailAddress })); });
		req.on('error', reject);
	});
	// Proof that TLS is really verified: trusting only the public roots must fail.
	out.publicRootsOnly = await new Promise((resolve) => {
		https.get('https://www.googleapis.com/gmail/v1/users/me/profile', { agent: false, ca: require('tls').rootCertificates }, () => resolve('connected'))
			.on('error', (e) => resolve(e.code));
	});
	const tok = await fetch('https://oauth2.googleapis.com/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=rt&client_id=c&client_secret=s' });
	out.nativeFetchToken = { status: tok.status, hasToken: typeof (await tok.json()).access_token === 'string' };
	const { gmail } = require('@googleapis/gmail');
	const { OAuth2Client } = require('google-auth-library');
	const auth = new OAuth2Client(); auth.setCredentials({ access_token: process.env.TOKEN });
	const p = (await gmail({ version: 'v1', auth }).users.getProfile({ userId: 'me' })).data;
	out.gmailClient = { emailAddress: p.emailAddress, historyId: p.historyId };
	out.lookupAll = await dns.promises.lookup('www.googleapis.com', { all: true });
	out.promisified = await util.promisify(dns.lookup)('accounts.google.com');
	out.unrelated = await new Promise((resolve) => dns.lookup('fake-google-test.invalid', (err, addr) => resolve(err ? err.code : addr)));
	process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;
	const childEnv = fake.childEnv();
	const env = { ...process.env, ...childEnv, TOKEN: token, NODE_OPTIONS: [process.env.NODE_OPTIONS, childEnv.NODE_OPTIONS].filter(Boolean).join(' ') };
	return new Promise((resolve, reject) => {
		execFile(process.execPath, ['-e', script], { cwd: REPO_ROOT, env, timeout: 30_000 }, (err, stdout, stderr) => {
			if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
			else resolve(JSON.parse(stdout) as ChildReport);
		});
	});
}

describe('fake Google over HTTPS for a child process', () => {
	const expectWorking = (report: ChildReport, fake: FakeGoogle): void => {
		expect(report.httpsWithCa).toEqual({ status: 200, emailAddress: EMAIL });
		expect(report.publicRootsOnly).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
		expect(report.nativeFetchToken).toEqual({ status: 200, hasToken: true });
		expect(report.gmailClient).toEqual({ emailAddress: EMAIL, historyId: fake.mailbox.historyId });
		expect(report.lookupAll).toEqual([{ address: '127.0.0.1', family: 4 }]);
		expect(report.promisified).toEqual({ address: '127.0.0.1', family: 4 });
		expect(report.unrelated).toBe('ENOTFOUND');
		expect(fake.calls.map((c) => [c.method, c.host])).toEqual([
			['users.getProfile', 'gmail.googleapis.com'],
			['token', 'oauth2.googleapis.com'],
			['users.getProfile', 'gmail.googleapis.com'],
		]);
	};

	test('on 127.0.0.1:443 with a locally signed certificate for *.googleapis.com', async () => {
		await withFake({ https: true }, async (fake) => {
			expect(fake.httpsPort).toBe(443);
			expect(fake.caCertPath).toBeDefined();
			expect(fake.childEnv()).toEqual({ NODE_EXTRA_CA_CERTS: fake.caCertPath, NODE_OPTIONS: expect.stringMatching(/--require .*resolveGoogleToLoopback\.js$/) });
			expectWorking(await runChild(fake, fake.issueToken()), fake);
		});
	}, 40_000);

	test('on another port, with FAKE_GOOGLE_PORT rewriting connections to :443', async () => {
		await withFake({ https: true, httpsPort: 0 }, async (fake) => {
			expect(fake.httpsPort).not.toBe(443);
			expect(fake.childEnv().FAKE_GOOGLE_PORT).toBe(String(fake.httpsPort));
			expectWorking(await runChild(fake, fake.issueToken()), fake);
		});
	}, 40_000);
});
