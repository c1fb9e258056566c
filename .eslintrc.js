/** Lint rules for n8n community packages (eslint-plugin-n8n-nodes-base). */
module.exports = {
	root: true,
	env: { browser: false, es6: true, node: true },
	parser: '@typescript-eslint/parser',
	parserOptions: { project: ['./tsconfig.json'], sourceType: 'module', extraFileExtensions: ['.json'] },
	ignorePatterns: ['.eslintrc.js', '**/*.js', '**/node_modules/**', '**/dist/**', 'test/**'],
	overrides: [
		{ files: ['package.json'], parserOptions: { project: null }, plugins: ['eslint-plugin-n8n-nodes-base'], extends: ['plugin:n8n-nodes-base/community'], rules: { 'n8n-nodes-base/community-package-json-name-still-default': 'off' } },
		{ files: ['./credentials/**/*.ts'], plugins: ['eslint-plugin-n8n-nodes-base'], extends: ['plugin:n8n-nodes-base/credentials'], rules: { 'n8n-nodes-base/cred-class-field-documentation-url-missing': 'off', 'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off' } },
		{ files: ['./nodes/**/*.ts'], plugins: ['eslint-plugin-n8n-nodes-base'], extends: ['plugin:n8n-nodes-base/nodes'], rules: { 'n8n-nodes-base/node-execute-block-missing-continue-on-fail': 'off', 'n8n-nodes-base/node-resource-description-filename-against-convention': 'off', 'n8n-nodes-base/node-param-fixed-collection-type-unsorted-items': 'off', 'n8n-nodes-base/node-class-description-outputs-wrong': 'off' /* n8n's current rules (lint/) want NodeConnectionTypes.Main */ } },
	],
};
