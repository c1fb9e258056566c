/**
 * End to end, in a real n8n (1.123 on Node 20 and 2.41 on Node 24; E2E_N8N_VERSIONS=1,2):
 * the packed package installed as the Community Nodes screen does, Google replaced by the fake
 * Google over HTTPS (DNS preload + local CA in the n8n process), a service-account credential
 * with a real RSA key, the push workflow of fixtures/push-workflow.json.
 *
 * Activation watches the mailbox; a Pub/Sub push to the Production URL turns new emails into
 * items exactly once; duplicates, stale and malformed pushes start nothing; a real Pub/Sub
 * (the emulator) delivers through a push subscription; a restart keeps the cursor and emits
 * what arrived meanwhile; deactivation stops the watch.
 */
import { generateKeyPairSync } from 'crypto';
import { readFileSync } from 'fs';
import path from 'path';
import { GMAIL_READONLY, startFakeGoogle, type FakeGoogle, type FakeGoogleOptions } from '../support/fakeGoogle';
import {
	http,
	selectedMajors,
	sleep,
	startSession,
	staticDataFromDb,
	waitFor,
	type CredentialRef,
	type N8nSession,
	type WorkflowJson,
	itemsOf,
} from '../support/n8n';
import { plainRequest, startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { pubSubAdminRoutes, startFakeIam } from '../support/fakeIam';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE, publisherGranted } from '../../nodes/GmailPushTrigger/googleCloud/iam';

jest.setTimeout(120_000);

const fixture = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'push-workflow.json'), 'utf8')) as WorkflowJson;
const TRIGGER = 'Gmail Push Trigger';
const triggerNode = fixture.nodes.find((n) => n.name === TRIGGER)!;
const WEBHOOK_PATH = `${triggerNode.webhookId}/webhook`;
const SECRET = String(triggerNode.parameters.pushSecret);
const TOPIC = String(triggerNode.parameters.topicName);
const EMAIL = 'user@example.com';
const SERVICE_ACCOUNT = 'gmail-push-e2e@test-project.iam.gserviceaccount.com';
/** Time given to n8n to (not) start an execution before asserting that nothing happened. */
const SETTLE_MS = 2000; // longer than the follow-up sync after a notification (FOLLOW_UP_MS, 1.5 s), so counts taken after a settle include it

/** The fake on :443 as in production; on a free port (FAKE_GOOGLE_PORT in the preload) when 443 is taken. */
async function startFake(options: FakeGoogleOptions): Promise<FakeGoogle> {
	try {
		return await startFakeGoogle({ ...options, https: true });
	} catch (error) {
		if (!/EADDRINUSE|EACCES/.test((error as Error).message)) throw error;
		return await startFakeGoogle({ ...options, https: true, httpsPort: 0 });
	}
}

/** The push workflow with OAuth2 authentication, its own ids and webhook. */
function oauthVariant(workflow: WorkflowJson): WorkflowJson {
	const copy = JSON.parse(JSON.stringify(workflow)) as WorkflowJson;
	copy.name = `${workflow.name} OAuth2`;
	copy.nodes.forEach((node, i) => (node.id = `${String(node.id).slice(0, -2)}b${i}`));
	const trigger = copy.nodes.find((n) => n.name === TRIGGER)!;
	trigger.webhookId = '0d6c3f1e-5b7a-4e2d-8c9f-7a1b2c3d4e5f';
	trigger.parameters.authentication = 'oAuth2';
	trigger.credentials = { gmailPushOAuth2Api: { id: 'REPLACED-BY-THE-TEST', name: 'Gmail Push OAuth2' } };
	return copy;
}

/** The push workflow as the editor adds it today (version 1.1: Set Up Google Cloud on), on its own topic. */
function setUpVariant(workflow: WorkflowJson, topic: string): WorkflowJson {
	const copy = JSON.parse(JSON.stringify(workflow)) as WorkflowJson;
	copy.name = `${workflow.name} set up`;
	copy.nodes.forEach((node, i) => (node.id = `${String(node.id).slice(0, -2)}c${i}`));
	const trigger = copy.nodes.find((n) => n.name === TRIGGER)!;
	trigger.webhookId = '7c2d4e6f-8a9b-4c1d-9e2f-3a4b5c6d7e8f';
	trigger.typeVersion = 1.1;
	trigger.parameters.topicName = topic;
	return copy;
}

function pushBody(historyId: string, messageId: string): Record<string, unknown> {
	return {
		message: {
			data: Buffer.from(JSON.stringify({ emailAddress: EMAIL, historyId })).toString('base64'),
			messageId,
			message_id: messageId,
			publishTime: new Date().toISOString(),
			publish_time: new Date().toISOString(),
		},
		subscription: 'projects/test-project/subscriptions/s',
	};
}

let emulator: PubSubEmulator;

beforeAll(async () => {
	emulator = await startPubSubEmulator(); // fails naming what is missing (Java, the emulator)
});

afterAll(async () => {
	await emulator?.stop();
});

describe.each(selectedMajors())('Gmail Push Trigger, push delivery, in n8n %i.x', (major) => {
	let fake: FakeGoogle;
	let session: N8nSession;
	let credential: CredentialRef;
	let workflowId: string;
	let pushUrl: string;
	/** Message ids of every email delivered to the INBOX so far, in order. */
	const delivered: string[] = [];

	const post = async (body: unknown, init: { contentType?: string; token?: string | null } = {}) => {
		const token = init.token === undefined ? SECRET : init.token;
		const url = session.n8n.webhookUrl(WEBHOOK_PATH) + (token === null ? '' : `?token=${encodeURIComponent(token)}`);
		return await http<Record<string, unknown>>(url, {
			method: 'POST',
			headers: { 'content-type': init.contentType ?? 'application/json' },
			body: typeof body === 'string' ? body : JSON.stringify(body),
		});
	};

	/** POST like Pub/Sub does: redeliver on 503 (trigger not ready yet) until 2xx. */
	const push = async (historyId: string, messageId: string) => {
		const statuses: number[] = [];
		const reply = await waitFor(
			`a 2xx answer to the push of historyId ${historyId}`,
			async () => {
				const r = await post(pushBody(historyId, messageId));
				statuses.push(r.status);
				if (r.status === 503 || r.status === 429) return undefined;
				return r;
			},
			30_000,
			500,
		);
		return { reply, statuses };
	};

	const triggerItems = async () => {
		const executions = await session.api.executions(workflowId);
		return { executions, items: executions.flatMap((e) => itemsOf(e, TRIGGER)) };
	};

	/** Waits until the trigger has emitted `count` items in total (and lets stragglers arrive). */
	const waitForItems = async (count: number) => {
		await waitFor(`${count} trigger item(s)`, async () => ((await triggerItems()).items.length >= count ? true : undefined), 30_000, 250);
		await sleep(SETTLE_MS);
		return await triggerItems();
	};

	const deliver = (subject: string) => {
		const message = fake.mailbox.deliver({ from: 'Alice <alice@example.org>', to: EMAIL, subject, text: `Body of ${subject}` });
		delivered.push(message.id);
		return message;
	};

	/** Runs a step; on failure adds the n8n log tail to the error. */
	const step = async (fn: () => Promise<void>) => {
		try {
			await fn();
		} catch (error) {
			const e = error as Error;
			e.message += `\n--- n8n ${major}.x log tail (${session?.n8n.logFile}) ---\n${session?.n8n.tail(60) ?? ''}`;
			throw e;
		}
	};

	beforeAll(async () => {
		const { publicKey, privateKey } = generateKeyPairSync('rsa', {
			modulusLength: 2048,
			publicKeyEncoding: { type: 'spki', format: 'pem' },
			privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
		});
		fake = await startFake({
			emailAddress: EMAIL,
			expectedProject: 'test-project',
			serviceAccount: { clientEmail: SERVICE_ACCOUNT, publicKey },
		});
		session = await startSession({ major, env: fake.childEnv() });
		credential = await session.api.createCredential('Gmail Push service account', 'gmailPushServiceAccountApi', {
			email: SERVICE_ACCOUNT,
			privateKey,
			delegatedEmail: EMAIL,
		});
		workflowId = await session.api.importWorkflow(fixture, [credential]);
		pushUrl = `${session.n8n.webhookUrl(WEBHOOK_PATH)}?token=${encodeURIComponent(SECRET)}`;
	}, 240_000);

	afterAll(async () => {
		await session?.close();
		await fake?.close();
	});

	it('activation watches the mailbox once, on the topic, and registers the Production URL', async () => {
		await step(async () => {
			const activation = await session.api.activate(workflowId);
			expect(activation.status).toBe(200);
			await session.api.waitForWebhookRegistered(WEBHOOK_PATH);
			await waitFor('users.watch', () => fake.count('users.watch') >= 1, 30_000);
			await sleep(SETTLE_MS);
			expect(fake.count('users.watch')).toBe(1);
			expect(fake.mailbox.watch).toMatchObject({ topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' });
			// The JWT grant of the service account, signed with the credential's key, for the delegated user.
			expect(fake.auth.jwtGrants.length).toBeGreaterThanOrEqual(1);
			expect(fake.auth.jwtGrants[0]).toMatchObject({ iss: SERVICE_ACCOUNT, sub: EMAIL, signatureVerified: true });
			expect((await session.api.getWorkflow(workflowId)).active).toBe(true);
			expect(await session.api.executions(workflowId)).toEqual([]);
			// n8n runs the node's trigger() next to its webhook (1.x and 2.x log it differently).
			const triggerStarted = major === 1 ? /Added triggers and pollers for workflow "Gmail Push Trigger e2e/ : /Activated trigger node "Gmail Push Trigger"/;
			expect(session.n8n.log).toMatch(triggerStarted);
		});
	});

	it('a push for 3 new emails yields exactly 3 items, each message once', async () => {
		await step(async () => {
			const mails = [deliver('first'), deliver('second'), deliver('third')];
			const { reply, statuses } = await push(fake.mailbox.historyId, '1');
			expect(reply.status).toBe(200);
			if (statuses.length > 1) console.warn(`n8n ${major}.x: first push answered ${statuses.join(', ')} before 200`);
			const { executions, items } = await waitForItems(3);
			expect(items.map((i) => i.id).sort()).toEqual(mails.map((m) => m.id).sort());
			expect(items.map((i) => i.Subject).sort()).toEqual(['first', 'second', 'third']);
			expect(items.every((i) => i.event === 'messageAdded')).toBe(true);
			expect(executions.every((e) => e.status === 'success')).toBe(true);
			// Emitted by trigger()'s engine (this.emit), not by webhook(): n8n ran both.
			expect(executions.every((e) => e.mode === 'trigger')).toBe(true);
			// The advanced cursor reaches the DB with the emit, not only at shutdown.
			const head = BigInt(fake.mailbox.historyId);
			await waitFor(
				'the cursor in the DB to cover the 3 emails',
				async () => BigInt(((await staticDataFromDb(session.userFolder, workflowId))[`node:${TRIGGER}`] as { cursor?: string } | undefined)?.cursor ?? '0') >= head,
				10_000,
			);
		});
	});

	it('the same push again and an older one answer 200 and start nothing, without Gmail calls', async () => {
		await step(async () => {
			const before = (await session.api.executions(workflowId)).length;
			const history = fake.count('history.list');
			const gets = fake.count('messages.get');
			const again = await post(pushBody(fake.mailbox.historyId, '1'));
			expect(again.status).toBe(200);
			const older = await post(pushBody(String(BigInt(fake.mailbox.historyId) - 100n), '0'));
			expect(older.status).toBe(200);
			await sleep(SETTLE_MS);
			expect((await session.api.executions(workflowId)).length).toBe(before);
			expect(fake.count('history.list')).toBe(history);
			expect(fake.count('messages.get')).toBe(gets);
		});
	});

	it('malformed pushes are acknowledged and ignored, unauthenticated ones refused; none starts anything', async () => {
		await step(async () => {
			const before = (await session.api.executions(workflowId)).length;
			const gmailCalls = fake.calls.length;
			// Authenticated but no Gmail notification: acknowledged, so Pub/Sub does not redeliver it for days.
			for (const reply of [await post({}), await post('not json', { contentType: 'text/plain' }), await post({ message: { data: 'bm90IGpzb24=' } })]) {
				expect(reply.status).toBe(200);
				expect(JSON.parse(reply.text)).toMatchObject({ status: 'ignored' });
			}
			expect((await post(pushBody(fake.mailbox.historyId + '0', '9'), { token: null })).status).toBe(401);
			expect((await post(pushBody(fake.mailbox.historyId + '0', '9'), { token: 'wrong-secret-0123456789' })).status).toBe(403);
			await sleep(SETTLE_MS);
			expect((await session.api.executions(workflowId)).length).toBe(before);
			expect(fake.calls.length).toBe(gmailCalls);
		});
	});

	it('a real Pub/Sub push subscription (emulator) delivers a new email as one item', async () => {
		await step(async () => {
			const emu = emulator;
			const topic = `projects/test-project/topics/gmail-push-v${major}`;
			const subscription = `projects/test-project/subscriptions/n8n-v${major}`;
			await emu.createTopic(topic);
			await emu.createPushSubscription(topic, subscription, pushUrl);
			// Gmail's side: each change the watch covers publishes {emailAddress, historyId}.
			const published: string[] = [];
			const unsubscribe = fake.mailbox.subscribe((change) => {
				if (change.notifies) published.push(change.historyId);
				if (change.notifies) void emu.publish(topic, change.notificationData);
			});
			try {
				const { items: before } = await triggerItems();
				const mail = deliver('through pubsub');
				const { items } = await waitForItems(before.length + 1);
				expect(published).toHaveLength(1);
				expect(items.slice(before.length).map((i) => i.id)).toEqual([mail.id]);
				expect(items.filter((i) => i.id === mail.id)).toHaveLength(1);
			} finally {
				unsubscribe();
				await emu.deleteSubscription(subscription);
			}
		});
	});

	it('the cursor survives a restart; mail that arrived while n8n was down is emitted once, after the last execution before the stop again, marked possibleDuplicate', async () => {
		await step(async () => {
			const stored = await staticDataFromDb(session.userFolder, workflowId);
			const state = stored[`node:${TRIGGER}`] as { cursor?: string; watch?: unknown; emailAddress?: string } | undefined;
			expect(state?.emailAddress).toBe(EMAIL);
			expect(state?.watch).toBeDefined();
			expect(BigInt(state?.cursor ?? '0')).toBeGreaterThanOrEqual(BigInt(fake.mailbox.watch!.historyId));

			const watches = fake.count('users.watch');
			const { items: before } = await triggerItems();
			await session.n8n.stop();
			const mail = deliver('while n8n was down');
			const from = session.n8n.logOffset();
			await session.n8n.start();
			await session.api.waitForWebhookRegistered(WEBHOOK_PATH);
			const { items } = await waitForItems(before.length + 2);
			// n8n reported that execution's success only after it last saved the node's state: the
			// node cannot know it succeeded, so its email goes out again first, marked.
			expect(items.slice(before.length).map((i) => [i.id, i.possibleDuplicate])).toEqual([
				[before[before.length - 1].id, true],
				[mail.id, undefined],
			]);

			// An old push after the restart is covered by the persisted cursor.
			const executions = (await session.api.executions(workflowId)).length;
			const replay = await push(fake.mailbox.historyId, '1');
			expect(replay.reply.status).toBe(200);
			await sleep(SETTLE_MS);
			expect((await session.api.executions(workflowId)).length).toBe(executions);
			// The start watches once anew: the node cannot know whether a users.stop ran meanwhile.
			expect(fake.count('users.watch')).toBe(watches + 1);
			expect(session.n8n.grep(/Gmail Push Trigger: watch (created|renewed)/, from)).toHaveLength(1);
		});
	});

	it('deactivation stops the watch and unregisters the webhook', async () => {
		await step(async () => {
			const reply = await session.api.deactivate(workflowId);
			expect(reply.status).toBe(200);
			await waitFor('users.stop', () => fake.count('users.stop') >= 1, 30_000);
			await session.api.waitForWebhookUnregistered(WEBHOOK_PATH);
			await sleep(SETTLE_MS);
			expect(fake.count('users.stop')).toBe(1);
			expect(fake.mailbox.watch).toBeUndefined();
			const before = (await session.api.executions(workflowId)).length;
			deliver('after deactivation');
			expect((await post(pushBody(fake.mailbox.historyId, '2'))).status).toBe(404);
			await sleep(SETTLE_MS);
			expect((await session.api.executions(workflowId)).length).toBe(before);
		});
	});

	it('an OAuth2 credential works through n8n: the token is sent, refreshed on 401 and stored', async () => {
		await step(async () => {
			const seeded = fake.issueToken({ scopes: [GMAIL_READONLY] });
			const oauth = await session.api.createCredential('Gmail Push OAuth2', 'gmailPushOAuth2Api', {
				clientId: 'e2e-client.apps.googleusercontent.com',
				clientSecret: 'e2e-client-secret',
				oauthTokenData: { access_token: seeded, refresh_token: '1//e2e-refresh-token', expires_in: 3599, token_type: 'Bearer', scope: GMAIL_READONLY },
			});
			expect((await session.api.credentialData(oauth.id)).oauthTokenData).toBeTruthy();
			const workflow = oauthVariant(fixture);
			const webhookPath = `${workflow.nodes[0].webhookId}/webhook`;
			const id = await session.api.importWorkflow(workflow, [oauth]);
			const watches = fake.count('users.watch');
			const tokens = fake.count('token');
			expect((await session.api.activate(id)).status).toBe(200);
			await session.api.waitForWebhookRegistered(webhookPath);
			await waitFor('users.watch with the OAuth2 token', () => fake.count('users.watch') > watches, 30_000);
			expect(fake.count('token')).toBe(tokens); // the stored access token was used as is

			fake.expireTokens(); // Gmail now answers 401: n8n must refresh with the refresh token
			const mail = deliver('with a refreshed token');
			const url = `${session.n8n.webhookUrl(webhookPath)}?token=${encodeURIComponent(SECRET)}`;
			const reply = await waitFor(
				'a 2xx answer to the OAuth2 push',
				async () => {
					const r = await http(url, { method: 'POST', json: pushBody(fake.mailbox.historyId, '10') });
					return r.status === 503 ? undefined : r;
				},
				30_000,
				500,
			);
			expect(reply.status).toBe(200);
			const executions = await session.api.waitForExecutions(id, 1);
			await sleep(SETTLE_MS);
			const items = (await session.api.executions(id)).flatMap((e) => itemsOf(e, TRIGGER));
			expect(executions.length).toBeGreaterThanOrEqual(1);
			expect(items.map((i) => i.id)).toEqual([mail.id]);
			expect(fake.count('token')).toBeGreaterThan(tokens);
			const refreshed = [...fake.auth.tokens.values()].filter((t) => t.grant === 'refresh_token');
			expect(refreshed.length).toBeGreaterThanOrEqual(1);

			// n8n stored the refreshed token: the next push uses it without another refresh.
			const tokensAfterRefresh = fake.count('token');
			const next = deliver('with the stored token');
			expect((await http(url, { method: 'POST', json: pushBody(fake.mailbox.historyId, '11') })).status).toBe(200);
			await waitFor('the second OAuth2 item', async () => ((await session.api.executions(id)).flatMap((e) => itemsOf(e, TRIGGER)).length >= 2 ? true : undefined), 30_000);
			const all = (await session.api.executions(id)).flatMap((e) => itemsOf(e, TRIGGER));
			expect(all.map((i) => i.id)).toEqual([mail.id, next.id]);
			expect(fake.count('token')).toBe(tokensAfterRefresh);

			const stops = fake.count('users.stop');
			expect((await session.api.deactivate(id)).status).toBe(200);
			await waitFor('users.stop', () => fake.count('users.stop') > stops, 30_000);
		});
	});
	it('a node added now (version 1.1) sets Google Cloud up for push: the emulator pushes the first email to the Production URL', async () => {
		await step(async () => {
			const iam = await startFakeIam(emulator.baseUrl);
			for (const route of pubSubAdminRoutes(iam)) fake.addRoute(route);
			const topic = `projects/test-project/topics/gmail-push-set-up-v${major}`;
			const workflow = setUpVariant(fixture, topic);
			const trigger = workflow.nodes.find((n) => n.name === TRIGGER)!;
			const webhookPath = `${trigger.webhookId}/webhook`;
			// Gmail's side: to the watch's topic, when gmail-api-push may publish there.
			const unsubscribe = fake.mailbox.subscribe((change) => {
				const target = fake.mailbox.watch?.topicName;
				if (change.notifies && target && publisherGranted({ bindings: iam.policy(target)?.bindings })) void emulator.publish(target, change.notificationData);
			});
			try {
				expect((await plainRequest(`${emulator.baseUrl}/v1/${topic}`, 'GET')).status).toBe(404);
				const id = await session.api.importWorkflow(workflow, [credential]);
				const from = session.n8n.logOffset();
				const watches = fake.count('users.watch');
				expect((await session.api.activate(id)).status).toBe(200);
				await session.api.waitForWebhookRegistered(webhookPath);
				await session.n8n.waitForLog(/Google Cloud set up: topic \S+ created, Gmail's publisher grant granted, push subscription \S+ created/, 30_000, from);
				await waitFor('the watch on the new topic', () => fake.mailbox.watch?.topicName === topic, 30_000);
				await sleep(SETTLE_MS);
				// One watch, after the set-up: create() made it, the trigger (started after create() in both versions) took it over.
				expect(fake.count('users.watch') - watches).toBe(1);

				expect(iam.policy(topic)?.bindings).toEqual([{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }]);
				const name = `projects/test-project/subscriptions/n8n-gmail-push-${id}-${String(trigger.id).slice(0, 8)}`;
				const made = JSON.parse((await plainRequest(`${emulator.baseUrl}/v1/${name}`, 'GET')).text) as { topic?: string; pushConfig?: { pushEndpoint?: string }; expirationPolicy?: { ttl?: string } };
				expect(made.topic).toBe(topic);
				expect(made.pushConfig?.pushEndpoint).toMatch(new RegExp(`/webhook/${webhookPath}\\?token=${encodeURIComponent(SECRET)}$`));
				expect(made.expirationPolicy?.ttl).toBeFalsy();

				const mail = deliver('pushed after the automatic set-up');
				await waitFor('the pushed item', async () => ((await session.api.executions(id)).flatMap((e) => itemsOf(e, TRIGGER)).length >= 1 ? true : undefined), 30_000);
				await sleep(SETTLE_MS);
				expect((await session.api.executions(id)).flatMap((e) => itemsOf(e, TRIGGER)).map((i) => i.id)).toEqual([mail.id]);

				// Deactivated and added again within the minute (as a save does): the push
				// subscription stays past the removal's wait and the next email is pushed through it.
				const firstDeactivation = Date.now();
				const firstStops = fake.count('users.stop');
				const reAdded = session.n8n.logOffset();
				expect((await session.api.deactivate(id)).status).toBe(200);
				await waitFor('users.stop', () => fake.count('users.stop') > firstStops, 30_000);
				expect((await session.api.activate(id)).status).toBe(200);
				await session.api.waitForWebhookRegistered(webhookPath);
				await session.n8n.waitForLog(/Google Cloud set up: topic \S+ present, Gmail's publisher grant present, push subscription \S+ present/, 30_000, reAdded);
				await sleep(Math.max(0, firstDeactivation + 65_000 - Date.now()));
				expect((await plainRequest(`${emulator.baseUrl}/v1/${name}`, 'GET')).status).toBe(200);
				expect(session.n8n.log.slice(reAdded)).not.toMatch(/stayed deactivated/);
				expect(iam.calls.filter((c) => c.startsWith('DELETE '))).toEqual([]);
				const next = deliver('pushed after a re-activation');
				await waitFor('the item pushed after the re-activation', async () => ((await session.api.executions(id)).flatMap((e) => itemsOf(e, TRIGGER)).length >= 2 ? true : undefined), 30_000);
				await sleep(SETTLE_MS);
				expect((await session.api.executions(id)).flatMap((e) => itemsOf(e, TRIGGER)).map((i) => i.id).sort()).toEqual([mail.id, next.id].sort());

				const stops = fake.count('users.stop');
				const deactivated = session.n8n.logOffset();
				expect((await session.api.deactivate(id)).status).toBe(200);
				await waitFor('users.stop', () => fake.count('users.stop') > stops, 30_000);
				// Deactivated for good: a minute later the push subscription the node made is deleted;
				// the topic and Gmail's grant stay (a topic may serve other mailboxes).
				expect((await plainRequest(`${emulator.baseUrl}/v1/${name}`, 'GET')).status).toBe(200);
				await session.n8n.waitForLog(new RegExp(`stayed deactivated; subscription ${name}: deleted it`), 100_000, deactivated);
				expect((await plainRequest(`${emulator.baseUrl}/v1/${name}`, 'GET')).status).toBe(404);
				expect((await plainRequest(`${emulator.baseUrl}/v1/${topic}`, 'GET')).status).toBe(200);
				expect(iam.policy(topic)?.bindings).toEqual([{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }]);
				expect(iam.calls.filter((c) => c.startsWith('DELETE '))).toEqual([`DELETE ${name}`]);
			} finally {
				unsubscribe();
				await iam.close();
			}
		});
	}, 420_000);
});
