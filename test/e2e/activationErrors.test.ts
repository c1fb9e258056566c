/**
 * Set-up mistakes users make, in a real n8n (1.123 and 2.41): activation fails with a message
 * that says what to fix, instead of a silent trigger. The fake Gmail answers users.watch the
 * way Google does for each mistake.
 */
import { readFileSync } from 'fs';
import path from 'path';
import type { FakeGoogle } from '../support/fakeGoogle';
import { http, selectedMajors, waitFor, type CredentialRef, type N8nSession, type WorkflowJson } from '../support/n8n';
import { SERVICE_ACCOUNT, startStack } from '../support/stack';
import { plainRequest, startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../nodes/GmailPushTrigger/googleCloud/iam';

jest.setTimeout(120_000);

/** A shared secret before and after a rotation; characters a URL encodes, so every form of it differs. */
const OLD_SECRET = 'e2e old secret/rotated+0123456789';
const NEW_SECRET = 'e2e-new-Secret(2)!~*/abcdef+0123456789';
const secretForms = (secret: string) => [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')];
/** The secrets (in any form) that `text` shows. */
const leakedSecrets = (text: string) => [OLD_SECRET, NEW_SECRET].flatMap(secretForms).filter((form) => text.includes(form));

const fixture = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'push-workflow.json'), 'utf8')) as WorkflowJson;
const TRIGGER = 'Gmail Push Trigger';

/** The fixture with other parameters, its own ids and webhook (one workflow per case). */
function variant(n: number, parameters: Record<string, unknown>): WorkflowJson {
	const copy = JSON.parse(JSON.stringify(fixture)) as WorkflowJson;
	copy.name = `activation error ${n}`;
	copy.nodes.forEach((node, i) => (node.id = `${String(node.id).slice(0, -4)}e${n}${i}0`.slice(-36)));
	const trigger = copy.nodes.find((node) => node.name === TRIGGER)!;
	trigger.webhookId = `0000000${n}-0000-4000-8000-00000000000${n}`;
	Object.assign(trigger.parameters, parameters);
	return copy;
}

describe.each(selectedMajors())('activation errors say what to fix, in n8n %i.x', (major) => {
	let fake: FakeGoogle;
	let session: N8nSession;
	let credential: CredentialRef;
	let n = 0;
	/** Pub/Sub as Google serves it, for the set-up check a failed activation runs: the topic exists, without Gmail's grant. */
	let emulator: PubSubEmulator;
	let iam: FakeIam;

	beforeAll(async () => {
		emulator = await startPubSubEmulator();
		iam = await startFakeIam(emulator.baseUrl);
		await emulator.createTopic('projects/test-project/topics/gmail-push');
		({ fake, session, credential } = await startStack(major));
		for (const route of pubSubAdminRoutes(iam)) fake.addRoute(route);
	}, 240_000);

	afterAll(async () => {
		await session?.close();
		await fake?.close();
		await iam?.close();
		await emulator?.stop();
	});

	afterEach(() => {
		fake.faults.watchError = undefined;
	});

	/**
	 * Activates a variant and waits until what n8n says about it (the API answer, or for 2.x,
	 * whose publish answers before the trigger starts, the activation error in its log) matches.
	 */
	const activationMessage = async (parameters: Record<string, unknown>, expected: RegExp): Promise<string> => {
		const id = await session.api.importWorkflow(variant(++n, parameters), [credential]);
		const logStart = session.n8n.log.length;
		const route = `/workflows/${id}/${major === 2 ? 'publish' : 'activate'}`;
		const reply = await session.api.api('POST', route, major === 2 ? {} : undefined, [400, 500]);
		if (major === 1) expect(reply.status).toBe(400);
		const said = () => `${reply.status} ${reply.text} ${session.n8n.log.slice(logStart)}`;
		await waitFor(`n8n to report ${expected}`, () => expected.test(said()), 30_000, 250).catch(() => undefined);
		return said();
	};

	it('a topic Gmail may not publish to names the grant for gmail-api-push@system.gserviceaccount.com', async () => {
		fake.faults.watchError = { status: 403, message: 'User not authorized to perform this action.' };
		const message = await activationMessage({}, /gmail-api-push/);
		expect(message).toMatch(/Grant gmail-api-push@system\.gserviceaccount\.com the Pub\/Sub Publisher role on projects\/test-project\/topics\/gmail-push/);
		expect(message).toMatch(/roles\/pubsub\.publisher/);
		// The set-up check that follows a failed activation confirms it from the topic's policy.
		// (1.x answers with the error's description, every line; 2.x logs its message, the failing lines.)
		expect(message).toMatch(/[Ss]et-up check:[\s\S]*Gmail's publisher grant: gmail-api-push@system\.gserviceaccount\.com may not publish to the topic/);
		expect(message).not.toMatch(/✗ Topic:|\| Topic:|check: Topic:/);
	});

	it('a topic in another project than the credential\'s says so', async () => {
		const message = await activationMessage({ topicName: 'projects/other-project/topics/gmail-push' }, /same Google Cloud project/);
		expect(message).toMatch(/same Google Cloud project/);
		expect(message).toMatch(/other-project/);
	});

	it('a short topic name asks for the full name, without calling Gmail', async () => {
		const watches = fake.count('users.watch');
		const message = await activationMessage({ topicName: 'gmail-push' }, /must be the full name/);
		expect(message).toMatch(/must be the full name projects\/<project-id>\/topics\/<topic>/);
		expect(fake.count('users.watch')).toBe(watches);
	});

	it("a rotated shared secret: the activation error, a failed test run and n8n's log show neither the old nor the new secret, only token=…", async () => {
		const topic = `projects/test-project/topics/gmail-push-rotated-v${major}`;
		const subscription = `projects/test-project/subscriptions/gmail-push-rotated-v${major}`;
		await emulator.createTopic(topic);
		iam.setPolicy(topic, { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
		const secretCredential = await session.api.createCredential('Gmail Push shared secret (rotated)', 'gmailPushSharedSecretApi', { secret: NEW_SECRET });
		const workflow = variant(++n, { topicName: topic, subscriptionName: subscription, setUpGoogleCloud: true, pushAuthentication: 'sharedSecretCredential' });
		const trigger = workflow.nodes.find((node) => node.name === TRIGGER)!;
		delete trigger.parameters.pushSecret;
		trigger.typeVersion = 1.1;
		trigger.credentials = { ...trigger.credentials, gmailPushSharedSecretApi: { id: 'REPLACED-BY-THE-TEST', name: secretCredential.name } };
		// The subscription still pushes with the secret from before the rotation.
		const oldEndpoint = `${session.n8n.webhookUrl(`${trigger.webhookId}/webhook`)}?token=${encodeURIComponent(OLD_SECRET)}`;
		await emulator.createPushSubscription(topic, subscription, oldEndpoint);
		const id = await session.api.importWorkflow(workflow, [credential, secretCredential]);
		const rotated = /pushes to this node's Production URL, but its token=… differs from the node's shared secret/;

		// Activation (1.x answers with the error; 2.x publishes, then logs it).
		const logStart = session.n8n.log.length;
		const reply = await session.api.api('POST', `/workflows/${id}/${major === 2 ? 'publish' : 'activate'}`, major === 2 ? {} : undefined, [400, 500]);
		await waitFor('the activation error', () => rotated.test(`${reply.text} ${session.n8n.log.slice(logStart)}`), 30_000, 250);
		if (major === 1) expect(reply.status).toBe(400);
		// The activation error n8n keeps and the editor shows for the workflow (1.x: the workflow's
		// activation error; 2.x: the trigger's error in the publication status).
		const storedAt = major === 2 ? `/rest/workflows/${id}/publication-status` : `/rest/active-workflows/error/${id}`;
		const stored = await waitFor(
			'the stored activation error',
			async () => {
				const text = JSON.stringify(await session.api.rest<unknown>('GET', storedAt));
				return rotated.test(text) ? text : undefined;
			},
			60_000,
			500,
		);

		// The editor's "Test step" on the trigger: refused with the set-up check.
		const start = { startNodes: [{ name: TRIGGER, sourceData: null }], destinationNode: { nodeName: TRIGGER, mode: 'inclusive' } };
		const saved = await session.api.rest<Record<string, unknown>>('GET', `/rest/workflows/${id}`);
		const workflowData = Object.fromEntries(['id', 'name', 'nodes', 'connections', 'settings', 'pinData', 'active', 'versionId', 'meta', 'tags'].filter((k) => k in saved).map((k) => [k, saved[k]]));
		// The whole answer (the editor shows its message and description), not api.rest's first 1000 characters.
		const run = await http(`${session.n8n.baseUrl}/rest/workflows/${id}/run`, {
			method: 'POST',
			json: major === 2 ? { workflowId: id, ...start } : { workflowData, ...start },
			headers: session.api.ownerHeaders(),
		});
		const testRun = `${run.status} ${run.text}`;
		expect(run.status).toBeGreaterThanOrEqual(400);
		expect(testRun).toContain('Set-up check failed: Shared secret differs');
		const executions = JSON.stringify(await session.api.executions(id));

		expect(leakedSecrets(reply.text)).toEqual([]);
		expect(leakedSecrets(stored)).toEqual([]);
		expect(leakedSecrets(testRun)).toEqual([]);
		expect(leakedSecrets(executions)).toEqual([]);
		expect(leakedSecrets(session.n8n.log)).toEqual([]);
		// Only text is masked: the subscription is reported, not rewritten.
		const kept = JSON.parse((await plainRequest(`${emulator.baseUrl}/v1/${subscription}`, 'GET')).text) as { pushConfig?: { pushEndpoint?: string } };
		expect(kept.pushConfig?.pushEndpoint).toBe(oldEndpoint);
	});

	it('a signed push subscription the credential may not make (no actAs on its signer) fails activation, naming Service Account User on the signer', async () => {
		const signer = 'pubsub-push@test-project.iam.gserviceaccount.com';
		iam.callerMayActAs = [];
		try {
			const parameters = { setUpGoogleCloud: true, topicName: 'projects/test-project/topics/gmail-push-act-as', pushAuthentication: 'oidc', pushServiceAccountEmail: signer, pushSecret: '' };
			const message = await activationMessage(parameters, /roles\/iam\.serviceAccountUser/);
			expect(message).toMatch(new RegExp(`grant the service account ${SERVICE_ACCOUNT.replace(/\./g, '\\.')} Service Account User \\(roles/iam\\.serviceAccountUser\\) on ${signer.replace(/\./g, '\\.')}`));
		} finally {
			iam.callerMayActAs = undefined;
		}
	});

	it('a service account whose domain-wide delegation allows Gmail only: the set-up calls Pub/Sub as the service account, and activation succeeds', async () => {
		fake.auth.delegatedScopes = ['https://www.googleapis.com/auth/gmail.readonly'];
		try {
			const grants = fake.auth.jwtGrants.length;
			const id = await session.api.importWorkflow(variant(++n, { setUpGoogleCloud: true, topicName: 'projects/test-project/topics/gmail-push-delegation' }), [credential]);
			const from = session.n8n.logOffset();
			expect((await session.api.activate(id)).status).toBe(200);
			await session.n8n.waitForLog(/Google Cloud set up: topic \S+ created, Gmail's publisher grant granted, push subscription \S+ created/, 30_000, from);
			const pubSub = fake.auth.jwtGrants.slice(grants).filter((g) => g.scope.includes('auth/pubsub'));
			expect(pubSub.length).toBeGreaterThanOrEqual(1);
			expect(pubSub.every((g) => g.iss === SERVICE_ACCOUNT && g.sub === undefined)).toBe(true);
			await session.api.deactivate(id);
		} finally {
			fake.auth.delegatedScopes = undefined;
		}
	});

	it('OIDC push authentication without the service account email is refused at activation', async () => {
		const watches = fake.count('users.watch');
		const expected = /Push Service Account Email is required|required parameters: pushServiceAccountEmail/;
		const message = await activationMessage({ pushAuthentication: 'oidc', pushSecret: '' }, expected);
		// 1.x gets the node's own message; 2.x refuses the publish itself for the empty required field.
		expect(message).toMatch(expected);
		expect(fake.count('users.watch')).toBe(watches);
	});
});
