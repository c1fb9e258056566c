/**
 * Pub/Sub administration over its REST API (v1): the topic, its IAM policy and the
 * subscription, for the set-up in googleCloud/. Through the credential's `request`, as the
 * Gmail port, so no gRPC client is loaded for a few admin calls.
 */
import type { JWT } from 'google-auth-library';
import { PubSubAdminError, type IamPolicy, type PubSubAdminPort, type PubSubSubscription } from './pubsubAdminPort';
import {
	N8nOAuth2Auth,
	SERVICE_ACCOUNT_CREDENTIAL_TYPE,
	serviceAccountAuth,
	withQuery,
	type AuthenticationMethod,
	type N8nContext,
	type RequestingAuth,
	type ServiceAccountCredential,
} from './auth';
import { toGmailApiError } from './gmail';

export const PUBSUB_ROOT_URL = 'https://pubsub.googleapis.com/';
/** The scope the admin calls need (Pub/Sub Editor or Admin on the project for the account). */
export const PUBSUB_SCOPE = 'https://www.googleapis.com/auth/pubsub';

/**
 * Pub/Sub is called as the service account itself, never as its Delegated Email: domain-wide
 * delegation is usually allowed for Gmail only, and Pub/Sub roles are granted to the account.
 */
export async function pubSubAuthFor(context: N8nContext, method: AuthenticationMethod): Promise<RequestingAuth | JWT> {
	if (method === 'oAuth2') return new N8nOAuth2Auth(context);
	const { email, privateKey } = (await context.getCredentials(SERVICE_ACCOUNT_CREDENTIAL_TYPE)) as unknown as ServiceAccountCredential;
	return serviceAccountAuth({ email, privateKey }, [PUBSUB_SCOPE]);
}

/** The service account Pub/Sub sees calling (the one to grant roles to); undefined for OAuth2. */
export async function pubSubServiceAccount(context: N8nContext, method: AuthenticationMethod): Promise<string | undefined> {
	if (method === 'oAuth2') return undefined;
	const { email } = (await context.getCredentials(SERVICE_ACCOUNT_CREDENTIAL_TYPE)) as unknown as ServiceAccountCredential;
	return String(email ?? '').trim() || undefined;
}

export interface PubSubAdminOptions {
	/** Only for tests that talk to the emulator over plain HTTP; production uses Google's default. */
	rootUrl?: string;
}

export function createPubSubAdmin(auth: RequestingAuth | JWT, options: PubSubAdminOptions = {}): PubSubAdminPort {
	const base = `${(options.rootUrl ?? PUBSUB_ROOT_URL).replace(/\/+$/, '')}/v1/`;
	const call = async <T>(what: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: object): Promise<T> => {
		try {
			const response = await (auth as RequestingAuth).request({
				url: base + path,
				method,
				...(body !== undefined && { data: body, headers: { 'content-type': 'application/json' } }),
				retry: false,
			} as Parameters<RequestingAuth['request']>[0]);
			return (response.data ?? {}) as T;
		} catch (error) {
			// Google's error shape is the same for every API: read it as the Gmail port does.
			const google = toGmailApiError(error, what, 'Pub/Sub');
			throw new PubSubAdminError(google.status, google.message, google.reason, what);
		}
	};
	const absentOn404 = async <T>(work: Promise<T>): Promise<T | undefined> => {
		try {
			return await work;
		} catch (error) {
			if (error instanceof PubSubAdminError && error.status === 404) return undefined;
			throw error;
		}
	};
	return {
		getTopic: async (topic) => await absentOn404(call<{ name: string }>('topics.get', 'GET', topic)),
		createTopic: async (topic) => {
			await call('topics.create', 'PUT', topic, {});
		},
		// Version 3, so that a policy with conditional bindings comes back whole and is written back whole.
		getTopicIamPolicy: async (topic) => await call<IamPolicy>('topics.getIamPolicy', 'GET', withQuery(`${topic}:getIamPolicy`, { 'options.requestedPolicyVersion': 3 })),
		setTopicIamPolicy: async (topic, policy) => await call<IamPolicy>('topics.setIamPolicy', 'POST', `${topic}:setIamPolicy`, { policy }),
		getSubscription: async (subscription) => await absentOn404(call<PubSubSubscription>('subscriptions.get', 'GET', subscription)),
		createSubscription: async (subscription, body) => {
			await call('subscriptions.create', 'PUT', subscription, body);
		},
		deleteSubscription: async (subscription) => (await absentOn404(call('subscriptions.delete', 'DELETE', subscription))) !== undefined,
	};
}
