/**
 * trigger(): n8n starts it for the active workflow (and on every restart). It owns the engine
 * that the push webhook hands notifications to, and keeps the watch renewed even when the
 * mailbox is idle. In a manual (test) run it emits the newest matching email instead, without
 * touching the watch or the cursor.
 */
import { NodeOperationError, type ITriggerFunctions, type ITriggerResponse } from 'n8n-workflow';
import type { GmailPort } from '../core/port';
import { passesLabelFilter, type SyncedEvent } from '../core/sync';
import { toItemJson, type ItemJson } from '../core/output';
import { readConfig, type TriggerConfig } from './config';
import { engineKeyOf, gmailPortFor, stateOf } from './context';
import { MailboxEngine } from './engine';
import { toNodeApiError } from './errors';
import { registerEngine } from './registry';
import { toExecutionData } from './state';

/** How often we look at the watch's age; it is renewed once a day. */
export const WATCH_CHECK_INTERVAL_MS = 60 * 60 * 1000;

export async function subscribe(this: ITriggerFunctions): Promise<ITriggerResponse> {
	const config = readConfig(this);
	const port = await gmailPortFor(this, config);

	if (this.getMode() === 'manual') {
		return {
			manualTriggerFunction: async () => {
				try {
					this.emit([toExecutionData([await newestSample(port, config, this)])]);
				} catch (error) {
					throw toNodeApiError(this.getNode(), error);
				}
			},
		};
	}

	const key = engineKeyOf(this);
	const engine = new MailboxEngine({
		port,
		state: stateOf(this),
		sync: config.sync,
		output: config.output,
		watch: config.watch,
		catchUp: config.catchUp,
		deliver: (items) => this.emit([toExecutionData(items)]),
		logger: this.logger,
	});
	const unregister = registerEngine(key, engine);

	const renew = async () => {
		try {
			await engine.ensureWatch(key);
		} catch (error) {
			const apiError = toNodeApiError(this.getNode(), error, { topicName: config.watch.topicName, during: 'watch' });
			this.logger.error(`Gmail Push Trigger: could not renew the Gmail watch: ${(apiError as Error).message}`);
		}
	};
	// n8n 2.x does not call checkExists/create on restart: renew here too when the watch is old.
	void renew();
	const timer = setInterval(() => void renew(), WATCH_CHECK_INTERVAL_MS);
	timer.unref?.();

	return {
		closeFunction: async () => {
			clearInterval(timer);
			unregister();
		},
	};
}

/** The newest email that passes the node's filters, shaped like a real item. */
export async function newestSample(port: GmailPort, config: TriggerConfig, context: Pick<ITriggerFunctions, 'getNode'>): Promise<ItemJson> {
	const { sync } = config;
	const include = sync.labelFilterBehavior === 'include' && sync.labelIds.length > 0;
	const { messages } = await port.listMessages({
		maxResults: 10,
		...(include && { labelIds: sync.labelIds.slice(0, 1) }),
		...(!sync.includeDrafts && { q: '-in:drafts' }),
	});
	for (const ref of messages) {
		const message = await port.getMessage(ref.id, sync.format, sync.metadataHeaders);
		if (!message) continue;
		const event: SyncedEvent = { key: `added:${message.id}`, event: 'messageAdded', historyId: message.historyId ?? '', ref, message };
		if (!passesLabelFilter(event, message.labelIds, sync)) continue;
		const labels = config.output === 'simplified' ? await port.listLabels() : [];
		return toItemJson(event, config.output, labels);
	}
	throw new NodeOperationError(context.getNode(), 'No email in this mailbox matches the trigger\'s labels yet', {
		description: 'Send an email that matches Label Names or IDs, then test the trigger again.',
	});
}
