/** Three projects: unit (pure core), integration (real Google clients vs a fake Gmail on loopback), e2e (real n8n). */
// Transpile only: `npm run typecheck` checks the types of nodes/ and test/ once, instead of each jest worker again.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json' }];
const common = { testEnvironment: 'node', transform: { '^.+\\.ts$': tsJest }, moduleFileExtensions: ['ts', 'js', 'json'] };
module.exports = {
	projects: [
		{ ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
		// Four integration suites run at once (scripts/test-all.sh), beside the n8n installs on a fresh machine: roomier per-test time.
		{ ...common, displayName: 'integration', testTimeout: 30_000, testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
		{ ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
	],
};
