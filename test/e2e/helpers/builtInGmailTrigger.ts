/**
 * n8n's own Gmail Trigger (n8n-nodes-base.gmailTrigger 1.3), polling every minute, on the same
 * fake Google and service account as ours: the side-by-side test and the benchmarks compare
 * against it.
 */
import { randomUUID } from 'crypto';
import type { CredentialRef, N8nSession, WorkflowJson } from '../../support/n8n';
import { EMAIL, SERVICE_ACCOUNT } from '../../support/stack';

export const BUILT_IN = 'Gmail Trigger';

/** Its googleApi credential: the service account, impersonating the mailbox's user. */
export async function builtInCredential(session: N8nSession, privateKey: string): Promise<CredentialRef> {
	return await session.api.createCredential('Google service account (built-in Gmail Trigger)', 'googleApi', {
		email: SERVICE_ACCOUNT,
		privateKey,
		inpersonate: true,
		delegatedEmail: EMAIL,
	});
}

/** Gmail Trigger (parameters over the defaults) → No Operation, unless `alone`. */
export function builtInWorkflow(name: string, parameters: Record<string, unknown>, credential: CredentialRef, alone = false): WorkflowJson {
	const trigger = {
		id: randomUUID(),
		name: BUILT_IN,
		type: 'n8n-nodes-base.gmailTrigger',
		typeVersion: 1.3,
		position: [0, 0] as [number, number],
		parameters: { authentication: 'serviceAccount', pollTimes: { item: [{ mode: 'everyMinute' }] }, filters: {}, options: {}, ...parameters },
		credentials: { googleApi: { id: credential.id, name: credential.name } },
	};
	const noOp = { id: randomUUID(), name: 'No Operation, do nothing', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [240, 0] as [number, number], parameters: {} };
	return {
		name,
		nodes: alone ? [trigger] : [trigger, noOp],
		connections: alone ? {} : { [BUILT_IN]: { main: [[{ node: noOp.name, type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}
