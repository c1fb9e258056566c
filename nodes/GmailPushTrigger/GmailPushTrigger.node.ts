import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IHookFunctions,
	ILoadOptionsFunctions,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
	ITriggerFunctions,
	ITriggerResponse,
	IWebhookFunctions,
	IWebhookResponseData,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
} from 'n8n-workflow';
import { triggerProperties } from './description';
import { checkExists, create, remove } from './shell/hooks';
import { receivePush } from './shell/webhook';
import { subscribe } from './shell/trigger';
import { getLabels } from './shell/loadOptions';
import { testServiceAccount } from './shell/credentialTest';

export class GmailPushTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Gmail Push Trigger',
		name: 'gmailPushTrigger',
		icon: 'file:gmail.svg',
		group: ['trigger'],
		// 1.1: Set Up Google Cloud is on by default (saved version-1 nodes keep it off).
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: 'Starts the workflow within a second of a new email, through Gmail push notifications (Pub/Sub)',
		defaults: { name: 'Gmail Push Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'gmailPushOAuth2Api', required: true, displayOptions: { show: { authentication: ['oAuth2'] } } },
			{
				name: 'gmailPushServiceAccountApi',
				required: true,
				testedBy: 'gmailPushServiceAccountApiTest',
				displayOptions: { show: { authentication: ['serviceAccount'] } },
			},
			{
				name: 'gmailPushSharedSecretApi',
				required: true,
				displayOptions: { show: { delivery: ['push'], pushAuthentication: ['sharedSecretCredential'] } },
			},
		],
		webhooks: [
			{
				name: 'default',
				// Only push delivery listens: pull and poll register no webhook, so testing the
				// node in the editor runs trigger() at once instead of waiting for a test call.
				httpMethod: '={{ ["pull", "poll"].includes($parameter["delivery"]) ? "" : "POST" }}',
				ndvHideUrl: '={{ ["pull", "poll"].includes($parameter["delivery"]) }}',
				responseMode: 'onReceived',
				path: 'webhook',
			},
		],
		properties: triggerProperties,
	};

	methods = {
		loadOptions: {
			async getLabels(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				return await getLabels.call(this);
			},
		},
		credentialTest: {
			async gmailPushServiceAccountApiTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
				return await testServiceAccount(credential);
			},
		},
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await checkExists.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await create.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await remove.call(this);
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receivePush.call(this);
	}

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		return await subscribe.call(this);
	}
}
