/**
 * The node's static data, typed. n8n persists it per node; the trigger's in-memory copy is
 * saved when it emits, the webhook path's copy after webhook(). We let exactly one of them
 * write the cursor in a delivery (the trigger's engine), so the two can never roll it back.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { WatchState } from '../core/watch';

export interface TriggerState {
	/** Last historyId whose changes were emitted (uint64 decimal string). */
	cursor?: string;
	/** The watched mailbox, from users.getProfile: notifications for others are ignored. */
	emailAddress?: string;
	watch?: WatchState;
	/** Bounded record of recently emitted event keys (see core/cursor RECENT_KEYS_CAP). */
	recent?: string[];
	/** Epoch ms of the newest emitted email (internalDate): where a stale-cursor catch-up starts. */
	lastEmittedAt?: number;
}

const KEYS: Array<keyof TriggerState> = ['cursor', 'emailAddress', 'watch', 'recent', 'lastEmittedAt'];

/** Views n8n's static-data object as our state; writes go straight through to it. */
export function asState(staticData: IDataObject): TriggerState {
	return staticData as unknown as TriggerState;
}

export function clearState(staticData: IDataObject): void {
	for (const key of KEYS) delete staticData[key];
}

/** Core items -> n8n items (the core's json is plain data, n8n types it as IDataObject). */
export function toExecutionData(items: ReadonlyArray<Record<string, unknown>>): INodeExecutionData[] {
	return items.map((json) => ({ json: json as IDataObject }));
}
