/**
 * The set-up check as n8n's output panel shows it: a short message naming what fails, and a
 * description that is a list in the HTML n8n keeps (it collapses newlines), console steps first.
 */
import { checkSetUp, type SetUpCheckInput } from '../../../nodes/GmailPushTrigger/googleCloud/check';
import { failingLines, finding, type CheckLine, type Finding } from '../../../nodes/GmailPushTrigger/googleCloud/findings';
import { GMAIL_PUBLISHER, PUBLISHER_ROLE } from '../../../nodes/GmailPushTrigger/googleCloud/iam';
import { panelDescription, panelMessage } from '../../../nodes/GmailPushTrigger/googleCloud/renderPanel';
import type { IamPolicy, PubSubSubscription } from '../../../nodes/GmailPushTrigger/transport/pubsubAdminPort';

const topic = 'projects/my-project/topics/gmail-push';
const name = 'projects/my-project/subscriptions/gmail-push-n8n';
const URL_ = 'https://n8n.example.com/webhook/abc/webhook';
const SECRET = 'a-long-shared-secret-0123456789';

/** Pub/Sub as a map of what exists: the check only reads. */
async function check(exists: { topic?: boolean; policy?: IamPolicy; subscription?: PubSubSubscription }, input: Partial<SetUpCheckInput> = {}): Promise<CheckLine[]> {
	const admin = {
		getTopic: async () => (exists.topic ? { name: topic } : undefined),
		getTopicIamPolicy: async () => exists.policy ?? {},
		getSubscription: async () => exists.subscription,
	};
	const gmail = { getProfile: async () => ({ emailAddress: 'you@example.com' }) };
	return await checkSetUp({ gmail, admin }, { delivery: 'pull', topic, subscription: { name, topic, kind: 'pull', ackDeadlineSeconds: 60 }, setUpOn: false, ...input });
}

/** n8n keeps these tags in an error's description (docs/n8n-behaviour.md#error-description). */
const N8N_KEEPS = new Set(['p', 'strong', 'b', 'code', 'a', 'br', 'i', 'ul', 'li', 'em', 'small', 'details', 'summary', 'mark']);
const tagsOf = (html: string) => [...html.matchAll(/<\/?([a-z]+)[^>]*>/g)].map((m) => m[1]);
const itemsOf = (html: string) => [...html.matchAll(/<li>(.*?)<\/li>/g)].map((m) => m[1]);

const granted: IamPolicy = { bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] };

describe('the set-up check in n8n\'s panel', () => {
	it('a topic Gmail may not publish to and a missing subscription: a short message naming both, a list with what to do', async () => {
		const lines = await check({ topic: true });

		expect(panelMessage(lines)).toBe("Set-up check failed: Gmail can't publish to the topic; Subscription missing");
		const description = panelDescription(lines);
		expect(description).not.toContain('\n');
		expect(description.startsWith('<p>2 of 7 prerequisites fail.')).toBe(true);
		const items = itemsOf(description);
		expect(items).toHaveLength(2);
		expect(items[0]).toMatch(/^<b>Gmail can't publish to the topic<\/b>/);
		expect(items[0]).toContain('Console: Pub/Sub &gt; Topics &gt; gmail-push &gt; Permissions &gt; Add principal gmail-api-push@system.gserviceaccount.com, role Pub/Sub Publisher');
		expect(items[0]).toContain(`gcloud: <code>gcloud pubsub topics add-iam-policy-binding ${topic} --member=${GMAIL_PUBLISHER} --role=roles/pubsub.publisher</code>`);
		expect(items[1]).toContain(`<code>gcloud pubsub subscriptions create ${name} --topic=${topic} --expiration-period=never</code>`);
		expect(items[1]).toContain('Or turn on Set Up Google Cloud: activation makes it.');
		// What holds is named once, after the list.
		expect(description).toMatch(/<\/ul><p>Holds: Gmail API, Pub\/Sub API, Credential scopes, Topic\. Not checked: Organisation policy\.<\/p>$/);
	});

	it('names every failing prerequisite in a few words, and each item gives the console steps before the gcloud command', async () => {
		const cases = [
			await check({ topic: false }),
			await check({ topic: true, policy: granted, subscription: { topic: 'projects/my-project/topics/other' } }),
			await check(
				{ topic: true, policy: granted, subscription: { topic, pushConfig: { pushEndpoint: 'https://old.example.com/hook' } } },
				{ delivery: 'push', subscription: { name, topic, kind: 'push', pushEndpoint: URL_, oidc: { serviceAccountEmail: 'push@p.iam.gserviceaccount.com' }, ackDeadlineSeconds: 60 } },
			),
		];
		for (const lines of cases) {
			const message = panelMessage(lines);
			const failing = failingLines(lines);
			expect(failing.length).toBeGreaterThan(0);
			// One title per failing finding, each a few words.
			const titles = message.replace('Set-up check failed: ', '').split('; ');
			expect(titles).toHaveLength(failing.flatMap((l) => l.findings).length);
			for (const title of titles) expect(title.split(' ').length).toBeLessThanOrEqual(6);
			expect(message.length).toBeLessThan(160);
			for (const item of itemsOf(panelDescription(lines))) {
				const [consoleAt, gcloudAt] = [item.indexOf('Console:'), item.indexOf('gcloud:')];
				if (gcloudAt >= 0) expect(consoleAt).toBeGreaterThanOrEqual(0);
				if (gcloudAt >= 0) expect(consoleAt).toBeLessThan(gcloudAt);
			}
		}
		expect(panelMessage(cases[0])).toBe("Set-up check failed: Topic missing; Gmail can't publish to the topic; Subscription missing");
		expect(panelMessage(cases[1])).toBe('Set-up check failed: Subscription on another topic');
		expect(panelMessage(cases[2])).toBe('Set-up check failed: Subscription pushes elsewhere; Pushes not signed');
	});

	it('uses only tags n8n keeps, and escapes what would read as a tag', () => {
		const lines: CheckLine[] = [
			{ prerequisite: 'Subscription', status: 'fails', findings: [finding('subscription-name-empty', {})] },
			{ prerequisite: 'Pub/Sub API', status: 'fails', findings: [finding('google-error', { message: 'bad <b>request</b> & `quoted`' })] },
			{ prerequisite: 'Gmail API', status: 'fails', findings: [finding('api-disabled', { api: 'gmail', project: 'my-project' })] },
		];
		const description = panelDescription(lines);
		expect(tagsOf(description).filter((tag) => !N8N_KEEPS.has(tag))).toEqual([]);
		expect(description).toContain('projects/&lt;project-id&gt;/subscriptions/&lt;subscription&gt;');
		expect(description).toContain("bad &lt;b&gt;request&lt;/b&gt; &amp; 'quoted'");
		expect(description).toContain('(<a href="https://console.cloud.google.com/apis/library/gmail.googleapis.com?project=my-project" target="_blank">open</a>)');
		expect(description).toContain('<code>gcloud services enable gmail.googleapis.com --project=my-project</code>');
	});

	it('a subscription pushing with another secret: named without the secret, and says where the secret goes', async () => {
		const wanted = `${URL_}?token=${SECRET}`;
		const lines = await check(
			{ topic: true, policy: granted, subscription: { topic, pushConfig: { pushEndpoint: `${URL_}?token=old-secret-9876543210` } } },
			{ delivery: 'push', subscription: { name, topic, kind: 'push', pushEndpoint: wanted, ackDeadlineSeconds: 60 } },
		);
		const text = `${panelMessage(lines)}\n${panelDescription(lines)}`;
		expect(panelMessage(lines)).toBe('Set-up check failed: Shared secret differs');
		expect(text).not.toContain(SECRET);
		expect(text).not.toContain('old-secret-9876543210');
		expect(text).toContain(`--push-endpoint=${URL_}?token=…</code>`);
		expect(text).toContain("Replace the … after token= with the node's shared secret.");
	});

	it('a warning next to a failure is listed, not named in the message', () => {
		const expires: Finding = finding('subscription-expires', { name, ttl: '2678400s' });
		const lines: CheckLine[] = [{ prerequisite: 'Subscription', status: 'fails', findings: [finding('subscription-of-another-workflow', { name }), expires] }];
		expect(panelMessage(lines)).toBe('Set-up check failed: Subscription belongs to another workflow');
		expect(itemsOf(panelDescription(lines))[1]).toContain(`<code>gcloud pubsub subscriptions update ${name} --expiration-period=never</code>`);
	});
});
