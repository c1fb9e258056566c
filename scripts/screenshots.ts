/**
 * Takes the README's screenshots from a real run (not part of CI): a real n8n (1.123, or
 * N8N_MAJOR=2) with the package installed as the Community Nodes screen installs it, Google's
 * Pub/Sub emulator and the fake Gmail, then Debian's Chromium headless through
 * scripts/ui-check.js:
 *  - docs/test-step-pull.png: a pull trigger (node version 1.1) after "Execute step": the sample;
 *  - docs/credential-oauth2.png: the Gmail Push OAuth2 credential's dialog, signed in;
 *  - docs/set-up-check.png: a pull trigger whose topic Gmail may not publish to and whose
 *    subscription is missing: the set-up check's answer (message and list; the toast is closed).
 * With N8N_MAJOR=2 the files are named *-n8n2.png, so both versions' shots can sit side by side.
 *
 *   npm run build && npx ts-node --transpile-only scripts/screenshots.ts
 *
 * Needs /usr/bin/chromium (apt-get install -y chromium) and the n8n cache (scripts/install-n8n.sh).
 */
import { execFile } from 'child_process';
import { promisify } from 'util';
import path from 'path';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../nodes/GmailPushTrigger/googleCloud/iam';
import { pubSubAdminRoutes, startFakeIam } from '../test/support/fakeIam';
import { startPubSubEmulator } from '../test/support/pubsubEmulator';
import { PROJECT, startE2e, triggerWorkflow } from '../test/e2e/deliveryHarness';

async function main(): Promise<void> {
	const major = process.env.N8N_MAJOR === '2' ? 2 : 1;
	const named = (file: string) => (major === 2 ? file.replace(/\.png$/, '-n8n2.png') : file);
	const emulator = await startPubSubEmulator();
	const iam = await startFakeIam(emulator.baseUrl);
	const ctx = await startE2e(major, { PUBSUB_EMULATOR_HOST: emulator.host });
	try {
		for (const route of pubSubAdminRoutes(iam)) ctx.fake.addRoute(route);
		const topic = `projects/${PROJECT}/topics/gmail-push`;
		await emulator.createTopic(topic);
		await emulator.createPullSubscription(topic, `projects/${PROJECT}/subscriptions/gmail-push-n8n`, 10);
		iam.setPolicy(topic, { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
		await emulator.createTopic(`projects/${PROJECT}/topics/gmail-push-new`);

		const good = triggerWorkflow({ name: 'New email (pull)', delivery: 'pull', topicName: topic, subscriptionName: `projects/${PROJECT}/subscriptions/gmail-push-n8n` });
		good.nodes[0].typeVersion = 1.1;
		const broken = triggerWorkflow({
			name: 'New email (set-up incomplete)',
			delivery: 'pull',
			topicName: `projects/${PROJECT}/topics/gmail-push-new`,
			subscriptionName: `projects/${PROJECT}/subscriptions/gmail-push-new-n8n`,
			parameters: { setUpGoogleCloud: false },
		});
		broken.nodes[0].typeVersion = 1.1;
		const goodId = await ctx.session.api.importWorkflow(good, [ctx.credential]);
		const brokenId = await ctx.session.api.importWorkflow(broken, [ctx.credential]);
		ctx.fake.mailbox.deliver({ from: 'Bob Example <bob@example.org>', subject: 'Lunch on Friday?', text: 'Shall we meet at noon at the usual place?' });

		// Not execFileSync: the fake Google answers n8n from this process's event loop.
		const shoot = async (workflowId: string, expectText: string, file: string) => {
			const out = path.join(__dirname, '..', 'docs', named(file));
			try {
				const { stdout } = await promisify(execFile)('node', [path.join(__dirname, 'ui-check.js'), '--url', ctx.session.n8n.baseUrl, '--workflow', workflowId, '--expect', expectText, '--out', out]);
				process.stdout.write(stdout);
			} catch (error) {
				console.error(`screenshots: ${file} did not show "${expectText}" (saved anyway): ${(error as { stdout?: string }).stdout ?? String(error)}`);
			}
		};
		const shootCredential = async (name: string, file: string) => {
			const out = path.join(__dirname, '..', 'docs', named(file));
			try {
				const { stdout } = await promisify(execFile)('node', [path.join(__dirname, 'ui-check.js'), '--url', ctx.session.n8n.baseUrl, '--credential', name, '--out', out]);
				process.stdout.write(stdout);
			} catch (error) {
				console.error(`screenshots: ${file} failed (saved anyway): ${(error as { stdout?: string }).stdout ?? String(error)}`);
			}
		};
		// The OAuth2 credential a user makes in the quick start (signed in: a token is stored).
		await ctx.session.api.createCredential('Gmail Push OAuth2 account', 'gmailPushOAuth2Api', {
			clientId: '123456789012-example.apps.googleusercontent.com',
			clientSecret: 'GOCSPX-example-secret',
			oauthTokenData: { access_token: ctx.fake.issueToken({ scopes: ['https://www.googleapis.com/auth/gmail.readonly'] }), refresh_token: '1//example', token_type: 'Bearer' },
		});
		await shootCredential('Gmail Push OAuth2 account', 'credential-oauth2.png');
		await shoot(goodId, 'Lunch on Friday?', 'test-step-pull.png');
		await shoot(brokenId, 'Set-up check failed', 'set-up-check.png');
	} finally {
		await ctx.close();
		await iam.close();
		await emulator.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
