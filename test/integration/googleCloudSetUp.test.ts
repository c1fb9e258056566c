/**
 * The Google Cloud set-up (googleCloud/setUp.ts) through our Pub/Sub admin transport, against Google's
 * real Pub/Sub emulator for topics and subscriptions and the fake IAM in front of it (the
 * emulator keeps no IAM). Each test uses its own project, so they share one emulator.
 */
import { generateKeyPairSync } from 'crypto';
import { failingLines } from '../../nodes/GmailPushTrigger/googleCloud/findings';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../nodes/GmailPushTrigger/googleCloud/iam';
import { ensureGoogleCloud, removeMadeSubscription } from '../../nodes/GmailPushTrigger/googleCloud/setUp';
import { ownerLabels, type WantedSubscription } from '../../nodes/GmailPushTrigger/googleCloud/subscription';
import { lineText, problemText } from '../../nodes/GmailPushTrigger/googleCloud/renderText';
import { readConfig } from '../../nodes/GmailPushTrigger/shell/config';
import { setUpGoogleCloud } from '../../nodes/GmailPushTrigger/googleCloud/activation';
import { runSetUpCheck } from '../../nodes/GmailPushTrigger/googleCloud/runCheck';
import type { PushTarget } from '../../nodes/GmailPushTrigger/googleCloud/wanted';
import { serviceAccountAuth } from '../../nodes/GmailPushTrigger/transport/auth';
import { createPubSubAdmin, PUBSUB_SCOPE } from '../../nodes/GmailPushTrigger/transport/pubsubAdmin';
import { SCOPES, type FakeGoogle } from '../support/fakeGoogle';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { plainAuth, plainRequest, startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { EMAIL, startFake } from './harness';
import { n8nContext, routeGoogleClientsTo } from './n8nContext';

let emulator: PubSubEmulator;
let iam: FakeIam;
let projects = 0;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
	iam = await startFakeIam(emulator.baseUrl);
}, 60_000);
afterAll(async () => {
	await iam?.close();
	await emulator?.stop();
});


function project() {
	const id = `setup-project-${++projects}`;
	return { topic: `projects/${id}/topics/gmail-push`, subscription: `projects/${id}/subscriptions/gmail-push-n8n` };
}

const pull = (topic: string, name: string): WantedSubscription => ({ name, topic, kind: 'pull', ackDeadlineSeconds: 60 });
const push = (topic: string, name: string, endpoint: string): WantedSubscription => ({
	name,
	topic,
	kind: 'push',
	pushEndpoint: endpoint,
	oidc: { serviceAccountEmail: 'push@setup.iam.gserviceaccount.com', audience: endpoint },
	ackDeadlineSeconds: 60,
});

async function emulatorGet(name: string): Promise<{ status: number; body: Record<string, unknown> }> {
	const reply = await plainRequest(`${emulator.baseUrl}/v1/${name}`, 'GET');
	return { status: reply.status, body: reply.text ? (JSON.parse(reply.text) as Record<string, unknown>) : {} };
}

const admin = () => createPubSubAdmin(plainAuth, { rootUrl: iam.baseUrl });
const gmailGrants = (topic: string) => (iam.policy(topic)?.bindings ?? []).flatMap((b) => (b.members ?? []).filter((m) => m === GMAIL_PUBLISHER).map(() => b.role));

describe('setting up Google Cloud for Gmail push', () => {
	it('from an empty project: makes the topic, lets Gmail publish, makes a pull subscription that receives what is published', async () => {
		const { topic, subscription } = project();
		const report = await ensureGoogleCloud(admin(), topic, pull(topic, subscription));

		expect(report).toMatchObject({ topic: 'created', grant: 'granted', subscription: 'created' });
		expect(iam.policy(topic)?.bindings).toEqual([{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }]);
		const made = await emulatorGet(subscription);
		expect(made.status).toBe(200);
		expect(made.body).toMatchObject({ topic, ackDeadlineSeconds: 60 });
		await emulator.publish(topic, { emailAddress: 'user@example.com', historyId: '1' });
		const received = await emulator.pull(subscription);
		expect(received).toHaveLength(1);
	});

	it('run again, it only reads: no write, the same single grant', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(admin(), topic, pull(topic, subscription));
		const before = iam.calls.length;

		const report = await ensureGoogleCloud(admin(), topic, pull(topic, subscription));

		expect(report).toEqual({ topic: 'present', grant: 'present', subscription: 'present', warnings: [], calls: 3 });
		const since = iam.calls.slice(before);
		expect(since.filter((c) => c.startsWith('PUT ') || c === 'topics.setIamPolicy')).toEqual([]);
		expect(gmailGrants(topic)).toEqual([PUBLISHER_ROLE]);
	});

	it('keeps every binding someone else made, and adds Gmail to the existing publisher binding', async () => {
		const { topic } = project();
		await emulator.createTopic(topic);
		const others = [
			{ role: 'roles/pubsub.subscriber', members: ['user:alice@example.com'] },
			{ role: PUBLISHER_ROLE, members: ['serviceAccount:other@example.iam.gserviceaccount.com'] },
			{ role: PUBLISHER_ROLE, members: ['user:bob@example.com'], condition: { title: 'office hours', expression: 'request.time.getHours("Europe/Berlin") < 18' } },
		];
		iam.setPolicy(topic, { version: 3, bindings: others });

		expect(await ensureGoogleCloud(admin(), topic)).toMatchObject({ topic: 'present', grant: 'granted' });

		expect(iam.policy(topic)).toMatchObject({
			version: 3,
			bindings: [others[0], { role: PUBLISHER_ROLE, members: ['serviceAccount:other@example.iam.gserviceaccount.com', GMAIL_PUBLISHER] }, others[2]],
		});
	});

	it('a policy changed between its read and our write: Google refuses the write, we read again and keep the change', async () => {
		const { topic } = project();
		await emulator.createTopic(topic);
		iam.beforeSet = (t) => iam.setPolicy(t, { bindings: [{ role: 'roles/pubsub.viewer', members: ['user:carol@example.com'] }] });
		const sets = iam.count('topics.setIamPolicy');

		expect(await ensureGoogleCloud(admin(), topic)).toMatchObject({ grant: 'granted' });

		expect(iam.count('topics.setIamPolicy') - sets).toBe(2); // refused once (409 ABORTED), then written
		expect(iam.policy(topic)?.bindings).toEqual([
			{ role: 'roles/pubsub.viewer', members: ['user:carol@example.com'] },
			{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] },
		]);
	});

	it('two set-ups at once leave one topic, one grant and one subscription', async () => {
		const { topic, subscription } = project();
		const reports = await Promise.all([ensureGoogleCloud(admin(), topic, pull(topic, subscription)), ensureGoogleCloud(admin(), topic, pull(topic, subscription))]);

		expect(reports.map((r) => r.topic).sort()).toEqual(['created', 'present']);
		expect(reports.map((r) => r.subscription).sort()).toEqual(['created', 'present']);
		expect(gmailGrants(topic)).toEqual([PUBLISHER_ROLE]);
		expect((await emulatorGet(subscription)).body).toMatchObject({ topic });
	});

	it('a push subscription to the Production URL, signed with OIDC, never expiring; a different endpoint later is reported, not rewritten', async () => {
		const { topic, subscription } = project();
		const url = 'https://n8n.example.com/webhook/abc/webhook';
		expect(await ensureGoogleCloud(admin(), topic, push(topic, subscription, url))).toMatchObject({ subscription: 'created' });
		const made = (await emulatorGet(subscription)).body as { pushConfig?: { pushEndpoint?: string; oidcToken?: { serviceAccountEmail?: string } }; expirationPolicy?: { ttl?: string } };
		expect(made.pushConfig?.pushEndpoint).toBe(url);
		expect(made.pushConfig?.oidcToken?.serviceAccountEmail).toBe('push@setup.iam.gserviceaccount.com');
		expect(made.expirationPolicy?.ttl).toBeFalsy();

		const moved = 'https://n8n.example.org/webhook/abc/webhook';
		await expect(ensureGoogleCloud(admin(), topic, push(topic, subscription, moved))).rejects.toThrow(
			`Subscription ${subscription} pushes to ${url}, not to this node's Production URL ${moved}`,
		);
		expect(((await emulatorGet(subscription)).body as { pushConfig?: { pushEndpoint?: string } }).pushConfig?.pushEndpoint).toBe(url);
	});

	it('a subscription of another topic is reported with what to do, and left as it is', async () => {
		const { topic, subscription } = project();
		const other = topic.replace('gmail-push', 'someone-elses');
		await emulator.createTopic(other);
		await emulator.createPullSubscription(other, subscription);

		await expect(ensureGoogleCloud(admin(), topic, pull(topic, subscription))).rejects.toThrow(`Subscription ${subscription} is attached to ${other}, not to ${topic}`);
		expect((await emulatorGet(subscription)).body).toMatchObject({ topic: other });
	});

	it('a subscription made by hand with Google’s default 31-day expiry works, with a warning that says how to fix it', async () => {
		const { topic, subscription } = project();
		await emulator.createTopic(topic);
		// What the console and gcloud create unless told otherwise.
		const made = await plainRequest(`${emulator.baseUrl}/v1/${subscription}`, 'PUT', JSON.stringify({ topic, expirationPolicy: { ttl: '2678400s' } }), { 'content-type': 'application/json' });
		expect(made.status).toBe(200);

		const report = await ensureGoogleCloud(admin(), topic, pull(topic, subscription));

		expect(report.subscription).toBe('present');
		expect(report.warnings?.map((w) => w.code)).toEqual(['subscription-expires']);
		expect(report.warnings?.map(problemText)).toEqual([expect.stringContaining(`${subscription} is deleted after 2678400s without activity`)]);
	});

	it('Gmail holding a role that publishes already needs no write', async () => {
		const { topic } = project();
		await emulator.createTopic(topic);
		iam.setPolicy(topic, { bindings: [{ role: 'roles/pubsub.editor', members: [GMAIL_PUBLISHER] }] });
		const sets = iam.count('topics.setIamPolicy');

		expect(await ensureGoogleCloud(admin(), topic)).toMatchObject({ grant: 'present' });
		expect(iam.count('topics.setIamPolicy')).toBe(sets);
	});
});

describe('removing what the set-up made, after a deactivation', () => {
	const mine = ownerLabels('a'.repeat(40));
	const theirs = ownerLabels('b'.repeat(40));
	const labelled = (wanted: WantedSubscription, labels: Record<string, string>): WantedSubscription => ({ ...wanted, labels });

	it('deletes the pull subscription it made for this node; the topic and Gmail\'s grant stay', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(admin(), topic, labelled(pull(topic, subscription), mine));
		expect((await emulatorGet(subscription)).body).toMatchObject({ labels: mine });

		expect(await removeMadeSubscription(admin(), subscription, mine)).toBe('deleted');

		expect((await emulatorGet(subscription)).status).toBe(404);
		expect((await emulatorGet(topic)).status).toBe(200);
		expect(gmailGrants(topic)).toEqual([PUBLISHER_ROLE]);
		// Twice (two processes, or a retry): the second finds nothing to delete.
		expect(await removeMadeSubscription(admin(), subscription, mine)).toBe('absent');
	});

	it('keeps a subscription the user made, one an older release made (no labels) and one made for another node', async () => {
		const { topic, subscription } = project();
		await emulator.createTopic(topic);
		await emulator.createPullSubscription(topic, subscription, 60);
		const other = `${subscription}-other`;
		await ensureGoogleCloud(admin(), topic, labelled(pull(topic, other), theirs));
		const deletes = iam.calls.filter((c) => c.startsWith('DELETE ')).length;

		expect(await removeMadeSubscription(admin(), subscription, mine)).toBe('kept: not made by this node');
		expect(await removeMadeSubscription(admin(), other, mine)).toBe('kept: not made by this node');

		expect((await emulatorGet(subscription)).status).toBe(200);
		expect((await emulatorGet(other)).status).toBe(200);
		expect(iam.calls.filter((c) => c.startsWith('DELETE ')).length).toBe(deletes);
	});

	it('deletes its push subscription, but keeps it once someone pointed it elsewhere', async () => {
		const { topic, subscription } = project();
		const url = 'https://n8n.example.com/webhook/abc/webhook';
		await ensureGoogleCloud(admin(), topic, labelled(push(topic, subscription, url), mine));
		const repointed = `${subscription}-repointed`;
		await ensureGoogleCloud(admin(), topic, labelled(push(topic, repointed, url), mine));
		const modify = await plainRequest(
			`${emulator.baseUrl}/v1/${repointed}:modifyPushConfig`,
			'POST',
			JSON.stringify({ pushConfig: { pushEndpoint: 'https://elsewhere.example.com/push' } }),
			{ 'content-type': 'application/json' },
		);
		expect(modify.status).toBe(200);

		expect(await removeMadeSubscription(admin(), repointed, mine, url)).toBe('kept: pushes elsewhere');
		expect(await removeMadeSubscription(admin(), subscription, mine, url)).toBe('deleted');

		expect((await emulatorGet(repointed)).status).toBe(200);
		expect((await emulatorGet(subscription)).status).toBe(404);
	});

	it('a copy of the workflow is refused the subscription made for the original, with its name and what to change; nothing is written', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(admin(), topic, labelled(pull(topic, subscription), theirs));
		const writes = () => iam.calls.filter((c) => /^(PUT|PATCH|DELETE|POST) /.test(c) || c === 'topics.setIamPolicy').length;
		const before = writes();

		const refused = ensureGoogleCloud(admin(), topic, labelled(pull(topic, subscription), mine));

		await expect(refused).rejects.toMatchObject({ reason: 'SUBSCRIPTION_MISMATCH' });
		await expect(refused).rejects.toThrow(/gmail-push-n8n was made by the Gmail Push Trigger of another workflow.*give this trigger its own Subscription Name \(for example gmail-push-n8n-2\)/);
		expect(writes()).toBe(before);
		// The original's node still finds it its own.
		await expect(ensureGoogleCloud(admin(), topic, labelled(pull(topic, subscription), theirs))).resolves.toMatchObject({ subscription: 'present' });
	});

	it('after a rename, the subscription used before is deleted whatever it pushes to, when it was made for this node', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(admin(), topic, labelled(push(topic, subscription, 'https://n8n.example.com/webhook/abc/webhook?token=x'), mine));
		const other = `${subscription}-theirs`;
		await ensureGoogleCloud(admin(), topic, labelled(pull(topic, other), theirs));

		expect(await removeMadeSubscription(admin(), other, mine, 'any')).toBe('kept: not made by this node');
		expect(await removeMadeSubscription(admin(), subscription, mine, 'any')).toBe('deleted');
		expect((await emulatorGet(other)).status).toBe(200);
	});
});

/**
 * Activation's set-up through n8n's side of it (googleCloud/activation.ts), with a hand-built n8n context: the
 * fake Google signs credentials in and serves Gmail, the fake IAM plays the caller's permissions
 * in front of the emulator. Activation either finds everything its delivery needs in place, or
 * fails saying what to grant: never a watch whose notifications reach no subscription.
 */
describe('activation when Google refuses part of the set-up', () => {
	const SERVICE_ACCOUNT = 'n8n-gmail@setup.iam.gserviceaccount.com';
	const SIGNER = 'pubsub-push@setup.iam.gserviceaccount.com';
	const PRODUCTION_URL = 'https://n8n.example.com/webhook/refusals/webhook';
	const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
	const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
	let fake: FakeGoogle;

	routeGoogleClientsTo(() => fake);
	beforeAll(async () => {
		fake = await startFake({ serviceAccount: { clientEmail: SERVICE_ACCOUNT, publicKey } });
		for (const route of pubSubAdminRoutes(iam)) fake.addRoute(route);
	});
	afterAll(async () => await fake?.close());
	afterEach(() => {
		iam.callerMayOnlyRead = false;
		iam.callerMayActAs = undefined;
		fake.auth.delegatedScopes = undefined;
	});

	const pushParameters = (topic: string) => ({ delivery: 'push', topicName: topic, setUpGoogleCloud: true, pushAuthentication: 'oidc', pushServiceAccountEmail: SIGNER });
	const pullParameters = (topic: string, subscription: string) => ({ delivery: 'pull', topicName: topic, setUpGoogleCloud: true, subscriptionName: subscription });
	const signedPush: PushTarget = { pushEndpoint: PRODUCTION_URL, oidc: { serviceAccountEmail: SIGNER } };
	const writes = () => iam.calls.filter((c) => /^(PUT|POST|DELETE) |^topics\.setIamPolicy$/.test(c)).length;

	it('a signed push subscription the credential may not make (no actAs on its signer) fails activation, naming Service Account User on the signer', async () => {
		const { topic } = project();
		iam.callerMayActAs = [];
		const context = n8nContext(fake, { parameters: pushParameters(topic), serviceAccount: { email: SERVICE_ACCOUNT, privateKey: key, delegatedEmail: EMAIL } });

		const refused = await setUpGoogleCloud(context as never, readConfig(context as never), signedPush).then(
			() => new Error('activation went on'),
			(error: Error) => error,
		);

		expect(iam.calls).toContainEqual(expect.stringMatching(new RegExp(`^refused actAs ${SIGNER} PUT `)));
		expect(refused.message).toMatch(/Setting up Google Cloud was refused \(Pub\/Sub subscriptions\.create failed \(403\): User not authorized to perform this action\.\)/);
		expect(refused.message).toContain(`Subscription: projects/${topic.split('/')[1]}/subscriptions/n8n-gmail-push-`);
		expect(refused.message).toContain(
			`grant the service account ${SERVICE_ACCOUNT} Service Account User (roles/iam.serviceAccountUser) on ${SIGNER} (IAM & Admin > Service Accounts > ${SIGNER} > Permissions > Grant access)`,
		);
		// The topic and Gmail's grant were made: only the subscription is missing.
		expect(refused.message).not.toMatch(/Gmail API:|Topic:|publisher grant:/);
		expect(gmailGrants(topic)).toEqual([PUBLISHER_ROLE]);
	});

	it('an OAuth2 credential without the Pub/Sub scope, on an empty project, fails activation naming the scope', async () => {
		const { topic, subscription } = project();
		const context = n8nContext(fake, { parameters: pullParameters(topic, subscription), oauthScopes: [SCOPES.readonly] });

		await expect(setUpGoogleCloud(context as never, readConfig(context as never))).rejects.toThrow(
			/Credential scopes: missing https:\/\/www\.googleapis\.com\/auth\/pubsub: reconnect the OAuth2 credential and allow access/,
		);
		expect((await emulatorGet(topic)).status).toBe(404);
	});

	it('a credential that may only read Pub/Sub: activation goes on when everything is in place, and fails naming what is missing when not', async () => {
		const { topic, subscription } = project();
		await ensureGoogleCloud(admin(), topic, pull(topic, subscription));
		iam.callerMayOnlyRead = true;
		const before = writes();
		const context = n8nContext(fake, { parameters: pullParameters(topic, subscription), oauthScopes: [SCOPES.readonly, PUBSUB_SCOPE] });

		await expect(setUpGoogleCloud(context as never, readConfig(context as never))).resolves.toBeUndefined();
		expect(context.logger.lines).toContainEqual({ level: 'warn', message: expect.stringContaining('the topic and the subscription are in place, so the node uses them as they are') });
		expect(iam.calls).toContainEqual(`refused write GET ${topic}:getIamPolicy`);
		expect(writes()).toBe(before);

		await emulator.deleteSubscription(subscription);
		await expect(setUpGoogleCloud(context as never, readConfig(context as never))).rejects.toThrow(
			`Subscription: ${subscription} does not exist, and Set Up Google Cloud may not make it: give the Google account that connected the credential Pub/Sub Admin (roles/pubsub.admin) in project ${topic.split('/')[1]}`,
		);
	});

	it('a service account with Delegated Email calls Pub/Sub as itself: the set-up and its check work with delegation allowed for Gmail only', async () => {
		const { topic, subscription } = project();
		fake.auth.delegatedScopes = [SCOPES.readonly];
		// What Google answers the delegated user's token for Pub/Sub (the identity the set-up used to call with).
		await expect(serviceAccountAuth({ email: SERVICE_ACCOUNT, privateKey: key, delegatedEmail: EMAIL }, [PUBSUB_SCOPE]).getAccessToken()).rejects.toThrow(/unauthorized_client/);
		const context = n8nContext(fake, { parameters: pullParameters(topic, subscription), serviceAccount: { email: SERVICE_ACCOUNT, privateKey: key, delegatedEmail: EMAIL } });
		const grants = fake.auth.jwtGrants.length;

		const report = await setUpGoogleCloud(context as never, readConfig(context as never));
		const lines = await runSetUpCheck(context as never, readConfig(context as never));

		expect(report).toMatchObject({ topic: 'created', grant: 'granted', subscription: 'created' });
		expect(failingLines(lines)).toEqual([]);
		expect(lineText(lines.find((l) => l.prerequisite === 'Gmail API')!)).toContain(EMAIL);
		const since = fake.auth.jwtGrants.slice(grants);
		expect(since.filter((g) => g.scope === PUBSUB_SCOPE).map((g) => g.sub)).toEqual([undefined, undefined]);
		expect(since.filter((g) => g.scope === SCOPES.readonly).map((g) => g.sub)).toEqual([EMAIL]);
	});
});
