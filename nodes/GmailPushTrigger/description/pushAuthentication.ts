/** How the push endpoint checks that a POST comes from your Pub/Sub push subscription (push delivery only). */
import type { INodeProperties } from 'n8n-workflow';

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
