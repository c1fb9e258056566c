/**
 * Pull delivery's handling of one Pub/Sub message: resolving acks it, throwing nacks it
 * (transport/pubsub.ts), and Pub/Sub redelivers a nacked message at once.
 */
import type { Logger } from '../core/logger';
import { decodeNotificationText } from '../core/notification';
import type { MailboxEngine } from './mailboxEngine';

export function pulledMessageHandler(engine: MailboxEngine, logger: Logger) {
	return async (data: Buffer, meta: { id: string; publishTime: string }): Promise<void> => {
		const decoded = decodeNotificationText(data.toString('utf8'), meta);
		if (!decoded.ok) {
			// Redelivery cannot make it valid: ack (drop) it, say so.
			logger.warn(`Gmail Push Trigger: ignored a Pub/Sub message that is not a Gmail notification: ${decoded.reason}`);
			return;
		}
		// During a lasting-failure back-off a nack would come straight back, for up to an hour, and
		// holding it would only fill the flow-control window. A notification carries nothing but a
		// historyId and the cursor has not moved: ack it, and the engine syncs once the back-off ends.
		await engine.handle(decoded.notification, { oweDuringBackOff: true });
	};
}
