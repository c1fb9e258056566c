/**
 * The Pub/Sub administration the Google Cloud set-up, its check and the removal call, in
 * Pub/Sub's REST v1 shapes. No imports: the pure decisions in googleCloud/ read these types
 * without loading a client (transport/pubsubAdmin.ts implements the port).
 */

export interface IamBinding {
	role: string;
	members?: string[];
	/** A conditional binding grants only when its condition holds: it never counts as the grant. */
	condition?: unknown;
}

export interface IamPolicy {
	version?: number;
	etag?: string;
	bindings?: IamBinding[];
	[field: string]: unknown;
}

/** The fields of a Pub/Sub subscription we read. */
export interface PubSubSubscription {
	name?: string;
	topic?: string;
	pushConfig?: { pushEndpoint?: string; oidcToken?: { serviceAccountEmail?: string; audience?: string } };
	ackDeadlineSeconds?: number;
	/** Absent or without ttl: never expires. */
	expirationPolicy?: { ttl?: string };
	labels?: Record<string, string>;
	[field: string]: unknown;
}

/** A Pub/Sub admin failure with Google's HTTP status and message, and the call refused ('subscriptions.create', …). */
export class PubSubAdminError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly reason?: string,
		readonly call?: string,
	) {
		super(message);
		this.name = 'PubSubAdminError';
	}
}

export interface PubSubAdminPort {
	/** undefined when the topic does not exist. */
	getTopic(topic: string): Promise<{ name: string } | undefined>;
	/** Throws PubSubAdminError 409 when it exists already. */
	createTopic(topic: string): Promise<void>;
	getTopicIamPolicy(topic: string): Promise<IamPolicy>;
	/** Throws PubSubAdminError 409 or 412 when the etag no longer matches. */
	setTopicIamPolicy(topic: string, policy: IamPolicy): Promise<IamPolicy>;
	getSubscription(subscription: string): Promise<PubSubSubscription | undefined>;
	/** Throws PubSubAdminError 409 when it exists already. */
	createSubscription(subscription: string, body: PubSubSubscription): Promise<void>;
	/** false when it did not exist (any more). */
	deleteSubscription(subscription: string): Promise<boolean>;
}
