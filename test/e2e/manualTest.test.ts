/**
 * The editor's test buttons, in a real n8n (1.123 and 2.41; E2E_N8N_VERSIONS=1,2), driven by the
 * same REST call the editor makes (POST /rest/workflows/:id/run with the owner's session):
 *  - "Test step" / "Fetch Test Event" on the trigger (NodeExecuteButton → runWorkflow({destinationNode}))
 *    sends {destinationNode: {nodeName, mode: 'inclusive'}, startNodes};
 *  - "Test workflow" / "Execute workflow" (runEntireWorkflow → runWorkflow({triggerNode}))
 *    sends {triggerToStartFrom: {name}, startNodes: []}.
 * 1.123 sends the whole workflow as `workflowData`; 2.41 sends `workflowId` and loads the saved one.
 *
 * In every delivery the run must show a sample within seconds: the newest email that matches the
 * trigger's labels, shaped exactly like the item a real notification produced for it; and it must
 * touch nothing live: no users.watch / users.stop, the production static data (cursor, watch,
 * dedupe record) in the DB unchanged, and (pull) no message taken from the production subscription.
 */
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../nodes/GmailPushTrigger/googleCloud/iam';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { selectedMajors, sleep, waitFor, type ExecutionSummary, itemsOf } from '../support/n8n';
import type { StoredMessage } from '../support/fakeGoogle';
import {
	PROJECT,
	SETTLE_MS,
	TRIGGER,
	activateAndWait,
	pushUntilAccepted,
	startE2e,
	triggerWorkflow,
	type Delivery,
	type E2eContext,
	type TriggerStateInDb,
} from './deliveryHarness';

jest.setTimeout(120_000);

/** How fast a sample must arrive (the editor shows it as soon as the run ends). */
const SAMPLE_WITHIN_MS = 15_000;

type Button = 'test step' | 'execute workflow';

let emulator: PubSubEmulator;
/** Google's IAM for the topics (the emulator has none): the test run checks Gmail's grant. */
let iam: FakeIam;

beforeAll(async () => {
	emulator = await startPubSubEmulator(); // fails naming what is missing (Java, the emulator)
	iam = await startFakeIam(emulator.baseUrl);
}, 90_000);

afterAll(async () => {
	await iam?.close();
	await emulator?.stop();
});

describe.each(selectedMajors())('the editor test buttons on the Gmail Push Trigger, in n8n %i.x', (major) => {
	const topic = `projects/${PROJECT}/topics/gmail-manual-v${major}`;
	const subscription = `projects/${PROJECT}/subscriptions/n8n-manual-v${major}`;
	const deliveries: Delivery[] = ['push', 'pull', 'poll'];
	const workflows = {
		push: triggerWorkflow({ name: `Gmail manual push v${major}`, delivery: 'push', topicName: topic }),
		pull: triggerWorkflow({ name: `Gmail manual pull v${major}`, delivery: 'pull', topicName: topic, subscriptionName: subscription }),
		poll: triggerWorkflow({ name: `Gmail manual poll v${major}`, delivery: 'poll' }),
	};
	/** Whole Email with its attachment, and a Search filter that only an older email matches. */
	const emailWorkflow = triggerWorkflow({
		name: `Gmail manual whole email v${major}`,
		delivery: 'poll',
		parameters: { output: 'email', filters: { q: 'invoice' }, options: { downloadAttachments: true, dataPropertyAttachmentsPrefixName: 'file_' } },
	});
	let emailWorkflowId: string;
	let invoice: StoredMessage;
	const ids: Partial<Record<Delivery, string>> = {};
	let ctx: E2eContext;
	/** The item a real notification produced for the newest INBOX email. */
	let realItem: Record<string, unknown>;
	let newest: StoredMessage;
	/** What must not change: Gmail watch/stop calls and each workflow's static data. */
	let watches: number;
	let stops: number;
	const stateBefore: Partial<Record<Delivery, TriggerStateInDb>> = {};
	const observed: string[] = [];
	/** The notification left waiting in the production pull subscription. */
	let waitingNotification: string;

	beforeAll(async () => {
		await emulator.createTopic(topic);
		await emulator.createPullSubscription(topic, subscription, 10);
		iam.setPolicy(topic, { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
		ctx = await startE2e(major, { PUBSUB_EMULATOR_HOST: emulator.host });
		for (const route of pubSubAdminRoutes(iam)) ctx.fake.addRoute(route);
		for (const delivery of deliveries) ids[delivery] = await ctx.session.api.importWorkflow(workflows[delivery], [ctx.credential]);
		emailWorkflowId = await ctx.session.api.importWorkflow(emailWorkflow, [ctx.credential]);

		await ctx.step(async () => {
			invoice = ctx.fake.mailbox.deliver({
				subject: 'Your invoice',
				text: 'Attached.',
				attachments: [{ filename: 'invoice.pdf', mimeType: 'application/pdf', content: Buffer.from('%PDF-1.4 invoice') }],
			});
			ctx.deliver('an older email');
			// Pull: activated once, then deactivated (its cursor stays in the DB, its watch is stopped).
			await activateAndWait(ctx, ids.pull!, workflows.pull.name);
			expect((await ctx.session.api.deactivate(ids.pull!)).status).toBe(200);
			await waitFor('users.stop of the pull workflow', () => ctx.fake.count('users.stop') >= 1, 30_000);
			// Push stays active while its test button is pressed; a real notification gives the real item.
			await activateAndWait(ctx, ids.push!, workflows.push.name);
			await ctx.session.api.waitForWebhookRegistered(`${workflows.push.webhookId}/webhook`);
			newest = ctx.deliver('the newest email');
			expect(await pushUntilAccepted(ctx, workflows.push.webhookId, ctx.fake.mailbox.historyId)).toBe(200);
			realItem = (await ctx.waitForItems(ids.push!, 1)).items[0];
			expect(realItem.id).toBe(newest.id);
			// Newer, but not in INBOX: the sample must skip it.
			ctx.fake.mailbox.sendMail({ subject: 'sent, not in the inbox' });
			await activateAndWait(ctx, ids.poll!, workflows.poll.name);
			await sleep(SETTLE_MS);

			watches = ctx.fake.count('users.watch');
			stops = ctx.fake.count('users.stop');
			for (const delivery of deliveries) stateBefore[delivery] = await ctx.stateInDb(ids[delivery]!);
			expect(stateBefore.push?.cursor).toBeDefined();
			expect(stateBefore.poll?.cursor).toBeDefined();
			expect(stateBefore.pull?.cursor).toBeDefined();
			// A notification waiting in the production subscription: the test run must leave it there.
			waitingNotification = ctx.fake.mailbox.notificationData();
			await emulator.publish(topic, waitingNotification);
		});
	}, 240_000);

	afterAll(async () => {
		if (observed.length > 0) console.log(`n8n ${major}.x test buttons:\n  ${observed.join('\n  ')}`);
		await ctx?.close();
	});

	/** POST /rest/workflows/:id/run as the editor sends it for that button. */
	const pressButton = async (workflowId: string, button: Button): Promise<{ waitingForWebhook?: boolean; executionId?: string }> => {
		const start = button === 'test step'
			? { startNodes: [{ name: TRIGGER, sourceData: null }], destinationNode: { nodeName: TRIGGER, mode: 'inclusive' } }
			: { startNodes: [], triggerToStartFrom: { name: TRIGGER } };
		if (major === 2) return await ctx.session.api.rest('POST', `/rest/workflows/${workflowId}/run`, { workflowId, ...start });
		const saved = await ctx.session.api.rest<Record<string, unknown>>('GET', `/rest/workflows/${workflowId}`);
		const workflowData = Object.fromEntries(
			['id', 'name', 'nodes', 'connections', 'settings', 'pinData', 'active', 'versionId', 'meta', 'tags'].filter((k) => k in saved).map((k) => [k, saved[k]]),
		);
		return await ctx.session.api.rest('POST', `/rest/workflows/${workflowId}/run`, { workflowData, ...start });
	};

	const manualExecutions = async (workflowId: string): Promise<ExecutionSummary[]> =>
		(await ctx.session.api.executions(workflowId)).filter((e) => e.mode === 'manual');

	describe.each(['push', 'pull', 'poll'] as Delivery[])('%s delivery', (delivery) => {
		it.each(['test step', 'execute workflow'] as Button[])('"%s" shows the newest matching email as a sample within seconds, touching nothing live', async (button) => {
			await ctx.step(async () => {
				const workflowId = ids[delivery]!;
				const before = (await manualExecutions(workflowId)).length;
				const started = Date.now();
				const answer = await pressButton(workflowId, button);
				const execution = await waitFor(
					`a finished manual execution of the ${delivery} workflow`,
					async () => {
						const list = await manualExecutions(workflowId);
						const done = list.slice(before).find((e) => e.stoppedAt);
						return done;
					},
					SAMPLE_WITHIN_MS,
					200,
				);
				const took = Date.now() - started;
				observed.push(`${delivery}, "${button}": /run answered ${JSON.stringify(answer)}; sample in ${took} ms (execution ${execution.id}, mode ${execution.mode}, ${execution.status})`);

				expect(execution.status).toBe('success');
				const items = itemsOf(execution, TRIGGER);
				expect(items).toHaveLength(1);
				// The newest INBOX email, exactly as a real notification emitted it.
				expect(items[0]).toEqual(realItem);
				expect(items[0].id).toBe(newest.id);
				// "Test step" runs the trigger alone; "Execute workflow" hands the sample on.
				expect(itemsOf(execution, 'No Operation, do nothing')).toHaveLength(button === 'test step' ? 0 : 1);

				// Nothing live was touched.
				await sleep(SETTLE_MS);
				expect(ctx.fake.count('users.watch')).toBe(watches);
				expect(ctx.fake.count('users.stop')).toBe(stops);
				for (const d of deliveries) expect(await ctx.stateInDb(ids[d]!)).toEqual(stateBefore[d]);
				expect((await manualExecutions(workflowId)).length).toBe(before + 1);
				// Production executions: only the real one of the push workflow.
				for (const d of deliveries) {
					const production = (await ctx.session.api.executions(ids[d]!)).filter((e) => e.mode !== 'manual');
					expect(production).toHaveLength(d === 'push' ? 1 : 0);
				}
			});
		});
	});

	it('a test run of a pull trigger whose Google Cloud set-up is incomplete fails with the set-up check: the failing prerequisites named, each with what to do', async () => {
		await ctx.step(async () => {
			const brokenTopic = `projects/${PROJECT}/topics/gmail-manual-broken-v${major}`;
			const missing = `projects/${PROJECT}/subscriptions/n8n-manual-missing-v${major}`;
			await emulator.createTopic(brokenTopic); // present, but Gmail may not publish to it; no subscription
			const workflow = triggerWorkflow({ name: `Gmail manual broken pull v${major}`, delivery: 'pull', topicName: brokenTopic, subscriptionName: missing });
			const workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);
			const samples = ctx.fake.count('messages.list');

			await pressButton(workflowId, 'test step');
			const execution = await waitFor('the failed manual execution', async () => (await manualExecutions(workflowId)).find((e) => e.stoppedAt), SAMPLE_WITHIN_MS, 200);

			expect(execution.status).toBe('error');
			const error = (execution.data?.resultData.error ?? {}) as { message?: string; description?: string };
			observed.push(`broken pull set-up, "test step": ${error.message}\n${error.description}`);
			// The message names what fails; the description (HTML: n8n's panel collapses newlines) says what to do.
			expect(error.message).toBe("Set-up check failed: Gmail can't publish to the topic; Subscription missing");
			expect(error.description).toMatch(/^<p>2 of 7 prerequisites fail\./);
			expect(error.description).toContain(`<code>gcloud pubsub topics add-iam-policy-binding ${brokenTopic} --member=${GMAIL_PUBLISHER} --role=${PUBLISHER_ROLE}</code>`);
			expect(error.description).toContain(`<code>gcloud pubsub subscriptions create ${missing} --topic=${brokenTopic} --expiration-period=never</code>`);
			expect(error.description).toContain('<p>Holds: Gmail API, Pub/Sub API, Credential scopes, Topic. Not checked: Organisation policy.</p>');
			expect(ctx.fake.count('messages.list')).toBe(samples); // no sample fetched
			expect(iam.policy(brokenTopic)?.bindings ?? []).toEqual([]); // the check granted nothing
		});
	});

	it('a test run of a push trigger whose topic Gmail may not publish to is refused with the set-up check, and listens for nothing', async () => {
		await ctx.step(async () => {
			const brokenTopic = `projects/${PROJECT}/topics/gmail-manual-broken-v${major}`;
			await emulator.createTopic(brokenTopic).catch(() => undefined); // made by the pull test above when it ran
			const workflow = triggerWorkflow({ name: `Gmail manual broken push v${major}`, delivery: 'push', topicName: brokenTopic });
			const workflowId = await ctx.session.api.importWorkflow(workflow, [ctx.credential]);

			const refused = await pressButton(workflowId, 'test step').then(
				(answer) => new Error(`the test run was accepted: ${JSON.stringify(answer)}`),
				(error: Error) => error,
			);

			observed.push(`broken push set-up, "test step": ${refused.message.slice(0, 600)}`);
			expect(refused.message).toContain("Set-up check failed: Gmail can't publish to the topic");
			// Set Up Google Cloud is off: the node does not know the push subscription, and says so without failing on it.
			expect(refused.message).not.toMatch(/Subscription/);
			expect(await manualExecutions(workflowId)).toHaveLength(0);
			expect(ctx.fake.count('users.watch')).toBe(watches);
		});
	});

	it('Whole Email with Download Attachments and a Search: the sample is the newest email the search finds, with its attachment as a file', async () => {
		await ctx.step(async () => {
			const answer = await pressButton(emailWorkflowId, 'test step');
			const execution = await waitFor('a finished manual execution of the Whole Email workflow', async () => (await manualExecutions(emailWorkflowId)).find((e) => e.stoppedAt), SAMPLE_WITHIN_MS, 200);
			observed.push(`whole email, "test step": /run answered ${JSON.stringify(answer)}; execution ${execution.id} ${execution.status}`);
			expect(execution.status).toBe('success');
			const run = execution.data?.resultData.runData[TRIGGER]?.[0]?.data?.main?.[0] as Array<{ json: Record<string, unknown>; binary?: Record<string, Record<string, unknown>> }>;
			expect(run).toHaveLength(1);
			expect(run[0].json).toMatchObject({ id: invoice.id, subject: 'Your invoice', text: 'Attached.', event: 'messageAdded' });
			expect(run[0].binary?.file_0).toMatchObject({ fileName: 'invoice.pdf', mimeType: 'application/pdf' });
			expect(ctx.fake.count('users.watch')).toBe(watches);
		});
	});

	it('the live push trigger still works after the test runs: a new email is emitted once', async () => {
		await ctx.step(async () => {
			const mail = ctx.deliver('after the test runs');
			expect(await pushUntilAccepted(ctx, workflows.push.webhookId, ctx.fake.mailbox.historyId)).toBe(200);
			await ctx.waitForItems(ids.push!, 4); // 2 samples of the test runs + 2 real items
			const production = (await ctx.session.api.executions(ids.push!)).filter((e) => e.mode !== 'manual');
			expect(production.flatMap((e) => itemsOf(e, TRIGGER)).map((i) => i.id)).toEqual([newest.id, mail.id]);
			expect(BigInt((await ctx.stateInDb(ids.push!)).cursor ?? '0')).toBe(BigInt(ctx.fake.mailbox.historyId));
			expect(ctx.fake.count('users.stop')).toBe(stops);
			expect(ctx.fake.mailbox.watch?.topicName).toBe(topic);
		});
	});

	it('the test runs took no message from the production pull subscription', async () => {
		const waiting = await emulator.pull(subscription);
		expect(waiting).toHaveLength(1);
		expect(Buffer.from(waiting[0].message.data ?? '', 'base64').toString('utf8')).toBe(waitingNotification);
		await emulator.acknowledge(subscription, waiting.map((m) => m.ackId));
	});
});
