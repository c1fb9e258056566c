/** A test run's sample: the newest email that passes the node's filters (trigger and webhook). */
import { NodeOperationError, type ITriggerFunctions } from 'n8n-workflow';
import type { GmailPort } from '../core/port';
import { passesLabelFilter, spamTrashWanted } from '../core/filters';
import { type SyncedEvent } from '../core/historyEvent';
import { toOutputItem, type OutputItem } from '../core/output';
import type { TriggerConfig } from './config';

/** The newest email that passes the node's filters, shaped like a real item. */
export async function newestSample(port: GmailPort, config: TriggerConfig, context: Pick<ITriggerFunctions, 'getNode'>): Promise<OutputItem> {
	const { sync } = config;
	const include = sync.labelFilterBehavior === 'include' && sync.labelIds.length > 0;
	const q = [sync.search?.trim(), !sync.includeDrafts && '-in:drafts'].filter(Boolean).join(' ');
	const { messages } = await port.listMessages({
		maxResults: 10,
		...(include && { labelIds: sync.labelIds.slice(0, 1) }),
		...(q && { q }),
		...(spamTrashWanted(sync) && { includeSpamTrash: true }),
	});
	for (const ref of messages) {
		const message = await port.getMessage(ref.id, sync.format, sync.metadataHeaders);
		if (!message) continue;
		const event: SyncedEvent = { key: `added:${message.id}`, event: 'messageAdded', historyId: message.historyId ?? '', ref, message };
		if (!passesLabelFilter(event, message.labelIds, sync)) continue;
		const labels = config.output === 'simplified' ? await port.listLabels() : [];
		return await toOutputItem(event, config.output, labels, config.render);
	}
	throw new NodeOperationError(context.getNode(), 'No email in this mailbox matches the trigger\'s labels and filters yet', {
		description: 'Send an email that matches Label Names or IDs and the Filters, then test the trigger again.',
	});
}
