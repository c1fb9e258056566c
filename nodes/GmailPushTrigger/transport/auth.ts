/**
 * Authorisation for the Gmail port. OAuth2 goes through n8n's `httpRequestWithAuthentication`,
 * so n8n stores refreshed tokens; a service account signs its own JWT (google-auth-library),
 * impersonating `delegatedEmail` when set.
 */
import { JWT } from 'google-auth-library';
import type { IDataObject, IExecuteFunctions, IHookFunctions, IHttpRequestMethods, IHttpRequestOptions, ILoadOptionsFunctions, ITriggerFunctions, IWebhookFunctions } from 'n8n-workflow';

/** The credential type of each authentication (names fixed: saved workflows refer to them). */
export function credentialTypeFor(method: 'oAuth2' | 'serviceAccount'): string {
	return method === 'serviceAccount' ? 'gmailPushServiceAccountApi' : 'gmailPushOAuth2Api';
}
export const OAUTH2_CREDENTIAL_TYPE = credentialTypeFor('oAuth2');
export const SERVICE_ACCOUNT_CREDENTIAL_TYPE = credentialTypeFor('serviceAccount');

export const GMAIL_READONLY_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';

export type AuthenticationMethod = 'oAuth2' | 'serviceAccount';

export type N8nContext = IHookFunctions | ITriggerFunctions | IWebhookFunctions | ILoadOptionsFunctions | IExecuteFunctions;

/** What the generated clients call: gaxios-style options in, gaxios-style response out. */
export interface RequestingAuth {
	request(options: GaxiosLikeOptions): Promise<GaxiosLikeResponse>;
}

export interface GaxiosLikeOptions {
	url?: string | URL;
	method?: string;
	params?: Record<string, unknown>;
	data?: unknown;
	body?: unknown;
	headers?: Record<string, string> | Headers;
}

export interface GaxiosLikeResponse {
	data: unknown;
	status: number;
	statusText: string;
	headers: Record<string, string>;
	config: GaxiosLikeOptions;
	request: { responseURL: string };
}

/** Serialises query params the way Google expects repeated ones (`a=1&a=2`). */
export function withQuery(url: string, params: Record<string, unknown> | undefined): string {
	if (!params) return url;
	const search = new URLSearchParams();
	for (const [key, value] of Object.entries(params)) {
		if (value === undefined || value === null) continue;
		for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
	}
	const query = search.toString();
	if (!query) return url;
	return url + (url.includes('?') ? '&' : '?') + query;
}

function plainHeaders(headers: GaxiosLikeOptions['headers']): IDataObject {
	const out: IDataObject = {};
	if (!headers) return out;
	if (typeof (headers as Headers).forEach === 'function' && !(headers as Record<string, string>).constructor?.name?.startsWith('Object')) {
		(headers as Headers).forEach((value, key) => (out[key] = value));
		return out;
	}
	Object.assign(out, headers);
	return out;
}

/** OAuth2 through n8n: errors keep their HTTP status so the Gmail port can map them. */
export class N8nOAuth2Auth implements RequestingAuth {
	constructor(private readonly context: N8nContext, private readonly credentialType = OAUTH2_CREDENTIAL_TYPE) {}

	async request(options: GaxiosLikeOptions): Promise<GaxiosLikeResponse> {
		const url = withQuery(String(options.url), options.params);
		const headers = plainHeaders(options.headers);
		delete headers['content-length'];
		const body = options.data ?? options.body;
		const request: IHttpRequestOptions = {
			url,
			method: (options.method ?? 'GET').toUpperCase() as IHttpRequestMethods,
			headers,
			json: true,
			returnFullResponse: true,
			...(body !== undefined && { body: body as IDataObject }),
		};
		const response = (await this.context.helpers.httpRequestWithAuthentication.call(this.context, this.credentialType, request)) as {
			body: unknown;
			statusCode: number;
			statusMessage?: string;
			headers: Record<string, string>;
		};
		return {
			data: response.body === '' ? undefined : response.body,
			status: response.statusCode,
			statusText: response.statusMessage ?? '',
			headers: response.headers ?? {},
			config: options,
			request: { responseURL: url },
		};
	}
}

export interface ServiceAccountCredential {
	email: string;
	privateKey: string;
	delegatedEmail?: string;
}

/** Keys pasted from a JSON key file often carry literal "\n" sequences. */
export function normalisePrivateKey(key: string): string {
	return key.replace(/\\n/g, '\n').trim();
}

export function serviceAccountAuth(credential: ServiceAccountCredential, scopes: string[]): JWT {
	return new JWT({
		email: credential.email.trim(),
		key: normalisePrivateKey(credential.privateKey),
		scopes,
		...(credential.delegatedEmail?.trim() && { subject: credential.delegatedEmail.trim() }),
	});
}

export async function authFor(context: N8nContext, method: AuthenticationMethod, scopes = [GMAIL_READONLY_SCOPE]): Promise<RequestingAuth | JWT> {
	if (method === 'serviceAccount') {
		const credential = (await context.getCredentials(SERVICE_ACCOUNT_CREDENTIAL_TYPE)) as unknown as ServiceAccountCredential;
		return serviceAccountAuth(credential, scopes);
	}
	return new N8nOAuth2Auth(context);
}
