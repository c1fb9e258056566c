/**
 * The credential dialogs' "test" in a real n8n (1.123 and 2.41), through the same REST call the
 * editor makes: a good credential says which mailbox it reads, a bad one says what to fix.
 */
import { generateKeyPairSync } from 'crypto';
import { SCOPES } from '../support/fakeGoogle/auth';
import { selectedMajors } from '../support/n8n';
import { EMAIL, SERVICE_ACCOUNT, startStack, type Stack } from '../support/stack';

jest.setTimeout(120_000);

interface TestResult {
	status: string;
	message: string;
}

describe.each(selectedMajors())('credential tests in n8n %i.x', (major) => {
	let stack: Stack;

	beforeAll(async () => {
		stack = await startStack(major);
	}, 240_000);

	afterAll(async () => {
		await stack?.close();
	});

	afterEach(() => {
		stack.fake.auth.delegationAuthorized = true;
	});

	let n = 0;
	/** Saves the credential, then tests it as the editor's credential dialog does. */
	const test = async (type: string, data: Record<string, unknown>): Promise<TestResult> => {
		const name = `credential test ${++n}`;
		const { id } = await stack.session.api.createCredential(name, type, data);
		return await stack.session.api.rest<TestResult>('POST', '/rest/credentials/test', { credentials: { id, name, type, data } });
	};
	const serviceAccount = (data: Record<string, unknown> = {}) =>
		test('gmailPushServiceAccountApi', { email: SERVICE_ACCOUNT, privateKey: stack.privateKey, delegatedEmail: EMAIL, ...data });

	it('a working service account says which mailbox it reads', async () => {
		expect(await serviceAccount()).toEqual({ status: 'OK', message: `Connection successful: can read ${EMAIL}` });
	});

	it('a private key that is not PEM says what to paste', async () => {
		const result = await serviceAccount({ privateKey: 'MIIEvQIBADANBg...' });
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/Private Key is not a PEM key.*private_key/);
	});

	it('a key that does not belong to the account is refused with a hint', async () => {
		const { privateKey } = generateKeyPairSync('rsa', {
			modulusLength: 2048,
			publicKeyEncoding: { type: 'spki', format: 'pem' },
			privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
		});
		const result = await serviceAccount({ privateKey });
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/Could not sign in with this key.*private key belongs to it/);
	});

	it('a service account without domain-wide delegation names the setting', async () => {
		stack.fake.auth.delegationAuthorized = false;
		const result = await serviceAccount();
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/domain-wide delegation/);
	});

	it('an OAuth2 token without the Gmail read scope fails the test (2.x: says to reconnect with the scope)', async () => {
		const token = stack.fake.issueToken({ scopes: [SCOPES.labels] });
		const result = await test('gmailPushOAuth2Api', {
			clientId: 'client-id',
			clientSecret: 'client-secret',
			oauthTokenData: { access_token: token, token_type: 'Bearer' },
		});
		expect(result.status).toBe('Error');
		// n8n 1.x shows its own text for a declarative test's failure; 2.x shows the credential's rule.
		expect(result.message).toMatch(major === 1 ? /Forbidden/ : /lacks the Gmail read scope \(gmail\.readonly\): reconnect/);
	});

	it('a good OAuth2 token passes', async () => {
		const token = stack.fake.issueToken({ scopes: [SCOPES.readonly] });
		const result = await test('gmailPushOAuth2Api', {
			clientId: 'client-id',
			clientSecret: 'client-secret',
			oauthTokenData: { access_token: token, token_type: 'Bearer' },
		});
		expect(result.status).toBe('OK');
	});
});
