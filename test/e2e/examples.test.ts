/**
 * The importable workflows in examples/, in a real n8n (1.123 and 2.41), as a user runs them:
 * imported as they are, with only the placeholders a user fills in (the project id, the
 * spreadsheet id) and their own credentials; activated from an empty Google Cloud project (Set
 * Up Google Cloud makes the topic, Gmail's grant and the pull subscriptions). Google's Pub/Sub
 * emulator and the fake Gmail play Google; n8n's own Slack and Google Sheets nodes send to a
 * fake Slack (slack.com) and a fake Sheets API (sheets.googleapis.com) on loopback, and the test
 * reads what arrived there.
 */
import { readFileSync } from 'fs';
import path from 'path';
import { publisherGranted } from '../../nodes/GmailPushTrigger/googleCloud/iam';
import { GMAIL_READONLY } from '../support/fakeGoogle';
import { pubSubAdminRoutes, startFakeIam, type FakeIam } from '../support/fakeIam';
import { createFakeSheets, SHEETS_SCOPE, type FakeSheets } from '../support/fakeSheets';
import { createFakeSlack, type FakeSlack } from '../support/fakeSlack';
import { startPubSubEmulator, type PubSubEmulator } from '../support/pubsubEmulator';
import { selectedMajors, sleep, waitFor, type CredentialRef, type WorkflowJson } from '../support/n8n';
import { PROJECT, SETTLE_MS, startE2e, triggerStartedLog, type E2eContext } from './deliveryHarness';

jest.setTimeout(180_000);

const PUBSUB_SCOPE = 'https://www.googleapis.com/auth/pubsub';
const SLACK_TOKEN = 'xoxb-e2e-examples-token';
const SPREADSHEET_ID = '1e2eExampleSpreadsheetIdAbCdEfGhIjKlMnOpQrS';
const HEADER = ['Date', 'From', 'Subject', 'Snippet', 'Message ID'];
const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

/** An example as a user imports it: their project and spreadsheet ids in place of the placeholders. */
function example(file: string, major: number): WorkflowJson {
	const text = readFileSync(path.join(EXAMPLES, file), 'utf8')
		.replace(/YOUR-PROJECT-ID/g, PROJECT)
		.replace(/YOUR-SPREADSHEET-ID/g, SPREADSHEET_ID)
		// One n8n per version, one shared mailbox: each version's examples get their own topic.
		.replace(/topics\/gmail-push/g, `topics/gmail-examples-v${major}`)
		.replace(/subscriptions\/gmail-push-n8n/g, `subscriptions/gmail-examples-v${major}`);
	return JSON.parse(text) as WorkflowJson;
}

let emulator: PubSubEmulator;
let iam: FakeIam;

beforeAll(async () => {
	emulator = await startPubSubEmulator();
	iam = await startFakeIam(emulator.baseUrl);
}, 90_000);

afterAll(async () => {
	await iam?.close();
	await emulator?.stop();
});

describe.each(selectedMajors())('the examples/ workflows, in n8n %i.x', (major) => {
	let ctx: E2eContext;
	let slack: FakeSlack;
	let sheets: FakeSheets;
	const publishing: Array<Promise<unknown>> = [];
	const ids: Record<'slack' | 'sheets', string> = { slack: '', sheets: '' };
	const workflows = {
		slack: example('new-email-to-slack-message.json', major),
		sheets: example('new-email-to-google-sheets-row.json', major),
	};

	beforeAll(async () => {
		ctx = await startE2e(major, { PUBSUB_EMULATOR_HOST: emulator.host });
		slack = createFakeSlack(SLACK_TOKEN);
		sheets = createFakeSheets();
		sheets.addSpreadsheet(SPREADSHEET_ID, 'Inbox log', [HEADER]);
		for (const route of [...pubSubAdminRoutes(iam), ...slack.routes, ...sheets.routes]) ctx.fake.addRoute(route);
		// Gmail's side: a change its watch covers is published to the watched topic, once Gmail may publish there.
		ctx.fake.mailbox.subscribe((change) => {
			const topic = ctx.fake.mailbox.watch?.topicName;
			if (!topic || !change.notifies || !publisherGranted({ bindings: iam.policy(topic)?.bindings })) return;
			publishing.push(emulator.publish(topic, change.notificationData));
		});

		// The user's credentials: Google OAuth2 (signed in), a Slack bot token.
		const oauthToken = (scopes: string[]) => ({ access_token: ctx.fake.issueToken({ scopes }), refresh_token: '1//e2e-refresh-token', expires_in: 3599, token_type: 'Bearer', scope: scopes.join(' ') });
		const client = { clientId: 'e2e-client.apps.googleusercontent.com', clientSecret: 'e2e-client-secret' };
		const credentials: CredentialRef[] = [
			await ctx.session.api.createCredential('Gmail Push OAuth2 account', 'gmailPushOAuth2Api', { ...client, oauthTokenData: oauthToken([GMAIL_READONLY, PUBSUB_SCOPE]) }),
			await ctx.session.api.createCredential('Google Sheets account', 'googleSheetsOAuth2Api', { ...client, oauthTokenData: oauthToken([SHEETS_SCOPE]) }),
			await ctx.session.api.createCredential('Slack account', 'slackApi', { accessToken: SLACK_TOKEN }),
		];
		for (const key of ['slack', 'sheets'] as const) ids[key] = await ctx.session.api.importWorkflow(workflows[key], credentials);
	}, 240_000);

	afterAll(async () => {
		await Promise.allSettled(publishing);
		await ctx?.close();
	});

	it('both, activated from an empty project: every new email becomes one Slack message and one row, once', async () => {
		await ctx.step(async () => {
			for (const key of ['slack', 'sheets'] as const) {
				const from = ctx.session.n8n.logOffset();
				const reply = await ctx.session.api.activate(ids[key]);
				if (reply.status !== 200) throw new Error(`activation of ${workflows[key].name}: ${reply.status} ${reply.text.slice(0, 500)}`);
				await ctx.session.n8n.waitForLog(triggerStartedLog(major, workflows[key].name, 'New email'), 60_000, from);
				await ctx.session.n8n.waitForLog(/Google Cloud set up: topic .* (created|present), Gmail's publisher grant (granted|present), pull subscription .* created/, 30_000, from);
			}
			// Zero Google Cloud commands before this point: the set-up made the topic and both subscriptions.
			expect(iam.count('topics.setIamPolicy')).toBeGreaterThanOrEqual(1);

			const mails = [
				ctx.fake.mailbox.deliver({ from: 'Alice <alice@example.org>', subject: 'Invoice 42', text: 'Please find the invoice attached.' }),
				ctx.fake.mailbox.deliver({ from: 'Bob <bob@example.org>', subject: 'Lunch on Friday?', text: 'Pizza at noon.' }),
			];

			await waitFor('two Slack messages and two new rows', () => slack.messages.length >= 2 && sheets.rows(SPREADSHEET_ID).length >= 3, 60_000, 250);
			await sleep(SETTLE_MS);

			// Slack: one message per email, in the example's channel, with who sent it and the subject.
			expect(slack.messages).toHaveLength(2);
			for (const [i, mail] of mails.entries()) {
				const message = slack.messages.find((m) => m.text.includes(mail.subject ?? '?'));
				expect(message).toBeDefined();
				expect(message?.channel).toBe('#email');
				expect(message?.text).toContain(['Alice <alice@example.org>', 'Bob <bob@example.org>'][i]);
				expect(message?.text).toContain(`*${mail.subject}*`);
			}

			// Sheets: the header kept, one row per email with the mapped columns.
			const rows = sheets.rows(SPREADSHEET_ID);
			expect(rows).toHaveLength(3);
			expect(rows[0]).toEqual(HEADER);
			const byId = new Map(rows.slice(1).map((r) => [r[4], r]));
			for (const [i, mail] of mails.entries()) {
				const row = byId.get(mail.id);
				expect(row?.slice(1, 3)).toEqual([['Alice <alice@example.org>', 'Bob <bob@example.org>'][i], mail.subject]);
				// The email's arrival time, from Gmail's internalDate (within a minute of now).
				expect(Math.abs(Date.parse(row?.[0] ?? '') - Date.now())).toBeLessThan(60_000);
				expect(row?.[3]).toBeTruthy();
			}

			console.log(`n8n ${major}.x examples: Slack got ${JSON.stringify(slack.messages.map((m) => `${m.channel}: ${m.text}`))}; Sheets rows ${JSON.stringify(rows)}`);

			// Every execution of both workflows succeeded.
			for (const key of ['slack', 'sheets'] as const) {
				const executions = await ctx.session.api.executions(ids[key]);
				expect(executions.map((e) => e.status)).toEqual(executions.map(() => 'success'));
			}
		});
	});
});
