/**
 * A hand-built n8n context for the node's shell (the Google Cloud set-up, the set-up check), in
 * front of the fake Google: the node's parameters, one credential, and a logger that records.
 * - OAuth2: n8n's httpRequestWithAuthentication with an access token of the given scopes (what
 *   the user allowed when connecting), failing as n8n fails it (a NodeApiError around the HTTP
 *   error).
 * - Service account: the credential's fields; the node signs its own JWTs with
 *   google-auth-library, whose requests routeGoogleClientsTo sends to the fake.
 */
import { NodeApiError, type INode, type IHttpRequestOptions } from 'n8n-workflow';
import type { FakeGoogle } from '../support/fakeGoogle';
import { recordingLogger } from './harness';

export const NODE = { id: 'node-1', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1.1, position: [0, 0], parameters: {} } as INode;

export interface ContextOptions {
	parameters: Record<string, unknown>;
	/** OAuth2: the scopes n8n's token holds. */
	oauthScopes?: string[];
	/** Service account: the credential as saved in n8n. */
	serviceAccount?: { email: string; privateKey: string; delegatedEmail?: string };
	workflowId?: string;
}

export function n8nContext(fake: FakeGoogle, options: ContextOptions) {
	const token = fake.issueToken({ scopes: options.oauthScopes });
	const parameters = { authentication: options.serviceAccount ? 'serviceAccount' : 'oAuth2', ...options.parameters };
	return {
		getMode: () => 'trigger',
		getActivationMode: () => 'activate',
		getNode: () => NODE,
		getWorkflow: () => ({ id: options.workflowId ?? 'workflow-1' }),
		getNodeParameter: (name: string, fallback?: unknown) => (name in parameters ? parameters[name as keyof typeof parameters] : fallback),
		getCredentials: async (type: string) => {
			if (type === 'gmailPushServiceAccountApi' && options.serviceAccount) return { ...options.serviceAccount };
			throw new Error(`Node does not have credentials of type ${type}`);
		},
		logger: recordingLogger(),
		helpers: {
			httpRequestWithAuthentication: async (_type: string, request: IHttpRequestOptions) => {
				const response = await fake.fetch(String(request.url), {
					method: request.method,
					headers: { ...(request.headers as Record<string, string>), authorization: `Bearer ${token}`, 'content-type': 'application/json' },
					...(request.body !== undefined && { body: JSON.stringify(request.body) }),
				});
				const text = await response.text();
				const data: unknown = text ? JSON.parse(text) : '';
				const headers = Object.fromEntries(response.headers);
				if (!response.ok) {
					const http = Object.assign(new Error(`Request failed with status code ${response.status}`), { response: { status: response.status, headers, data } });
					throw new NodeApiError(NODE, http as unknown as ConstructorParameters<typeof NodeApiError>[1]);
				}
				return { body: data, statusCode: response.status, headers };
			},
		},
	};
}

/**
 * Sends the requests of Google clients made without a fetchImplementation (the service account
 * JWT production builds) to the fake. gaxios uses `window.fetch` when a window exists, which
 * jest's node environment lacks: give it one that forwards to the current fake. jest keeps each
 * test file's globals and modules apart, so this stays in the file that calls it.
 */
export function routeGoogleClientsTo(current: () => FakeGoogle): void {
	(globalThis as { window?: unknown }).window = { fetch: (...args: Parameters<typeof fetch>) => current().fetch(...args) };
}
