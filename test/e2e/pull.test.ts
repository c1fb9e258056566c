/**
 * Pull delivery end to end, in a real n8n (1.123 and 2.41; E2E_N8N_VERSIONS=1,2) against Google's
 * real Pub/Sub emulator (PUBSUB_EMULATOR_HOST in n8n's env) and the fake Gmail. Gmail's side is
 * played by the fake: every change its watch covers is published to the emulator topic, as Gmail
 * does; the node's StreamingPull subscriber reads the pull subscription.
 *
 * Activation watches once; each email is emitted exactly once; a Gmail failure that outlasts the
 * node's retry budget nacks the message, the emulator redelivers it and the email is emitted
 * then (once); deactivation stops the watch; a wrong subscription fails activation by name.
 */
import { GMAIL_PUBLISHER, PUBLISHER_ROLE, publisherGranted } from '../../nodes/GmailPushTrigger/googleCloud/iam';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { plainRequest, startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { selectedMajors, sleep, waitFor } from '../support/n8n';
import { PROJECT, SETTLE_MS, activateAndWait, startE2e, triggerWorkflow, type E2eContext } from './deliveryHarness';

jest.setTimeout(120_000);

let emulator: PubSubEmulator;
/** Google's IAM for the topics, in front of the emulator (which has none). */
let iam: FakeIam;

beforeAll(async () => {
	emulator = await startPubSubEmulator(); // fails naming what is missing (Java, the emulator)
	iam = await startFakeIam(emulator.baseUrl);
}, 90_000);

afterAll(async () => {
	await iam?.close();
	await emulator?.stop();
});

async function inEmulator(name: string): Promise<{ status: number; body: Record<string, unknown> }> {
	const reply = await plainRequest(`${emulator.baseUrl}/v1/${name}`, 'GET');
	return { status: reply.status, body: reply.text ? (JSON.parse(reply.text) as Record<string, unknown>) : {} };
}

describe.each(selectedMajors())('Gmail Push Trigger, pull delivery, in n8n %i.x', (major) => {
	const topic = `projects/${PROJECT}/topics/gmail-pull-v${major}`;
	const subscription = `projects/${PROJECT}/subscriptions/n8n-pull-v${major}`;
	const workflow = triggerWorkflow({ name: `Gmail pull e2e v${major}`, delivery: 'pull', topicName: topic, subscriptionName: subscription });
	let ctx: E2eContext;
	let workflowId: string;
	/** historyIds Gmail (the fake) published to the topic. */
	const published: string[] = [];
	const publishing: Array<Promise<unknown>> = [];
	/** Message ids delivered to the INBOX while the workflow was active. */
	const delivered: string[] = [];

	beforeAll(async () => {
		// Set up by hand, as the README's gcloud commands do.
		await emulator.createTopic(topic);
		await emulator.createPullSubscription(topic, subscription, 10);
		iam.setPolicy(topic, { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
		ctx = await startE2e(major, { PUBSUB_EMULATOR_HOST: emulator.host });
		// pubsub.googleapis.com, for Set Up Google Cloud.
		for (const route of pubSubAdminRoutes(iam)) ctx.fake.addRoute(route);
		// Gmail's side: each change its watch covers is published to the watch's topic, when
		// gmail-api-push may publish there (else Gmail publishes nothing).
		ctx.fake.mailbox.subscribe((change) => {
			const target = ctx.fake.mailbox.watch?.topicName ?? topic;
			if (!change.notifies || !publisherGranted({ bindings: iam.policy(target)?.bindings })) return;
			published.push(change.historyId);
			publishing.push(emulator.publish(target, change.notificationData));
		});
		workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(publishing);
		await ctx?.close();
	});

	const deliver = (subject: string) => {
		const message = ctx.deliver(subject);
		delivered.push(message.id);
		return message;
	};

	it('activation watches the mailbox once, on the topic, and starts emitting nothing', async () => {
		await ctx.step(async () => {
			await activateAndWait(ctx, workflowId, workflow.name);
			await sleep(SETTLE_MS);
			expect(ctx.fake.count('users.watch')).toBe(1);
			expect(ctx.fake.mailbox.watch).toMatchObject({ topicName: topic, labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' });
			expect(ctx.fake.count('users.stop')).toBe(0);
			expect((await ctx.session.api.getWorkflow(workflowId)).active).toBe(true);
			expect(await ctx.session.api.executions(workflowId)).toEqual([]);
		});
	});

	it('emails published through Pub/Sub are each emitted exactly once', async () => {
		await ctx.step(async () => {
			const mails = [deliver('pull one'), deliver('pull two'), deliver('pull three')];
			expect(published).toHaveLength(3);
			const { executions, items } = await ctx.waitForItems(workflowId, 3);
			expect(items.map((i) => i.id).sort()).toEqual(mails.map((m) => m.id).sort());
			expect(items.map((i) => i.Subject).sort()).toEqual(['pull one', 'pull three', 'pull two']);
			expect(executions.every((e) => e.status === 'success' && e.mode === 'trigger')).toBe(true);
			// Three notifications, but the first sync may cover the others: no more Gmail work than needed.
			expect(ctx.fake.count('messages.get')).toBe(3);
			// Everything was acknowledged: nothing is left for a second reader of the subscription.
			await sleep(SETTLE_MS);
			expect(await emulator.pull(subscription)).toEqual([]);
		});
	});

	it('a Gmail failure beyond the retry budget nacks the message; the redelivery emits the email once', async () => {
		await ctx.step(async () => {
			const { items: before } = await ctx.triggerItems(workflowId);
			const publishedBefore = published.length;
			const historyCalls = ctx.fake.count('history.list');
			// The node retries a 503 for ~7 s (5 to 7 attempts): 8 failures exhaust one delivery's budget.
			ctx.fake.faults.failNext('history.list', 503, 8);
			const started = Date.now();
			const mail = deliver('after a Gmail outage');
			// Only Pub/Sub's redelivery can bring it now: the safety net waits an hour.
			const { items, executions } = await ctx.waitForItems(workflowId, before.length + 1, 60_000);
			const elapsed = Date.now() - started;
			expect(items.slice(before.length).map((i) => i.id)).toEqual([mail.id]);
			expect(published.length - publishedBefore).toBe(1); // one notification, delivered more than once
			const failures = ctx.fake.faults.injected.filter((f) => f.method === 'history.list');
			expect(failures).toHaveLength(8);
			expect(ctx.fake.count('history.list') - historyCalls).toBeGreaterThanOrEqual(9);
			// The first delivery gave up after its budget, then the redelivered one succeeded.
			expect(failures[failures.length - 1].at - failures[0].at).toBeGreaterThan(3000);
			expect(elapsed).toBeGreaterThan(5000);
			expect(executions.every((e) => e.status === 'success')).toBe(true);
			await sleep(SETTLE_MS);
			expect(await emulator.pull(subscription)).toEqual([]);
			expect((await ctx.triggerItems(workflowId)).items.filter((i) => i.id === mail.id)).toHaveLength(1);
		});
	});

	it('deactivation stops the watch once and stops reading the subscription', async () => {
		await ctx.step(async () => {
			const { items: before } = await ctx.triggerItems(workflowId);
			const reply = await ctx.session.api.deactivate(workflowId);
			expect(reply.status).toBe(200);
			await waitFor('users.stop', () => ctx.fake.count('users.stop') >= 1, 30_000);
			await sleep(SETTLE_MS);
			expect(ctx.fake.count('users.stop')).toBe(1);
			expect(ctx.fake.mailbox.watch).toBeUndefined();
			expect(ctx.fake.count('users.watch')).toBe(1);
			// Gmail would not publish without a watch; a stray message stays in the subscription.
			await emulator.publish(topic, ctx.fake.mailbox.notificationData());
			await sleep(SETTLE_MS);
			expect((await ctx.triggerItems(workflowId)).items).toHaveLength(before.length);
			// A subscriber still reading would ack it (covered): gone for good. On a loaded machine the
			// emulator may still lease it to the stream that just closed; the lease ends with the ack
			// deadline (10 s) and it is pullable again. So wait past that deadline before concluding.
			const left = await waitFor('the stray message to be pullable', async () => {
				const messages = await emulator.pull(subscription);
				return messages.length > 0 ? messages : undefined;
			}, 25_000, 500);
			expect(left).toHaveLength(1);
			await emulator.acknowledge(subscription, left.map((m) => m.ackId));
			expect(new Set(delivered).size).toBe(before.length);
		});
	});

	it('a subscription that does not exist fails activation with a message naming it', async () => {
		await ctx.step(async () => {
			const missing = `projects/${PROJECT}/subscriptions/no-such-subscription-v${major}`;
			const wrong = triggerWorkflow({ name: `Gmail pull wrong subscription v${major}`, delivery: 'pull', topicName: topic, subscriptionName: missing });
			const id = await ctx.session.api.importWorkflow(wrong, [ctx.credential]);
			const route = `/workflows/${id}/${major === 2 ? 'publish' : 'activate'}`;
			const reply = await ctx.session.api.api('POST', route, major === 2 ? {} : undefined, [400]);
			let message: string;
			if (major === 1) {
				// 1.x activates while answering: the error is the answer.
				expect(reply.status).toBe(400);
				message = reply.text;
				expect((await ctx.session.api.getWorkflow(id)).active).toBe(false);
			} else {
				// 2.x publishes at once and activates in the background (3 attempts); the editor then
				// shows the trigger's error from the publication status, which is what we read here.
				expect(reply.status).toBe(200);
				const status = await waitFor(
					'a settled publication status',
					async () => {
						const s = await ctx.session.api.rest<{ status: string; triggers: Array<{ status: string; errorMessage: string | null }> }>('GET', `/rest/workflows/${id}/publication-status`);
						return s.status === 'in_progress' || s.status === 'not_published' ? undefined : s;
					},
					60_000,
					500,
				);
				expect(status.status).toBe('failed');
				message = status.triggers.map((t) => t.errorMessage ?? '').join('\n');
			}
			expect(message).toContain(`The subscription ${missing} does not exist`);
			expect(message).toContain('gcloud pubsub subscriptions create no-such-subscription');
			// The set-up check that follows names it too, and finds the rest in place.
			expect(message).toMatch(new RegExp(`[Ss]et-up check:[\\s\\S]*Subscription: ${missing} does not exist`));
			expect(message).not.toMatch(/Gmail's publisher grant: gmail-api-push\S* may not publish/);
		});
	});
	it('a node added now (version 1.1) sets Google Cloud up from an empty project; the first email comes out once; a re-activation only reads', async () => {
		await ctx.step(async () => {
			// Every workflow above is a saved version-1 node: Set Up Google Cloud stayed off and wrote
			// nothing (the set-up check after the failed activation above only read).
			expect(ctx.fake.calls.filter((c) => c.method.startsWith('pubsub.') && c.httpMethod !== 'GET')).toEqual([]);
			const autoTopic = `projects/${PROJECT}/topics/gmail-auto-v${major}`;
			const autoSubscription = `projects/${PROJECT}/subscriptions/n8n-auto-v${major}`;
			expect((await inEmulator(autoTopic)).status).toBe(404);
			expect((await inEmulator(autoSubscription)).status).toBe(404);
			const auto = triggerWorkflow({ name: `Gmail pull set up v${major}`, delivery: 'pull', topicName: autoTopic, subscriptionName: autoSubscription });
			auto.nodes[0].typeVersion = 1.1; // what the editor adds today; no setUpGoogleCloud: its default
			const id = await ctx.session.api.importWorkflow(auto, [ctx.credential]);
			const from = ctx.session.n8n.logOffset();

			await activateAndWait(ctx, id, auto.name);

			await ctx.session.n8n.waitForLog(/Google Cloud set up: topic \S+ created, Gmail's publisher grant granted, pull subscription \S+ created/, 10_000, from);
			expect((await inEmulator(autoTopic)).status).toBe(200);
			const made = (await inEmulator(autoSubscription)).body as { topic?: string; ackDeadlineSeconds?: number; pushConfig?: { pushEndpoint?: string }; expirationPolicy?: { ttl?: string } };
			expect(made).toMatchObject({ topic: autoTopic, ackDeadlineSeconds: 60 });
			expect(made.pushConfig?.pushEndpoint).toBeFalsy();
			expect(made.expirationPolicy?.ttl).toBeFalsy();
			expect(iam.policy(autoTopic)?.bindings).toEqual([{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }]);
			expect(ctx.fake.mailbox.watch?.topicName).toBe(autoTopic);

			const mail = ctx.deliver('after the automatic set-up');
			const { items } = await ctx.waitForItems(id, 1, 60_000);
			expect(items.map((i) => i.id)).toEqual([mail.id]);

			const before = iam.calls.length;
			const firstDeactivation = Date.now();
			const deactivated = ctx.session.n8n.logOffset();
			expect((await ctx.session.api.deactivate(id)).status).toBe(200);
			await activateAndWait(ctx, id, auto.name);
			const writes = iam.calls.slice(before).filter((c) => c.startsWith('PUT ') || c === 'topics.setIamPolicy');
			expect(writes).toEqual([]);
			expect(iam.calls.length - before).toBe(3); // the topic, its policy, the subscription: read once each
			const again = ctx.deliver('after the re-activation');
			const { items: after } = await ctx.waitForItems(id, 2, 60_000);
			expect(after.map((i) => i.id).sort()).toEqual([mail.id, again.id].sort());
			await sleep(SETTLE_MS);
			expect((await ctx.triggerItems(id)).items).toHaveLength(2);

			// Added again before the removal's wait ended (as a save does): the subscription stays.
			await sleep(Math.max(0, firstDeactivation + 65_000 - Date.now()));
			expect((await inEmulator(autoSubscription)).status).toBe(200);
			expect(ctx.session.n8n.log.slice(deactivated)).not.toMatch(/stayed deactivated/);
			// (The fake IAM serves both n8n versions' runs: count this run's calls only.)
			expect(iam.calls.slice(before).filter((c) => c.startsWith('DELETE '))).toEqual([]);

			// Deactivated for good: a minute later the subscription the node made is deleted; the
			// topic and Gmail's grant stay (a topic may serve other mailboxes).
			const final = ctx.session.n8n.logOffset();
			expect((await ctx.session.api.deactivate(id)).status).toBe(200);
			await ctx.session.n8n.waitForLog(new RegExp(`stayed deactivated; subscription ${autoSubscription}: deleted it`), 100_000, final);
			expect((await inEmulator(autoSubscription)).status).toBe(404);
			expect((await inEmulator(autoTopic)).status).toBe(200);
			expect(iam.policy(autoTopic)?.bindings).toEqual([{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }]);
			expect(iam.calls.slice(before).filter((c) => c.startsWith('DELETE '))).toEqual([`DELETE ${autoSubscription}`]);
		});
	}, 360_000);
	/** Activates a workflow that must fail, and returns what n8n shows for it (1.x: the answer; 2.x: the publication status). */
	const activationFailure = async (workflowId: string): Promise<string> => {
		const reply = await ctx.session.api.api('POST', `/workflows/${workflowId}/${major === 2 ? 'publish' : 'activate'}`, major === 2 ? {} : undefined, [400]);
		if (major === 1) {
			expect(reply.status).toBe(400);
			return reply.text;
		}
		const status = await waitFor(
			'a settled publication status',
			async () => {
				const s = await ctx.session.api.rest<{ status: string; triggers: Array<{ errorMessage: string | null }> }>('GET', `/rest/workflows/${workflowId}/publication-status`);
				return s.status === 'in_progress' || s.status === 'not_published' ? undefined : s;
			},
			60_000,
			500,
		);
		expect(status.status).toBe('failed');
		return status.triggers.map((t) => t.errorMessage ?? '').join('\n');
	};

	it('Set Up Google Cloud refused by an organisation policy, or in a project without the Pub/Sub API: activation fails saying which, and what to do', async () => {
		await ctx.step(async () => {
			const watches = ctx.fake.count('users.watch');
			// Domain-restricted sharing: only example.com members may be in IAM policies.
			iam.allowedMemberDomains = ['example.com'];
			try {
				const restricted = triggerWorkflow({ name: `Gmail pull org policy v${major}`, delivery: 'pull', topicName: `projects/${PROJECT}/topics/gmail-org-v${major}`, subscriptionName: `projects/${PROJECT}/subscriptions/n8n-org-v${major}` });
				restricted.nodes[0].typeVersion = 1.1;
				const message = await activationFailure(await ctx.session.api.importWorkflow(restricted, [ctx.credential]));
				// (1.x may answer with the error's description, 2.x shows its message: both say it.)
				expect(message).toMatch(/An organisation policy blocks the grant for Gmail|The constraint iam\.allowedPolicyMemberDomains must allow/);
				expect(message).toMatch(/Organisation policy: Google refused the grant \(.*permitted customer/);
				expect(iam.policy(`projects/${PROJECT}/topics/gmail-org-v${major}`)?.bindings ?? []).toEqual([]);
			} finally {
				iam.allowedMemberDomains = undefined;
			}

			const off = 'pubsub-off-project';
			iam.disabledProjects.add(off);
			const disabled = triggerWorkflow({ name: `Gmail pull API off v${major}`, delivery: 'pull', topicName: `projects/${off}/topics/gmail-off-v${major}`, subscriptionName: `projects/${off}/subscriptions/n8n-off-v${major}` });
			disabled.nodes[0].typeVersion = 1.1;
			const message = await activationFailure(await ctx.session.api.importWorkflow(disabled, [ctx.credential]));
			expect(message).toMatch(new RegExp(`(The Cloud Pub/Sub API is|Pub/Sub API:) not enabled in project ${off}`));
			expect(message).toContain(`https://console.cloud.google.com/apis/library/pubsub.googleapis.com?project=${off}`);
			expect(ctx.fake.count('users.watch')).toBe(watches); // neither got as far as a watch
		});
	});

	it('a duplicated workflow is refused the subscription the original reads, naming it; the original gets every email; with its own name the copy works, and its deactivation leaves the shared watch', async () => {
		await ctx.step(async () => {
			const dupTopic = `projects/${PROJECT}/topics/gmail-dup-v${major}`;
			const dupSubscription = `projects/${PROJECT}/subscriptions/n8n-dup-v${major}`;
			const original = triggerWorkflow({ name: `Gmail pull original v${major}`, delivery: 'pull', topicName: dupTopic, subscriptionName: dupSubscription });
			original.nodes[0].typeVersion = 1.1;
			const originalId = await ctx.session.api.importWorkflow(original, [ctx.credential]);
			await activateAndWait(ctx, originalId, original.name);

			// What the editor's Duplicate saves: the same nodes in a new workflow.
			const copy = { ...structuredClone(original), name: `${original.name} (copy)` };
			const copyId = await ctx.session.api.importWorkflow(copy, [ctx.credential]);
			const stops = ctx.fake.count('users.stop');
			const message = await activationFailure(copyId);
			expect(message).toMatch(new RegExp(`${dupSubscription} (is already read by another active Gmail Push Trigger|was made by the Gmail Push Trigger of another workflow)`));
			expect(message).toMatch(/its own Subscription Name/);
			expect(ctx.fake.count('users.stop')).toBe(stops);

			const mails = [1, 2, 3, 4, 5, 6].map((n) => ctx.deliver(`to the original ${n}`));
			const { items } = await ctx.waitForItems(originalId, 6, 60_000);
			expect(items.map((i) => i.id).sort()).toEqual(mails.map((m) => m.id).sort());

			// Given its own subscription, the copy activates (the topic fans out to both).
			const saved = await ctx.session.api.rest<{ nodes: Array<{ name: string; parameters: Record<string, unknown> }> }>('GET', `/rest/workflows/${copyId}`);
			const nodes = saved.nodes.map((n) => (n.name === 'Gmail Push Trigger' ? { ...n, parameters: { ...n.parameters, subscriptionName: `${dupSubscription}-2` } } : n));
			await ctx.session.api.rest('PATCH', `/rest/workflows/${copyId}`, { ...saved, nodes });
			await activateAndWait(ctx, copyId, copy.name);
			const both = ctx.deliver('to both');
			await ctx.waitForItems(copyId, 1, 60_000);
			expect((await ctx.waitForItems(originalId, 7, 60_000)).items.map((i) => i.id)).toContain(both.id);

			// The copy leaves: the watch it shares with the original stays.
			expect((await ctx.session.api.deactivate(copyId)).status).toBe(200);
			await sleep(SETTLE_MS);
			expect(ctx.fake.count('users.stop')).toBe(stops);
			expect(ctx.fake.mailbox.watch?.topicName).toBe(dupTopic);
			const after = ctx.deliver('after the copy left');
			expect((await ctx.waitForItems(originalId, 8, 60_000)).items.map((i) => i.id)).toContain(after.id);
			expect((await ctx.session.api.deactivate(originalId)).status).toBe(200);
		});
	}, 240_000);

	it('a lasting failure is reported once; during the back-off the notification is acked, not redelivered, and Google is asked nothing', async () => {
		await ctx.step(async () => {
			const backOffTopic = `projects/${PROJECT}/topics/gmail-back-off-v${major}`;
			const backOffSubscription = `projects/${PROJECT}/subscriptions/n8n-back-off-v${major}`;
			await emulator.createTopic(backOffTopic);
			await emulator.createPullSubscription(backOffTopic, backOffSubscription, 10);
			iam.setPolicy(backOffTopic, { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
			const failing = triggerWorkflow({ name: `Gmail pull back-off v${major}`, delivery: 'pull', topicName: backOffTopic, subscriptionName: backOffSubscription });
			const id = await ctx.session.api.importWorkflow(failing, [ctx.credential]);
			await activateAndWait(ctx, id, failing.name);
			await sleep(SETTLE_MS);

			const from = ctx.session.n8n.logOffset();
			ctx.fake.faults.failNext('history.list', 403, 1, { reason: 'insufficientPermissions', message: 'Request had insufficient authentication scopes.' });
			ctx.deliver('while the scope is gone');
			// 1.x: "… failed with the error … Will try to reactivate"; 2.x: "… failed at runtime and was deactivated".
			const reported = /failed with the error: .*insufficient authentication scopes.*Will try to reactivate|The trigger node "Gmail Push Trigger" failed at runtime and was deactivated/;
			await ctx.session.n8n.waitForLog(reported, 60_000, from);
			// n8n's re-activations fail with the same error, without a Google call.
			await ctx.session.n8n.waitForLog(/Activation of workflow .* did fail with error: .*insufficient authentication scopes|Failed to reactivate trigger node "Gmail Push Trigger"/, 60_000, from);
			await sleep(SETTLE_MS);
			// Nothing spins: n8n closed the trigger, and its re-activations fail before any reader
			// starts. The notification was acked (1.x), or waits in the subscription for the trigger
			// n8n adds after the back-off (2.x closes the trigger before the ack goes out): not lost.
			expect((await emulator.pull(backOffSubscription)).length).toBeLessThanOrEqual(1);
			const calls = ctx.fake.calls.length;
			await sleep(20_000);
			expect(ctx.fake.calls.slice(calls).map((c) => c.method)).toEqual([]);
			expect((await ctx.triggerItems(id)).items).toEqual([]);
			expect(ctx.session.n8n.grep(reported, from)).toHaveLength(1);
			// The email comes once after the back-off (5 min, then n8n's re-activation at 511 s):
			// shown with the engine's clock in test/integration/pullBackOff.test.ts.
			expect((await ctx.session.api.deactivate(id)).status).toBe(200);
		});
	});
});
