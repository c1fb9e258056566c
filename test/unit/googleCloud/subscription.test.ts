import { subscriptionBody, subscriptionProblems, type WantedSubscription } from '../../../nodes/GmailPushTrigger/googleCloud/subscription';
import { problemText } from '../../../nodes/GmailPushTrigger/googleCloud/renderText';

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

	it('says what is wrong as codes, and in words one line each with what to do', () => {
		const problems = subscriptionProblems(
			{ topic: 'projects/p-123456/topics/other', pushConfig: { pushEndpoint: 'https://old.example.com/hook' }, expirationPolicy: { ttl: '2678400s' } },
			pushWanted,
		);
		expect(problems.map((p) => p.severity)).toEqual(['blocks', 'blocks', 'blocks', 'warns']);
		expect(problems.map((p) => p.code)).toEqual(['subscription-wrong-topic', 'push-endpoint-differs', 'push-signer-differs', 'subscription-expires']);
		expect(problems.map(problemText)).toEqual([
			`Subscription ${name} is attached to projects/p-123456/topics/other, not to ${topic}: pick another subscription name, or the topic it is attached to`,
			`Subscription ${name} pushes to https://old.example.com/hook, not to this node's Production URL ${url}: edit its endpoint in the console (Pub/Sub > Subscriptions > gmail-push-n8n > Edit)`,
			`Subscription ${name} does not sign its pushes as push@p.iam.gserviceaccount.com (it sends no OIDC token): set that service account under its push authentication (Pub/Sub > Subscriptions > gmail-push-n8n > Edit > Enable authentication)`,
			`Subscription ${name} is deleted after 2678400s without activity: set its expiration to "Never expire" in the console, or an idle mailbox loses it`,
		]);
	});

	it('push and pull do not stand in for each other; a deleted topic is named', () => {
		expect(subscriptionProblems({ topic }, pushWanted)).toEqual([{ severity: 'blocks', code: 'subscription-is-pull', facts: { name, wantedEndpoint: url } }]);
		expect(subscriptionProblems({ topic }, pushWanted).map(problemText)).toEqual([
			`Subscription ${name} is a pull subscription; push delivery needs it to push to ${url}: pick another subscription name`,
		]);
		expect(problemText(subscriptionProblems({ topic, pushConfig: { pushEndpoint: url } }, { ...pushWanted, kind: 'pull' })[0])).toContain('is a push subscription');
		expect(subscriptionProblems({ topic: '_deleted-topic_' }, { ...pushWanted, kind: 'pull' })[0].code).toBe('subscription-topic-deleted');
		expect(problemText(subscriptionProblems({ topic: '_deleted-topic_' }, { ...pushWanted, kind: 'pull' })[0])).toContain('belongs to a topic that was deleted');
	});
});
