import { productionUrlOf, selfTestUrls } from '../../nodes/GmailPushTrigger/shell/testRun';

describe('the URLs of a test run', () => {
	it('the Production URL of a test URL swaps n8n\'s test endpoint for its production one, nothing else', () => {
		expect(productionUrlOf('https://n8n.example.com/webhook-test/abc/webhook', {})).toBe('https://n8n.example.com/webhook/abc/webhook');
		expect(productionUrlOf('https://n8n.example.com/n8n/webhook-test/abc/webhook', {})).toBe('https://n8n.example.com/n8n/webhook/abc/webhook');
	});

	it("follows n8n's N8N_ENDPOINT_WEBHOOK and N8N_ENDPOINT_WEBHOOK_TEST", () => {
		const env = { N8N_ENDPOINT_WEBHOOK: 'hooks', N8N_ENDPOINT_WEBHOOK_TEST: '/hooks-test/' };
		expect(productionUrlOf('https://n8n.example.com/hooks-test/abc/webhook', env)).toBe('https://n8n.example.com/hooks/abc/webhook');
		// Not a test URL: left as it is.
		expect(productionUrlOf('https://n8n.example.com/hooks/abc/webhook', env)).toBe('https://n8n.example.com/hooks/abc/webhook');
	});

	it('the self-test call tries n8n on loopback first, then the advertised URL', () => {
		expect(selfTestUrls('https://n8n.example.com/webhook-test/abc/webhook', { N8N_PORT: '5679' })).toEqual([
			'http://127.0.0.1:5679/webhook-test/abc/webhook',
			'https://n8n.example.com/webhook-test/abc/webhook',
		]);
	});
});
