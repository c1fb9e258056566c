/**
 * Active engines of this n8n process, by workflow and node. The push webhook looks its engine
 * up here so that the trigger's engine, not the webhook, moves the cursor (see state.ts).
 */
import type { MailboxEngine } from './engine';

const engines = new Map<string, MailboxEngine>();

export function engineKey(workflowId: string | undefined, nodeId: string): string {
	return `${workflowId ?? ''}:${nodeId}`;
}

export function registerEngine(key: string, engine: MailboxEngine): () => void {
	engines.set(key, engine);
	return () => {
		if (engines.get(key) === engine) engines.delete(key);
	};
}

export function findEngine(key: string): MailboxEngine | undefined {
	return engines.get(key);
}
