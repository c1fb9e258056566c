// n8n's current lint rules for community nodes (@n8n/eslint-plugin-community-nodes), in their
// configuration without n8n Cloud support. Run from the package root with `npm run lint`
// (scripts/lint.sh installs this folder's own ESLint 9 on first use).
import tsParser from '@typescript-eslint/parser';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';

const CLIMBS = { group: ['../shell', '../shell/*', '../googleCloud', '../googleCloud/*', '../description', '../description/*'], message: 'No climbing back up: core/, engine/ and transport/ are below shell/, googleCloud/ and description/.' };

export default [
	{ ignores: ['**/node_modules/**', 'dist/**', 'test/**', 'scripts/**', 'lint/**', '*.js', 'docs/**'] },
	{
		files: ['**/*.ts', 'package.json'],
		// The TypeScript parser reads package.json as one JSON expression, as the rules expect.
		languageOptions: { parser: tsParser, parserOptions: { sourceType: 'module', extraFileExtensions: ['.json'] } },
	},
	n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport,
	{
		files: ['package.json'],
		rules: {
			// Self-hosted only (not on n8n Cloud): the node needs Google's client libraries at run
			// time (@googleapis/gmail, google-auth-library, @google-cloud/pubsub).
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			// No public contact address has been chosen for the package yet: set author.email
			// before the first publish, then drop this line.
			'@n8n/community-nodes/valid-author': 'off',
		},
	},
	{
		files: ['credentials/GmailPushSharedSecretApi.credentials.ts'],
		rules: {
			// Nothing outside n8n knows this secret, so there is nothing to test it against; the
			// node checks it at activation (length) and on every push (constant-time compare).
			'@n8n/community-nodes/credential-test-required': 'off',
		},
	},
	{
		files: ['nodes/GmailPushTrigger/core/**/*.ts', 'nodes/GmailPushTrigger/transport/**/*.ts', 'nodes/GmailPushTrigger/engine/**/*.ts', 'nodes/GmailPushTrigger/googleCloud/setUp.ts'],
		rules: {
			// No n8n context down here: these layers pass GmailApiError up, and the n8n shell turns
			// it into a NodeApiError that says what to fix (shell/errors.ts) at the n8n boundary.
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
	{
		// The house's floors (README "Development"): nothing here climbs back up to the n8n glue.
		files: ['nodes/GmailPushTrigger/core/**/*.ts', 'nodes/GmailPushTrigger/engine/**/*.ts', 'nodes/GmailPushTrigger/transport/**/*.ts'],
		rules: {
			'no-restricted-imports': ['error', { patterns: [CLIMBS] }],
		},
	},
	{
		// The pure rooms import no n8n at all (transport/auth.ts uses n8n's request helpers).
		files: ['nodes/GmailPushTrigger/core/**/*.ts', 'nodes/GmailPushTrigger/engine/**/*.ts'],
		rules: {
			'no-restricted-imports': ['error', { patterns: [CLIMBS, { group: ['n8n-workflow', 'n8n-core'], message: 'core/ and engine/ import nothing from n8n: the shell adapts n8n to them.' }] }],
		},
	},
];
