/** Pull delivery: the StreamingPull reader that hands each Pub/Sub message to the engine. */
import { NodeOperationError, type ITriggerFunctions } from 'n8n-workflow';
import type { GmailPort } from '../core/port';
import { pulledMessageHandler } from '../engine/pulledMessage';
import type { MailboxEngine } from '../engine/mailboxEngine';
import { normalisePrivateKey, OAUTH2_CREDENTIAL_TYPE, SERVICE_ACCOUNT_CREDENTIAL_TYPE } from '../transport/auth';
// Types only: @google-cloud/pubsub (gRPC, protobufs) is loaded when pull delivery starts.
import type { PubSubAuth, PubSubSubscriber } from '../transport/pubsub';
import type { TriggerConfig } from './config';
import { forgetRecordedWatch, watchedByOthers } from './runtime';
import { withSetUpCheck } from '../googleCloud/runCheck';

/** Pull delivery's StreamingPull reader, handing each notification to the engine. */
export async function startSubscriber(
	trigger: { context: ITriggerFunctions; config: TriggerConfig; port: GmailPort; engine: MailboxEngine; key: string },
	subscriptionName: string,
	reportError: (error: Error) => void,
	watcher: { release: () => void } | undefined,
): Promise<PubSubSubscriber> {
	const { context, config, port, engine, key } = trigger;
	const { PubSubSubscriber } = await import('../transport/pubsub');
	const subscriber = new PubSubSubscriber({
		subscriptionName,
		auth: await pubSubAuth(context, config),
		logger: context.logger,
		onFatal: (error) => reportError(new NodeOperationError(context.getNode(), error.message, { description: 'Pull delivery stopped receiving notifications; the safety-net sync still runs.' })),
		onMessage: pulledMessageHandler(engine, context.logger),
	});
	try {
		await subscriber.start();
		return subscriber;
	} catch (error) {
		// Activation fails and n8n will not call closeFunction: stop the watch we just made,
		// as closeFunction would, so retries do not leave watches (100 units each) behind.
		watcher?.release();
		if (!watchedByOthers(engine.state.emailAddress, key)) {
			forgetRecordedWatch(key);
			await port.stop().catch(() => undefined);
		}
		throw await withSetUpCheck(new NodeOperationError(context.getNode(), (error as Error).message), context, config);
	}
}

async function pubSubAuth(context: ITriggerFunctions, config: TriggerConfig): Promise<PubSubAuth> {
	if (config.authentication === 'serviceAccount') {
		const credential = await context.getCredentials(SERVICE_ACCOUNT_CREDENTIAL_TYPE);
		return { kind: 'serviceAccount', clientEmail: String(credential.email ?? '').trim(), privateKey: normalisePrivateKey(String(credential.privateKey ?? '')) };
	}
	const credential = await context.getCredentials(OAUTH2_CREDENTIAL_TYPE);
	const tokens = (credential.oauthTokenData ?? {}) as { access_token?: string; refresh_token?: string };
	return {
		kind: 'oAuth2',
		clientId: String(credential.clientId ?? ''),
		clientSecret: String(credential.clientSecret ?? ''),
		refreshToken: tokens.refresh_token,
		accessToken: tokens.access_token,
	};
}
