import {
	GMAIL_PUBLISHER,
	PUBLISHER_ROLE,
	publisherGranted,
	subscriptionBody,
	subscriptionProblems,
	withPublisherGrant,
	type IamPolicy,
	type WantedSubscription,
} from '../../nodes/GmailPushTrigger/core/setup';

describe('the publisher grant', () => {
	it('adds one binding to an empty policy and keeps its etag (so Google can refuse a stale write)', () => {
		expect(withPublisherGrant({ etag: 'BwX1' })).toEqual({ etag: 'BwX1', bindings: [{ role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
	});

	it('does not change the policy it was given', () => {
		const policy: IamPolicy = { etag: 'e', bindings: [{ role: PUBLISHER_ROLE, members: ['user:a@example.com'] }] };
		const copy = structuredClone(policy);
		withPublisherGrant(policy);
		expect(policy).toEqual(copy);
	});

	it('a conditional binding neither counts as the grant nor receives Gmail', () => {
		const conditional = { role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER], condition: { expression: 'false' } };
		const policy: IamPolicy = { version: 3, etag: 'e', bindings: [conditional] };
		expect(publisherGranted(policy)).toBe(false);
		expect(withPublisherGrant(policy)).toEqual({ version: 3, etag: 'e', bindings: [conditional, { role: PUBLISHER_ROLE, members: [GMAIL_PUBLISHER] }] });
	});

	it('nothing to write when Gmail already holds a role that publishes', () => {
		for (const role of [PUBLISHER_ROLE, 'roles/pubsub.editor', 'roles/pubsub.admin', 'roles/editor', 'roles/owner']) {
			expect(withPublisherGrant({ bindings: [{ role, members: [GMAIL_PUBLISHER] }] })).toBeUndefined();
		}
		expect(withPublisherGrant({ bindings: [{ role: 'roles/pubsub.viewer', members: [GMAIL_PUBLISHER] }] })).toBeDefined();
	});
});

describe('the subscription the node wants', () => {
	const topic = 'projects/p-123456/topics/gmail-push';
	const name = 'projects/p-123456/subscriptions/gmail-push-n8n';
	const url = 'https://n8n.example.com/webhook/abc/webhook';
	const pushWanted: WantedSubscription = { name, topic, kind: 'push', pushEndpoint: url, oidc: { serviceAccountEmail: 'push@p.iam.gserviceaccount.com' }, ackDeadlineSeconds: 60 };

	it('never expires, and pushes with OIDC to the Production URL', () => {
		expect(subscriptionBody(pushWanted)).toEqual({
			topic,
			ackDeadlineSeconds: 60,
			expirationPolicy: {},
			pushConfig: { pushEndpoint: url, oidcToken: { serviceAccountEmail: 'push@p.iam.gserviceaccount.com' } },
		});
		expect(subscriptionBody({ ...pushWanted, kind: 'pull' })).not.toHaveProperty('pushConfig');
	});

	it('an existing one that fits has no problem', () => {
		expect(subscriptionProblems(subscriptionBody(pushWanted), pushWanted)).toEqual([]);
	});

	it('says what is wrong, one line each, with what to do', () => {
		const problems = subscriptionProblems(
			{ topic: 'projects/p-123456/topics/other', pushConfig: { pushEndpoint: 'https://old.example.com/hook' }, expirationPolicy: { ttl: '2678400s' } },
			pushWanted,
		);
		expect(problems.map((p) => p.severity)).toEqual(['blocks', 'blocks', 'blocks', 'warns']);
		expect(problems.map((p) => p.line)).toEqual([
			`Subscription ${name} is attached to projects/p-123456/topics/other, not to ${topic}: pick another subscription name, or the topic it is attached to`,
			`Subscription ${name} pushes to https://old.example.com/hook, not to this node's Production URL ${url}: edit its endpoint in the console (Pub/Sub > Subscriptions > gmail-push-n8n > Edit)`,
			`Subscription ${name} does not sign its pushes as push@p.iam.gserviceaccount.com (it sends no OIDC token): set that service account under its push authentication (Pub/Sub > Subscriptions > gmail-push-n8n > Edit > Enable authentication)`,
			`Subscription ${name} is deleted after 2678400s without activity: set its expiration to "Never expire" in the console, or an idle mailbox loses it`,
		]);
	});

	it('push and pull do not stand in for each other; a deleted topic is named', () => {
		expect(subscriptionProblems({ topic }, pushWanted)).toEqual([
			{ severity: 'blocks', line: `Subscription ${name} is a pull subscription; push delivery needs it to push to ${url}: pick another subscription name` },
		]);
		expect(subscriptionProblems({ topic, pushConfig: { pushEndpoint: url } }, { ...pushWanted, kind: 'pull' })[0].line).toContain('is a push subscription');
		expect(subscriptionProblems({ topic: '_deleted-topic_' }, { ...pushWanted, kind: 'pull' })[0].line).toContain('belongs to a topic that was deleted');
	});
});
