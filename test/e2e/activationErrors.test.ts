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
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../nodes/GmailPushTrigger/core/setup';

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

import { http, selectedMajors, waitFor, type CredentialRef, type N8nSession, type WorkflowJson } from '../support/n8n';
import { SERVICE_ACCOUNT, startStack } from '../support/stack';
import { plainRequest, startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
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
