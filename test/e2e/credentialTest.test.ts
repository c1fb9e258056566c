/**
 * The e2e harness itself (the package installed as the Community Nodes screen does, n8n started,
 * owner and API key set up headless), then the credential dialogs' "test" in a real n8n (1.123
 * and 2.41), through the same REST call the editor makes: a good credential says which mailbox
 * it reads, a bad one says what to fix. One n8n per version serves both.
 */
import { generateKeyPairSync } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { SCOPES } from '../support/fakeGoogle/auth';
import { N8N_VERSIONS, PACKAGE_NAME, selectedMajors } from '../support/n8n';
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

	it('the harness: n8n runs with the package installed as the Community Nodes screen does, an owner and an API key', async () => {
		const { n8n, api, userFolder } = stack.session;
		const nodesDir = path.join(userFolder, '.n8n', 'nodes');
		const installed = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
		expect(existsSync(path.join(installed, 'dist', 'nodes', 'GmailPushTrigger', 'GmailPushTrigger.node.js'))).toBe(true);
		for (const dependency of ['@google-cloud/pubsub', 'google-auth-library', 'mailparser']) expect(existsSync(path.join(installed, 'node_modules', dependency))).toBe(true);
		// A devDependency (the fake Gmail is checked against it), not installed for users.
		expect(existsSync(path.join(installed, 'node_modules', '@googleapis', 'gmail'))).toBe(false);
		// Like n8n's installer: no peer deps in the package (n8n-workflow comes from n8n itself).
		expect(existsSync(path.join(installed, 'node_modules', 'n8n-workflow'))).toBe(false);
		const list = JSON.parse(readFileSync(path.join(nodesDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
		expect(list.dependencies[PACKAGE_NAME]).toBeDefined();

		expect(api.apiKey).toBeTruthy();
		expect(await api.listWorkflows()).toEqual([]);
		// n8n knows the node and credential types of the package.
		expect((await api.nodeTypes()).map((t) => t.name)).toContain(`${PACKAGE_NAME}.gmailPushTrigger`);
		expect((await api.credentialTypes()).map((t) => t.name)).toEqual(expect.arrayContaining(['gmailPushServiceAccountApi', 'gmailPushOAuth2Api', 'gmailPushSharedSecretApi']));
		expect(n8n.log).toMatch(new RegExp(`Version: ${N8N_VERSIONS[major].replace(/\./g, '\\.')}`));
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
