/**
 * Push delivery: Pub/Sub POSTs the notification here. We answer 2xx only once the emails are
 * emitted and the cursor is in the static data n8n saves; non-2xx makes Pub/Sub redeliver.
 * Bad input gets a 400 with a short reason and never reaches Gmail.
 */
import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { decodePushBody } from '../core/notification';
import { GmailApiError } from '../core/port';
import type { ItemJson } from '../core/output';
import { readConfig, readPushAuth } from './config';
import { verifyPush } from '../transport/pushAuth';
import { engineKeyOf, gmailPortFor, stateOf } from './context';
import { MailboxEngine } from './engine';
import { findEngine } from './registry';
import { toExecutionData } from './state';

export async function receivePush(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const response = this.getResponseObject();
	const reply = (status: number, body: Record<string, unknown>): IWebhookResponseData => {
		response.status(status).json(body);
		return { noWebhookResponse: true };
	};

	// Who is asking comes first: an unauthenticated POST reaches neither Gmail nor an execution.
	let pushAuth;
	try {
		pushAuth = readPushAuth(this, this.getNodeWebhookUrl('default'));
	} catch (error) {
		return reply(403, { error: (error as Error).message });
	}
	const verdict = await verifyPush(pushAuth, {
		authorization: this.getHeaderData().authorization,
		token: (this.getQueryData() as { token?: unknown }).token as string | undefined,
	});
	if (!verdict.ok) {
		this.logger.warn(`Gmail Push Trigger: push refused (${verdict.status}): ${verdict.reason}`);
		return reply(verdict.status, { error: verdict.reason });
	}

	const decoded = decodePushBody(this.getBodyData());
	if (!decoded.ok) return reply(400, { error: decoded.reason });
	const notification = decoded.notification;

	if (this.getMode() === 'manual') {
		// A test URL call: show what arrived, touch neither the watch nor the cursor.
		reply(200, { status: 'test' });
		return { workflowData: [[{ json: { ...notification, event: 'notification' } }]] };
	}

	const engine = findEngine(engineKeyOf(this));
	if (engine) {
		try {
			const result = await engine.handle(notification);
			return reply(200, { ...result, stats: undefined });
		} catch (error) {
			return reply(...failure(this, error));
		}
	}

	// No trigger engine in this process (e.g. a separate webhook process in queue mode):
	// expand here, on the webhook's own copy of the static data, which n8n saves after us.
	let items: ItemJson[] = [];
	try {
		const config = readConfig(this);
		const direct = new MailboxEngine({
			port: await gmailPortFor(this, config),
			state: stateOf(this),
			sync: config.sync,
			output: config.output,
			watch: config.watch,
		catchUp: config.catchUp,
			deliver: (batch) => {
				items = items.concat(batch);
			},
			logger: this.logger,
		});
		const result = await direct.handle(notification);
		reply(200, { ...result, stats: undefined });
	} catch (error) {
		return reply(...failure(this, error));
	}
	return items.length > 0 ? { noWebhookResponse: true, workflowData: [toExecutionData(items)] } : { noWebhookResponse: true };
}

function failure(context: IWebhookFunctions, error: unknown): [number, Record<string, unknown>] {
	const message = error instanceof Error ? error.message : String(error);
	context.logger.warn(`Gmail Push Trigger: notification not processed, Pub/Sub will redeliver: ${message}`);
	// Not the sender's fault: 503 asks Pub/Sub to retry with backoff; the cursor has not moved.
	const status = error instanceof GmailApiError && error.status === 429 ? 429 : 503;
	return [status, { error: message }];
}
