import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * A Google service account. Gmail needs a mailbox: in Google Workspace, set Delegated Email to
 * the user to watch and allow the account's client id for gmail.readonly under domain-wide
 * delegation. Tested by the node's `gmailPushServiceAccountApiTest` (signs a JWT, reads the profile).
 */
export class GmailPushServiceAccountApi implements ICredentialType {
	name = 'gmailPushServiceAccountApi';

	displayName = 'Gmail Push Service Account API';

	documentationUrl = 'https://github.com/n8n-nodes-gmail-push/n8n-nodes-gmail-push#credentials';

	icon = 'file:gmail.svg' as const;

	properties: INodeProperties[] = [
		{
			displayName: 'Service Account Email',
			name: 'email',
			type: 'string',
			placeholder: 'name@project.iam.gserviceaccount.com',
			default: '',
			required: true,
		},
		{
			displayName: 'Private Key',
			name: 'privateKey',
			type: 'string',
			typeOptions: { password: true, rows: 4 },
			default: '',
			required: true,
			description: 'The "private_key" of the JSON key file, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----',
		},
		{
			displayName: 'Delegated Email',
			name: 'delegatedEmail',
			type: 'string',
			default: '',
			placeholder: 'user@your-domain.com',
			description: 'The Google Workspace user whose mailbox to watch (domain-wide delegation). Empty means the service account itself.',
		},
	];
}
