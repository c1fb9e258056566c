import type { ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * OAuth2 for the Gmail Push Trigger. It extends n8n's googleOAuth2Api, so n8n runs the consent
 * flow and obtains, refreshes and stores the tokens. The scope is fixed to what the trigger needs.
 */
export class GmailPushOAuth2Api implements ICredentialType {
	name = 'gmailPushOAuth2Api';

	extends = ['googleOAuth2Api'];

	displayName = 'Gmail Push OAuth2 API';

	documentationUrl = 'https://github.com/n8n-nodes-gmail-push/n8n-nodes-gmail-push#credentials';

	icon = 'file:gmail.svg' as const;

	properties: INodeProperties[] = [
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'hidden',
			default: 'https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/pubsub',
		},
	];

	test: ICredentialTestRequest = {
		request: {
			baseURL: 'https://gmail.googleapis.com/gmail/v1',
			url: '/users/me/profile',
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message: 'The token lacks the Gmail read scope (gmail.readonly): reconnect the credential and allow Gmail access',
				},
			},
			{
				type: 'responseCode',
				properties: { value: 401, message: 'Google rejected the token: reconnect the credential' },
			},
		],
	};
}
