/**
 * Active engines of this n8n process, by workflow and node. The push webhook looks its engine
 * up here so that the trigger's engine, not the webhook, moves the cursor (see state.ts).
 */
import type { FailureRecord, MailboxEngine } from './engine';

const engines = new Map<string, MailboxEngine>();
const failureRecords = new Map<string, FailureRecord>();

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

/**
 * The node's lasting-failure episode in this process. It outlives an engine: after the trigger
 * reports one, n8n closes the trigger and starts it again, and the new engine must keep backing
 * off instead of asking Google at once (and reporting again).
 */
export function failureRecordFor(key: string): FailureRecord {
	let record = failureRecords.get(key);
	if (!record) failureRecords.set(key, (record = {}));
	return record;
}

/** A deliberate deactivation or save starts afresh. */
export function forgetFailures(key: string): void {
	failureRecords.delete(key);
}
