/** The node's static data as n8n hands it over, and our items as n8n takes them. */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { OutputItem } from '../core/output';
import type { TriggerState } from '../engine/triggerState';

export type { TriggerState } from '../engine/triggerState';

/** Views n8n's static-data object as our state; writes go straight through to it. */
export function asState(staticData: IDataObject): TriggerState {
	return staticData as unknown as TriggerState;
}

/** Core items -> n8n items (the core's json is plain data, n8n types it as IDataObject). */
export function toExecutionData(items: readonly OutputItem[]): INodeExecutionData[] {
	return items.map((item) => ({ json: item.json as IDataObject, ...(item.binary && { binary: item.binary as INodeExecutionData['binary'] }) }));
}
