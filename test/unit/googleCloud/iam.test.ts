import { GMAIL_PUBLISHER, PUBLISHER_ROLE, publisherGranted, withPublisherGrant } from '../../../nodes/GmailPushTrigger/googleCloud/iam';
import type { IamPolicy } from '../../../nodes/GmailPushTrigger/transport/pubsubAdminPort';

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
