import { inQueueMode, pushReachesTrigger, pushUnreachableError } from '../../nodes/GmailPushTrigger/shell/queueMode';
import type { INode } from 'n8n-workflow';

describe('push delivery and n8n queue mode', () => {
	it('push reaches the trigger in regular mode, and in queue mode while the main serves production webhooks', () => {
		expect(pushReachesTrigger({})).toBe(true);
		expect(pushReachesTrigger({ EXECUTIONS_MODE: 'regular', N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' })).toBe(true);
		expect(pushReachesTrigger({ EXECUTIONS_MODE: 'queue' })).toBe(true);
		expect(pushReachesTrigger({ EXECUTIONS_MODE: 'queue', N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'false' })).toBe(true);
	});

	it('not in queue mode with production webhooks in webhook processes only', () => {
		expect(pushReachesTrigger({ EXECUTIONS_MODE: 'queue', N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' })).toBe(false);
	});

	it('the activation error says why and names pull delivery', () => {
		const error = pushUnreachableError({ name: 'Gmail Push Trigger' } as INode);
		expect(error.message).toMatch(/queue mode/);
		expect(error.message).toMatch(/N8N_DISABLE_PRODUCTION_MAIN_PROCESS=true/);
		expect(error.description).toMatch(/Set Delivery to Pull/);
	});

	it('knows queue mode from EXECUTIONS_MODE', () => {
		expect(inQueueMode({ EXECUTIONS_MODE: 'queue' })).toBe(true);
		expect(inQueueMode({ EXECUTIONS_MODE: 'regular' })).toBe(false);
		expect(inQueueMode({})).toBe(false);
	});
});
