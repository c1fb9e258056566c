/**
 * The chaos suite's Pub/Sub: a push subscription played by the test, at least once and out of
 * order, like the real one (and a little worse):
 * - publish(): a notification is dropped with probability `dropRate`, otherwise queued, and
 *   queued a second time (same Pub/Sub messageId) with probability `duplicateRate`;
 * - each queued message may swap places with one of the last `reorderWindow` queued ones;
 * - `concurrency` workers POST the ready messages, oldest queue position first;
 * - an answer other than 2xx, a connection error or a timeout re-queues the message with
 *   exponential backoff (with jitter), as Pub/Sub redelivers an unacknowledged push.
 *
 * All random choices come from seeded PRNGs. The choices made in publish() only depend on the
 * order of publish() calls, so a seed replays the same drops, duplicates and swaps; backoff
 * jitter has its own stream (its draws follow the timing of the answers).
 */
import http from 'http';
import { seededRandom, type Random } from '../../support/fakeGoogle/random';

export interface PushSimulatorOptions {
	/** The push endpoint (n8n's Production URL). */
	url: () => string;
	/** The Pub/Sub subscription name put in each envelope. */
	subscription: string;
	seed: number;
	dropRate: number;
	duplicateRate: number;
	/** How far back (in queued messages) a newly queued message may swap to. */
	reorderWindow: number;
	/** Probability that a newly queued message swaps with a random one of the window. */
	reorderRate: number;
	/** POSTs in flight at most. */
	concurrency: number;
	/** Redelivery backoff: min(maxBackoffMs, minBackoffMs * 2^(attempt-1)) * (0.5..1). */
	minBackoffMs: number;
	maxBackoffMs: number;
	/** A POST not answered within this counts as failed (Pub/Sub's ack deadline). */
	ackDeadlineMs: number;
}

interface Queued {
	/** Pub/Sub messageId: a duplicate keeps the id of its original. */
	messageId: string;
	data: string;
	attempts: number;
	notBefore: number;
}

export interface PushStats {
	/** Notifications handed to publish(). */
	published: number;
	dropped: number;
	duplicated: number;
	swapped: number;
	/** POSTs made (first deliveries, duplicates and redeliveries). */
	posts: number;
	/** Messages re-queued after a non-2xx answer or an error. */
	redelivered: number;
	acknowledged: number;
	/** Answers by status ('ECONNREFUSED', 'timeout', … for errors). */
	answers: Record<string, number>;
	/** Most attempts any one message needed. */
	maxAttempts: number;
}

export class PushSimulator {
	readonly stats: PushStats = { published: 0, dropped: 0, duplicated: 0, swapped: 0, posts: 0, redelivered: 0, acknowledged: 0, answers: {}, maxAttempts: 0 };
	private readonly queue: Queued[] = [];
	private readonly choices: Random;
	private readonly jitter: Random;
	private inFlight = 0;
	private nextId = 1;
	private running = false;
	private workers: Array<Promise<void>> = [];

	constructor(private readonly options: PushSimulatorOptions) {
		this.choices = seededRandom(options.seed);
		this.jitter = seededRandom(options.seed ^ 0x5bd1e995);
	}

	/** Messages queued or in flight. */
	get pending(): number {
		return this.queue.length + this.inFlight;
	}

	start(): void {
		if (this.running) return;
		this.running = true;
		this.workers = Array.from({ length: this.options.concurrency }, () => this.work());
	}

	async stop(): Promise<void> {
		this.running = false;
		await Promise.all(this.workers);
	}

	/**
	 * Gmail publishes `data` (the notification JSON). `reliable` skips the drop (the final
	 * notification of the test, standing for Gmail's next one).
	 */
	publish(data: string, options: { reliable?: boolean } = {}): void {
		this.stats.published++;
		const dropRoll = this.choices();
		const duplicateRoll = this.choices();
		if (!options.reliable && dropRoll < this.options.dropRate) {
			this.stats.dropped++;
			return;
		}
		const messageId = String(this.nextId++);
		this.enqueue({ messageId, data, attempts: 0, notBefore: 0 });
		if (duplicateRoll < this.options.duplicateRate) {
			this.stats.duplicated++;
			this.enqueue({ messageId, data, attempts: 0, notBefore: 0 });
		}
	}

	/** Resolves once nothing is queued or in flight for `quietMs` in a row. */
	async drained(timeoutMs: number, quietMs = 500): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		let quietSince: number | undefined;
		for (;;) {
			if (this.pending === 0) {
				quietSince ??= Date.now();
				if (Date.now() - quietSince >= quietMs) return;
			} else {
				quietSince = undefined;
			}
			if (Date.now() > deadline) {
				throw new Error(`Pub/Sub simulator: ${this.pending} push(es) still pending after ${timeoutMs} ms (answers so far: ${JSON.stringify(this.stats.answers)})`);
			}
			await sleep(50);
		}
	}

	private enqueue(message: Queued): void {
		this.queue.push(message);
		const roll = this.choices();
		const offsetRoll = this.choices();
		const window = Math.min(this.options.reorderWindow, this.queue.length - 1);
		if (window > 0 && roll < this.options.reorderRate) {
			const last = this.queue.length - 1;
			const other = last - 1 - Math.floor(offsetRoll * window);
			[this.queue[last], this.queue[other]] = [this.queue[other], this.queue[last]];
			this.stats.swapped++;
		}
	}

	private takeReady(): Queued | undefined {
		const now = Date.now();
		const index = this.queue.findIndex((m) => m.notBefore <= now);
		if (index < 0) return undefined;
		return this.queue.splice(index, 1)[0];
	}

	private async work(): Promise<void> {
		while (this.running) {
			const message = this.takeReady();
			if (!message) {
				await sleep(10);
				continue;
			}
			this.inFlight++;
			try {
				message.attempts++;
				this.stats.maxAttempts = Math.max(this.stats.maxAttempts, message.attempts);
				this.stats.posts++;
				const answer = await this.post(message);
				this.stats.answers[answer] = (this.stats.answers[answer] ?? 0) + 1;
				if (/^2\d\d$/.test(answer)) {
					this.stats.acknowledged++;
				} else {
					this.stats.redelivered++;
					const backoff = Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** (message.attempts - 1));
					message.notBefore = Date.now() + backoff * (0.5 + this.jitter() / 2);
					this.queue.push(message);
				}
			} finally {
				this.inFlight--;
			}
		}
	}

	/** One push; resolves with the status code, or the error code on a failure. */
	private post(message: Queued): Promise<string> {
		const now = new Date().toISOString();
		const body = JSON.stringify({
			message: {
				data: Buffer.from(message.data).toString('base64'),
				messageId: message.messageId,
				message_id: message.messageId,
				publishTime: now,
				publish_time: now,
				attributes: {},
			},
			subscription: this.options.subscription,
			deliveryAttempt: message.attempts,
		});
		return new Promise((resolve) => {
			let settled = false;
			const done = (answer: string) => {
				if (!settled) {
					settled = true;
					resolve(answer);
				}
			};
			// No keep-alive: a new connection per push, so an n8n restart leaves no stale socket.
			const req = http.request(this.options.url(), {
				method: 'POST',
				agent: false,
				timeout: this.options.ackDeadlineMs,
				headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)' },
			});
			req.on('response', (res) => {
				res.resume();
				res.on('end', () => done(String(res.statusCode ?? 0)));
				res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'response-error'));
			});
			req.on('timeout', () => {
				req.destroy();
				done('timeout');
			});
			req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
			req.end(body);
		});
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
