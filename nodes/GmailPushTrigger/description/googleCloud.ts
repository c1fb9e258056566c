/** The Pub/Sub topic and subscription, and whether activation sets them up (push and pull only). */
import type { INodeProperties } from 'n8n-workflow';

const setUpGoogleCloudDescription =
	'Whether activation makes sure the topic and the subscription (push: to this node\'s Production URL, with its push authentication) exist and that gmail-api-push@system.gserviceaccount.com may publish to the topic (added to its policy, nothing else changed). A subscription that exists but does not fit is reported, not changed. When the credential may not manage Pub/Sub, the node uses what exists if all of it is in place, and otherwise fails activation saying which role to grant. Deactivating the workflow deletes the subscription the node made (a minute later); the topic and the grant stay.';

/**
 * On for nodes added from version 1.1, off for saved version-1 nodes: those were set up by hand
 * and keep working exactly as they did.
 */
export const setUpGoogleCloudProperties: INodeProperties[] = [
	{
		displayName: 'Set Up Google Cloud',
		name: 'setUpGoogleCloud',
		type: 'boolean',
		default: true,
		description: setUpGoogleCloudDescription,
		displayOptions: { show: { delivery: ['push', 'pull'], '@version': [{ _cnd: { gte: 1.1 } }] } },
	},
	{
		displayName: 'Set Up Google Cloud',
		name: 'setUpGoogleCloud',
		type: 'boolean',
		default: false,
		description: setUpGoogleCloudDescription,
		displayOptions: { show: { delivery: ['push', 'pull'], '@version': [1] } },
	},
];

export const subscriptionNameProperty: INodeProperties = {
	displayName: 'Subscription Name',
	name: 'subscriptionName',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'projects/my-project/subscriptions/gmail-push-n8n',
	description: 'Full name of the Pub/Sub pull subscription on the topic. Use it for this workflow only: each notification goes to one subscriber.',
	displayOptions: { show: { delivery: ['pull'] } },
};

export const pushSubscriptionNameProperty: INodeProperties = {
	displayName: 'Subscription Name',
	name: 'subscriptionName',
	type: 'string',
	default: '',
	placeholder: 'projects/my-project/subscriptions/gmail-push-n8n',
	description:
		'Optional: full name of the push subscription the set-up makes or checks. Empty: projects/&lt;the topic\'s project&gt;/subscriptions/n8n-gmail-push-&lt;workflow ID&gt;-&lt;node&gt;.',
	displayOptions: { show: { delivery: ['push'], setUpGoogleCloud: [true] } },
};

export const topicNameProperty: INodeProperties = {
	displayName: 'Topic Name',
	name: 'topicName',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'projects/my-project/topics/gmail-push',
	description:
		'Full name of the Pub/Sub topic Gmail publishes to. It must be in the same Google Cloud project as the OAuth client (or service account).',
	displayOptions: { show: { delivery: ['push', 'pull'] } },
};
