/**
 * The e2e harness itself, against a real n8n per selected version (E2E_N8N_VERSIONS=1,2):
 * package installed as the Community Nodes screen does, n8n started, owner + API key set up
 * headless, the public API answering, a clean stop.
 */
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { N8N_VERSIONS, PACKAGE_NAME, selectedMajors, startSession, type N8nSession } from '../support/n8n';

jest.setTimeout(240_000);

describe.each(selectedMajors())('harness on n8n %i.x', (major) => {
	let session: N8nSession | undefined;

	afterAll(async () => {
		await session?.close();
	});

	it('starts n8n with the package, sets up the owner and an API key, lists workflows, stops', async () => {
		session = await startSession({ major });
		const { n8n, api, userFolder } = session;

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
		await n8n.stop();
		expect(n8n.running).toBe(false);
	});
});
