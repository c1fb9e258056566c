/** How the node is signed in to Gmail and how Gmail's notifications reach n8n: push, pull or poll. */
import type { INodeProperties } from 'n8n-workflow';

export const authenticationProperty: INodeProperties = {
	displayName: 'Authentication',
	name: 'authentication',
	type: 'options',
	options: [
		{ name: 'OAuth2 (Recommended)', value: 'oAuth2' },
		{ name: 'Service Account', value: 'serviceAccount' },
	],
	default: 'oAuth2',
};

export const deliveryProperty: INodeProperties = {
	displayName: 'Delivery',
	name: 'delivery',
	type: 'options',
	options: [
		{
			name: 'Push (Pub/Sub Push Subscription)',
			value: 'push',
			description: 'Pub/Sub POSTs each notification to this node\'s Production URL. Needs a public HTTPS URL.',
		},
		{
			name: 'Pull (Pub/Sub Pull Subscription)',
			value: 'pull',
			description: 'N8n keeps a streaming connection to Pub/Sub open. Works behind NAT, no public URL needed.',
		},
		{
			name: 'Poll (No Pub/Sub)',
			value: 'poll',
			description: 'N8n asks Gmail for changes every few minutes. Simplest set-up, slowest.',
		},
	],
	default: 'push',
	description: 'How Gmail\'s notifications reach n8n',
};

export const pushNotice: INodeProperties = {
	displayName:
		'Pub/Sub pushes to this node\'s Production URL (see Webhook URLs above), which must be public HTTPS. With Set Up Google Cloud on, activation creates the topic and the push subscription when they are missing and lets Gmail publish to the topic: the credential needs the Pub/Sub Admin role in the project. Off: create them yourself (the README has the gcloud commands).',
	name: 'pushNotice',
	type: 'notice',
	default: '',
	displayOptions: { show: { delivery: ['push'] } },
};

export const pullNotice: INodeProperties = {
	displayName:
		'With Set Up Google Cloud on, activation creates the topic and the pull subscription when they are missing and lets Gmail publish to the topic: the credential needs the Pub/Sub Admin role in the project. Off: create them yourself (the README has the gcloud commands).',
	name: 'pullNotice',
	type: 'notice',
	default: '',
	displayOptions: { show: { delivery: ['pull'] } },
};

export const pollIntervalProperty: INodeProperties = {
	displayName: 'Poll Every (Minutes)',
	name: 'pollIntervalMinutes',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 1440 },
	default: 1,
	description: 'How often to ask Gmail for changes (one history.list call, 2 quota units, when nothing changed)',
	displayOptions: { show: { delivery: ['poll'] } },
};
