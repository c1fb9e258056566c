/**
 * Push delivery: 2xx only once the emails are emitted and the cursor is stored; non-2xx makes
 * Pub/Sub redeliver. An authenticated push that is no Gmail notification gets 2xx and a warning:
 * redelivery cannot fix it.
 */
import type { IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { decodePushBody } from '../core/notification';
import { GmailApiError } from '../core/port';
import { readConfig, readPushAuth } from './config';
import { isSelfTestCall, SELF_TEST_HEADER } from './testRun';
import { newestSample } from './sample';
import { toExecutionData } from './state';
import { storeAttachments } from './binary';
import { toNodeApiError } from './errors';
import { verifyPush } from '../transport/pushAuth';
import { engineKeyOf, gmailPortFor } from './context';
import { findEngine, pushTokenVerifier } from './runtime';
import { inQueueMode } from './queueMode';

export async function receivePush(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const response = this.getResponseObject();
	const reply = (status: number, body: Record<string, unknown>): IWebhookResponseData => {
		response.status(status).json(body);
		return { noWebhookResponse: true };
	};

	if (this.getMode() === 'manual' && isSelfTestCall(this.getHeaderData()[SELF_TEST_HEADER])) {
		return await sampleForTestRun(this, reply);
	}

	// Who is asking comes first: an unauthenticated POST reaches neither Gmail nor an execution.
	let pushAuth;
	try {
		pushAuth = await readPushAuth(this, this.getNodeWebhookUrl('default'));
	} catch (error) {
		return reply(403, { error: (error as Error).message });
	}
	const verdict = await verifyPush(pushAuth, {
		authorization: this.getHeaderData().authorization,
		token: (this.getQueryData() as { token?: unknown }).token as string | undefined,
	}, pushTokenVerifier);
	if (!verdict.ok) {
		this.logger.warn(`Gmail Push Trigger: push refused (${verdict.status}): ${verdict.reason}`);
		return reply(verdict.status, { error: verdict.reason });
	}

	const decoded = decodePushBody(this.getBodyData());
	if (!decoded.ok) {
		this.logger.warn(`Gmail Push Trigger: acknowledged a push that is not a Gmail notification (${decoded.reason}); check what publishes to the topic`);
		return reply(200, { status: 'ignored', reason: decoded.reason });
	}
	const notification = decoded.notification;

	if (this.getMode() === 'manual') {
		// A real push on the test URL: answer with a sample, touch neither the watch nor the cursor.
		return await sampleForTestRun(this, reply);
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

	// No engine: the trigger is not running in this process (e.g. a separate webhook process in
	// queue mode), or is still starting. Only the trigger may move the cursor, so ask Pub/Sub to
	// deliver again later; the trigger's own safety-net sync picks the mail up meanwhile.
	if (inQueueMode()) {
		// A webhook process (or a main that is not the leader): the trigger never runs here.
		this.logger.warn('Gmail Push Trigger: push received in an n8n process that does not run the trigger (queue mode runs triggers in the main process only); answering 503 so Pub/Sub redelivers. Use Pull delivery in queue mode with webhook processes.');
		return reply(503, { error: 'Gmail Push Trigger does not run in this n8n process (queue mode): use Pull delivery, or route this webhook to the main process' });
	}
	this.logger.warn('Gmail Push Trigger: push received but the trigger is not running in this n8n process; answering 503 so Pub/Sub redelivers');
	return reply(503, { error: 'Gmail Push Trigger is not running in this n8n process yet' });
}

async function sampleForTestRun(
	context: IWebhookFunctions,
	reply: (status: number, body: Record<string, unknown>) => IWebhookResponseData,
): Promise<IWebhookResponseData> {
	try {
		const config = readConfig(context);
		const sample = await newestSample(await gmailPortFor(context, config), config, context);
		reply(200, { status: 'test' });
		return { noWebhookResponse: true, workflowData: [toExecutionData(await storeAttachments(context, [sample], config.attachmentPrefix))] };
	} catch (error) {
		const apiError = toNodeApiError(context.getNode(), error) as Error;
		return reply(200, { status: 'test', error: apiError.message });
	}
}

function failure(context: IWebhookFunctions, error: unknown): [number, Record<string, unknown>] {
	const message = error instanceof Error ? error.message : String(error);
	context.logger.warn(`Gmail Push Trigger: notification not processed, Pub/Sub will redeliver: ${message}`);
	// Not the sender's fault: 503 asks Pub/Sub to retry with backoff; the cursor has not moved.
	const status = error instanceof GmailApiError && error.status === 429 ? 429 : 503;
	return [status, { error: message }];
}
