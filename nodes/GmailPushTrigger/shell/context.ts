/** Builds the Gmail port and engine inputs from an n8n context (hook, trigger or webhook). */
import type { IDataObject } from 'n8n-workflow';
import { createGmailPort } from '../transport/gmail';
import { authFor, type N8nContext } from '../transport/auth';
import { retryingPort } from '../transport/retry';
import type { GmailPort } from '../core/port';
import type { TriggerConfig } from './config';
import { engineKey } from './runtime';
import { asState, type TriggerState } from './state';

type StatefulContext = N8nContext & {
	getWorkflowStaticData(type: string): IDataObject;
	getWorkflow(): { id?: string };
};

export async function gmailPortFor(context: N8nContext, config: Pick<TriggerConfig, 'authentication'>): Promise<GmailPort> {
	return retryingPort(createGmailPort(await authFor(context, config.authentication)));
}

export function stateOf(context: StatefulContext): TriggerState {
	return asState(context.getWorkflowStaticData('node'));
}

export function engineKeyOf(context: N8nContext & { getWorkflow(): { id?: string } }): string {
	const node = context.getNode();
	return engineKey(context.getWorkflow().id, node.id ?? node.name);
}

/** Activation modes in which n8n re-adds an already active workflow's webhooks. */
const RESTARTS: readonly string[] = ['init', 'leadershipChange'];

/** n8n re-adds an active workflow (its start, a new leader), as opposed to a user's activation or save. */
export function isRestart(mode: string): boolean {
	return RESTARTS.includes(mode);
}
