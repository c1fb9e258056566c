/** Push Authentication as the node reads it, from a hand-built n8n context (parameters, credentials). */
import type { IDataObject, INode } from 'n8n-workflow';
import { readPushAuth } from '../../nodes/GmailPushTrigger/shell/config';

const NODE: INode = { id: 'n', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1, position: [0, 0], parameters: {} };

function context(parameters: Record<string, unknown>, credentials: Record<string, IDataObject> = {}) {
	const asked: string[] = [];
	return {
		asked,
		getNode: () => NODE,
		getNodeParameter: (name: string, fallback?: unknown) => (name in parameters ? parameters[name] : fallback),
		getCredentials: async (type: string) => {
			asked.push(type);
			if (!credentials[type]) throw new Error(`Node does not have any credentials set for "${type}"`);
			return credentials[type];
		},
	};
}

const SECRET = 'a-long-random-secret-0123456789';

describe('readPushAuth', () => {
	it('takes the shared secret from the Gmail Push Shared Secret credential, where n8n encrypts it', async () => {
		const ctx = context({ pushAuthentication: 'sharedSecretCredential', pushSecret: 'ignored-parameter-value-000' }, { gmailPushSharedSecretApi: { secret: SECRET } });
		await expect(readPushAuth(ctx)).resolves.toEqual({ mode: 'sharedSecret', secret: SECRET });
		expect(ctx.asked).toEqual(['gmailPushSharedSecretApi']);
	});

	it('refuses a short secret in the credential, naming the credential', async () => {
		const ctx = context({ pushAuthentication: 'sharedSecretCredential' }, { gmailPushSharedSecretApi: { secret: 'short' } });
		await expect(readPushAuth(ctx)).rejects.toThrow(/Shared Secret credential's Secret must be at least 16 characters/);
	});

	it('still reads the older secret parameter of saved workflows, without asking for a credential', async () => {
		const ctx = context({ pushAuthentication: 'sharedSecret', pushSecret: SECRET });
		await expect(readPushAuth(ctx)).resolves.toEqual({ mode: 'sharedSecret', secret: SECRET });
		expect(ctx.asked).toEqual([]);
	});

	it('OIDC defaults its audience to the Production URL; none needs nothing', async () => {
		await expect(readPushAuth(context({ pushAuthentication: 'oidc', pushServiceAccountEmail: 'push@p.iam.gserviceaccount.com' }), 'https://n8n/webhook/x/webhook')).resolves.toEqual({
			mode: 'oidc',
			serviceAccountEmail: 'push@p.iam.gserviceaccount.com',
			audience: 'https://n8n/webhook/x/webhook',
		});
		await expect(readPushAuth(context({ pushAuthentication: 'none' }))).resolves.toEqual({ mode: 'none' });
		await expect(readPushAuth(context({ pushAuthentication: 'bogus' }))).rejects.toThrow(/Push Authentication must be one of oidc, sharedSecretCredential, sharedSecret, none/);
	});
});
