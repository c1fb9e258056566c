/**
 * Pull delivery: a StreamingPull subscriber open while the workflow is active. A message is acked
 * only once its emails are emitted and the cursor stored, nacked on failure; flow control bounds
 * memory, and a broken stream is reopened with backoff.
 */
import { PubSub, type ClientConfig, type Message, type Subscription } from '@google-cloud/pubsub';
import { OAuth2Client } from 'google-auth-library';
import type { Logger } from '../core/logger';

export type PubSubAuth =
	| { kind: 'serviceAccount'; clientEmail: string; privateKey: string }
	| { kind: 'oAuth2'; clientId: string; clientSecret: string; refreshToken?: string; accessToken?: string };


export interface SubscriberOptions {
	subscriptionName: string;
	auth: PubSubAuth;
	/** Settles when the notification is handled: resolve → ack, reject → nack. */
	onMessage: (data: Buffer, meta: { id: string; publishTime: string }) => Promise<void>;
	logger: Logger;
	/** Notifications held at once; Gmail sends at most one per second per mailbox. */
	maxMessages?: number;
	/**
	 * A fatal stream error after start-up (subscription deleted, permission or credential
	 * revoked), once per episode, with what to fix. The subscriber keeps reconnecting at the
	 * back-off cap meanwhile, so a fix heals it.
	 */
	onFatal?: (error: Error & { code?: number }) => void;
}

/** gRPC status codes that no reconnect will fix. */
const FATAL_CODES: Record<number, string> = {
	3: 'INVALID_ARGUMENT',
	5: 'NOT_FOUND',
	7: 'PERMISSION_DENIED',
	16: 'UNAUTHENTICATED',
};

export function pubSubHint(error: { code?: number; message?: string }, subscriptionName: string): string {
	switch (error.code) {
		case 5:
			return `The subscription ${subscriptionName} does not exist: create it with gcloud pubsub subscriptions create ${subscriptionName.split('/').pop()} --topic=<topic> --project=${subscriptionName.split('/')[1]}`;
		case 7:
			return `The credential may not pull from ${subscriptionName}: grant it the Pub/Sub Subscriber role on the subscription (gcloud pubsub subscriptions add-iam-policy-binding ... --role=roles/pubsub.subscriber)`;
		case 16:
			return 'Google rejected the credential for Pub/Sub: reconnect it (OAuth2 needs the Pub/Sub scope) or check the service account key';
		default:
			return error.message ?? 'unknown Pub/Sub error';
	}
}

function clientConfig(projectId: string, auth: PubSubAuth): ClientConfig {
	if (auth.kind === 'serviceAccount') {
		return { projectId, credentials: { client_email: auth.clientEmail, private_key: auth.privateKey } };
	}
	// n8n stores the OAuth tokens; this client only refreshes its own access token from the
	// same refresh token (Google's refresh tokens do not rotate, so n8n's copy stays valid).
	const client = new OAuth2Client({ clientId: auth.clientId, clientSecret: auth.clientSecret });
	client.setCredentials({ refresh_token: auth.refreshToken, access_token: auth.accessToken });
	return { projectId, authClient: client as unknown as ClientConfig['authClient'] };
}

export class PubSubSubscriber {
	private pubsub?: PubSub;
	private subscription?: Subscription;
	private closed = false;
	private failures = 0;
	private reopenTimer?: NodeJS.Timeout;
	/** While start() waits: takes an early fatal error, which then fails activation. */
	private startWaiter?: (error: { code?: number; message?: string }) => void;
	private fatalReported = false;

	constructor(private readonly options: SubscriberOptions) {}

	/**
	 * Opens the stream and waits `settleMs` for an early error: a wrong name or a missing
	 * permission then fails activation with a message that says what to fix.
	 */
	async start(settleMs = 3000): Promise<void> {
		const early = await new Promise<{ code?: number; message?: string } | undefined>((resolve) => {
			const timer = setTimeout(() => resolve(undefined), settleMs);
			this.startWaiter = (error) => {
				clearTimeout(timer);
				resolve(error);
			};
			this.open();
		});
		this.startWaiter = undefined;
		if (early) {
			await this.close();
			throw Object.assign(new Error(pubSubHint(early, this.options.subscriptionName)), { code: early.code });
		}
	}

	private open(): void {
		const { subscriptionName } = this.options;
		const projectId = subscriptionName.split('/')[1];
		this.pubsub = new PubSub(clientConfig(projectId, this.options.auth));
		const subscription = this.pubsub.subscription(subscriptionName, {
			flowControl: { maxMessages: this.options.maxMessages ?? 10, allowExcessMessages: false },
		});
		this.subscription = subscription;
		subscription.on('message', (message: Message) => void this.handle(message));
		subscription.on('error', (error: { code?: number; message?: string }) => {
			const fatal = error.code !== undefined && FATAL_CODES[error.code] !== undefined;
			if (fatal && this.startWaiter) {
				this.startWaiter(error);
				return;
			}
			if (fatal && !this.fatalReported) {
				this.fatalReported = true;
				this.options.onFatal?.(Object.assign(new Error(pubSubHint(error, this.options.subscriptionName)), { code: error.code }));
			}
			void this.reopen(error);
		});
	}

	private async handle(message: Message): Promise<void> {
		try {
			await this.options.onMessage(message.data, { id: message.id, publishTime: message.publishTime.toISOString() });
			message.ack();
			this.failures = 0;
			this.fatalReported = false;
		} catch {
			message.nack();
		}
	}

	/** Backoff 1 s, 2 s, 4 s ... 60 s; a fatal code keeps retrying at the cap and says why. */
	private async reopen(error: { code?: number; message?: string }): Promise<void> {
		if (this.closed) return;
		const delay = Math.min(60_000, 1000 * 2 ** Math.min(this.failures, 6));
		this.failures++;
		const hint = error.code !== undefined && FATAL_CODES[error.code] ? ` (${pubSubHint(error, this.options.subscriptionName)})` : '';
		this.options.logger.warn(
			`Gmail Push Trigger: Pub/Sub stream for ${this.options.subscriptionName} broke: ${error.message ?? error.code}${hint}; reconnecting in ${Math.round(delay / 1000)} s`,
		);
		await this.closeStream();
		this.reopenTimer = setTimeout(() => {
			if (this.closed) return;
			this.open();
			this.options.logger.info(`Gmail Push Trigger: Pub/Sub stream for ${this.options.subscriptionName} reopened`);
		}, delay);
		this.reopenTimer.unref?.();
	}

	private async closeStream(): Promise<void> {
		const subscription = this.subscription;
		const pubsub = this.pubsub;
		this.subscription = undefined;
		this.pubsub = undefined;
		try {
			subscription?.removeAllListeners('message');
			await subscription?.close();
			await pubsub?.close();
		} catch {
			// Closing a broken stream can fail too; it is gone either way.
		}
	}

	async close(): Promise<void> {
		this.closed = true;
		if (this.reopenTimer) clearTimeout(this.reopenTimer);
		await this.closeStream();
	}
}
