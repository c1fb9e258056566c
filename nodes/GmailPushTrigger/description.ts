/** Every parameter of the Gmail Push Trigger. Names are public: saved workflows depend on them. */
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

export const pushAuthenticationProperty: INodeProperties = {
	displayName: 'Push Authentication',
	name: 'pushAuthentication',
	type: 'options',
	options: [
		{
			name: 'Google OIDC Token (Recommended)',
			value: 'oidc',
			description: 'Pub/Sub signs each push with a Google token for a service account you choose',
		},
		{
			name: 'Shared Secret in URL (Credential)',
			value: 'sharedSecretCredential',
			description: 'The push endpoint carries ?token=&lt;secret&gt;; the secret is kept encrypted in a Gmail Push Shared Secret credential',
		},
		{
			name: 'Shared Secret in URL (Stored in the Workflow)',
			value: 'sharedSecret',
			description: 'Older choice: the secret is saved in the workflow unencrypted and shows in exports. Prefer the credential.',
		},
		{ name: 'None', value: 'none', description: 'Anyone who knows the URL can make this node call Gmail' },
	],
	default: 'oidc',
	description: 'How the node checks that a POST really comes from your Pub/Sub push subscription',
	displayOptions: { show: { delivery: ['push'] } },
};

export const pushServiceAccountEmailProperty: INodeProperties = {
	displayName: 'Push Service Account Email',
	name: 'pushServiceAccountEmail',
	type: 'string',
	default: '',
	required: true,
	placeholder: 'pubsub-push@my-project.iam.gserviceaccount.com',
	description: 'The service account set as the push subscription\'s authentication (--push-auth-service-account)',
	displayOptions: { show: { delivery: ['push'], pushAuthentication: ['oidc'] } },
};

export const pushAudienceProperty: INodeProperties = {
	displayName: 'Push Audience',
	name: 'pushAudience',
	type: 'string',
	default: '',
	placeholder: 'https://n8n.example.com/webhook/…/webhook',
	description: 'The token audience set on the subscription (--push-auth-token-audience). Empty means the node\'s Production URL, which is also Pub/Sub\'s default.',
	displayOptions: { show: { delivery: ['push'], pushAuthentication: ['oidc'] } },
};

export const pushSecretProperty: INodeProperties = {
	displayName: 'Push Secret',
	name: 'pushSecret',
	type: 'string',
	typeOptions: { password: true },
	default: '',
	required: true,
	description: 'A long random string. Set the subscription\'s push endpoint to the Production URL followed by ?token=&lt;this secret&gt;. Stored in the workflow unencrypted: prefer Shared Secret in URL (Credential).',
	displayOptions: { show: { delivery: ['push'], pushAuthentication: ['sharedSecret'] } },
};

export const pushNoAuthWarning: INodeProperties = {
	displayName:
		'Warning: without push authentication anyone who finds the Production URL can make this node call Gmail. Use an OIDC token or a shared secret.',
	name: 'pushNoAuthWarning',
	type: 'notice',
	default: '',
	displayOptions: { show: { delivery: ['push'], pushAuthentication: ['none'] } },
};

export const pullNotice: INodeProperties = {
	displayName:
		'With Set Up Google Cloud on, activation creates the topic and the pull subscription when they are missing and lets Gmail publish to the topic: the credential needs the Pub/Sub Admin role in the project. Off: create them yourself (the README has the gcloud commands).',
	name: 'pullNotice',
	type: 'notice',
	default: '',
	displayOptions: { show: { delivery: ['pull'] } },
};

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

export const pollIntervalProperty: INodeProperties = {
	displayName: 'Poll Every (Minutes)',
	name: 'pollIntervalMinutes',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 1440 },
	default: 1,
	description: 'How often to ask Gmail for changes (one history.list call, 2 quota units, when nothing changed)',
	displayOptions: { show: { delivery: ['poll'] } },
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

export const labelIdsProperty: INodeProperties = {
	displayName: 'Label Names or IDs',
	name: 'labelIds',
	type: 'multiOptions',
	typeOptions: { loadOptionsMethod: 'getLabels' },
	default: ['INBOX'],
	description:
		'Only changes to messages with these labels. Leave empty for the whole mailbox. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const labelFilterBehaviorProperty: INodeProperties = {
	displayName: 'Label Filter Behavior',
	name: 'labelFilterBehavior',
	type: 'options',
	options: [
		{ name: 'Include', value: 'include', description: 'Only messages with at least one of the labels' },
		{ name: 'Exclude', value: 'exclude', description: 'Only messages with none of the labels' },
	],
	default: 'include',
};

export const eventsProperty: INodeProperties = {
	displayName: 'Events',
	name: 'events',
	type: 'multiOptions',
	options: [
		{ name: 'Label Added', value: 'labelAdded', description: 'A label was added to a message' },
		{ name: 'Label Removed', value: 'labelRemoved', description: 'A label was removed from a message' },
		{ name: 'Message Added', value: 'messageAdded', description: 'A new email arrived (or was sent or drafted)' },
		{ name: 'Message Deleted', value: 'messageDeleted', description: 'An email was permanently deleted' },
	],
	default: ['messageAdded'],
	required: true,
};

export const outputProperty: INodeProperties = {
	displayName: 'Output',
	name: 'output',
	type: 'options',
	options: [
		{
			name: 'Simplified',
			value: 'simplified',
			description: 'Same shape as n8n\'s built-in Gmail Trigger: From, To, Subject, snippet, labels',
		},
		{
			name: 'Whole Email',
			value: 'email',
			description:
				'Same shape as n8n\'s built-in Gmail Trigger with Simplify off: text, html, subject, date, from, to, headers; attachments as files with Download Attachments',
		},
		{
			name: 'Gmail API Message',
			value: 'full',
			description: 'The message as Gmail\'s API returns it, with decoded text and HTML bodies and the attachments listed (not downloaded)',
		},
	],
	default: 'simplified',
};

export const filtersProperty: INodeProperties = {
	displayName: 'Filters',
	name: 'filters',
	type: 'collection',
	placeholder: 'Add Filter',
	default: {},
	description: 'The filters of n8n\'s Gmail Trigger, with the same names and meaning. Gmail itself checks each new email against them.',
	options: [
		{
			displayName: 'Include Spam and Trash',
			name: 'includeSpamTrash',
			type: 'boolean',
			default: false,
			description: 'Whether to also emit new emails that land in Spam or Trash',
		},
		{
			displayName: 'Read Status',
			name: 'readStatus',
			type: 'options',
			default: 'both',
			options: [
				{ name: 'Unread and Read Emails', value: 'both' },
				{ name: 'Unread Emails Only', value: 'unread' },
				{ name: 'Read Emails Only', value: 'read' },
			],
			description: 'Whether the email is read at the moment the node sees it',
		},
		{
			displayName: 'Search',
			name: 'q',
			type: 'string',
			default: '',
			placeholder: 'has:attachment subject:invoice',
			description:
				'Only emails that this Gmail search finds, in the syntax of the Gmail search box. <a href="https://support.google.com/mail/answer/7190">Learn more</a>.',
		},
		{
			displayName: 'Sender',
			name: 'sender',
			type: 'string',
			default: '',
			placeholder: 'alice@example.com',
			description: 'Only emails from this sender (an address, a name or part of it), as Gmail\'s from: search',
		},
	],
};

export const optionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
		{
			displayName: 'Attachment Prefix',
			name: 'dataPropertyAttachmentsPrefixName',
			type: 'string',
			default: 'attachment_',
			description: 'Prefix of the binary properties that hold the attachments: attachment_0, attachment_1, …',
			displayOptions: { show: { '/output': ['email'] } },
		},
		{
			displayName: 'Catch-Up Window (Hours)',
			name: 'catchUpWindowHours',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 720 },
			default: 168,
			description:
				'If Gmail no longer has the history since the last sync (it keeps about a week), new emails since the last emitted one are found with a search instead, looking back at most this many hours (and at most 500 emails)',
		},
		{
			displayName: 'Download Attachments',
			name: 'downloadAttachments',
			type: 'boolean',
			default: false,
			description: 'Whether to add each attachment (inline images included) to the item as a file',
			displayOptions: { show: { '/output': ['email'] } },
		},
		{
			displayName: 'Include Drafts',
			name: 'includeDrafts',
			type: 'boolean',
			default: false,
			description: 'Whether to also emit drafts (they are skipped by default, as in the built-in Gmail Trigger)',
		},
		{
			displayName: 'Safety Net Sync (Minutes)',
			name: 'safetyNetMinutes',
			type: 'number',
			typeOptions: { minValue: 5, maxValue: 1440 },
			default: 60,
			description:
				'Gmail and Pub/Sub may drop a notification now and then. When no sync has happened for this long, the node asks Gmail for changes itself, so no email waits longer than this.',
			displayOptions: { show: { '/delivery': ['push', 'pull'] } },
		},
	],
};

export const triggerProperties: INodeProperties[] = [
	authenticationProperty,
	deliveryProperty,
	pushNotice,
	pullNotice,
	...setUpGoogleCloudProperties,
	topicNameProperty,
	subscriptionNameProperty,
	pushSubscriptionNameProperty,
	pollIntervalProperty,
	pushAuthenticationProperty,
	pushServiceAccountEmailProperty,
	pushAudienceProperty,
	pushSecretProperty,
	pushNoAuthWarning,
	labelIdsProperty,
	labelFilterBehaviorProperty,
	eventsProperty,
	filtersProperty,
	outputProperty,
	optionsProperty,
];
