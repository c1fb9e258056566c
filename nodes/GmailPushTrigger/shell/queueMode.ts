/**
 * Push needs Pub/Sub's POST to reach the process that runs the trigger: only its engine moves the
 * cursor. In queue mode without production webhooks on the main it never does, so that set-up is
 * refused at activation, naming pull. n8n: see docs/n8n-behaviour.md#queue-mode
 */
import { NodeOperationError, type INode } from 'n8n-workflow';

export function pushReachesTrigger(env: NodeJS.ProcessEnv = process.env): boolean {
	return !(env.EXECUTIONS_MODE === 'queue' && env.N8N_DISABLE_PRODUCTION_MAIN_PROCESS === 'true');
}

export function pushUnreachableError(node: INode): NodeOperationError {
	return new NodeOperationError(node, 'Push delivery cannot reach this trigger: n8n runs in queue mode with production webhooks in webhook processes only (N8N_DISABLE_PRODUCTION_MAIN_PROCESS=true), and triggers run in the main process', {
		description:
			'Set Delivery to Pull: the trigger then reads the Pub/Sub subscription itself from the main process (no public URL needed) and emails arrive within a second, as with push. ' +
			'Or let the main process serve production webhooks (N8N_DISABLE_PRODUCTION_MAIN_PROCESS=false) and route this workflow\'s webhook path to it.',
	});
}

/** True in an n8n process that runs in queue mode (a main, worker or webhook process). */
export function inQueueMode(env: NodeJS.ProcessEnv = process.env): boolean {
	return env.EXECUTIONS_MODE === 'queue';
}
