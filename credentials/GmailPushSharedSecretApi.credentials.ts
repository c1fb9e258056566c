import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The shared secret a Pub/Sub push subscription carries in its endpoint (?token=<secret>), kept
 * where n8n encrypts credentials instead of in the workflow (where exports would show it).
 */
export class GmailPushSharedSecretApi implements ICredentialType {
	name = 'gmailPushSharedSecretApi';

	displayName = 'Gmail Push Shared Secret API';

	documentationUrl = 'https://github.com/n8n-nodes-gmail-push/n8n-nodes-gmail-push#google-cloud-set-up-once';

	icon = 'file:gmail.svg' as const;

	properties: INodeProperties[] = [
		{
			displayName: 'Secret',
			name: 'secret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A long random string (at least 16 characters, e.g. from openssl rand -hex 32). Set the push subscription\'s endpoint to the node\'s Production URL followed by ?token=&lt;this secret&gt;.',
		},
	];
}
