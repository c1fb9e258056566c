/**
 * Google's Cloud Pub/Sub emulator for tests, over its REST API. Uses the system copy
 * (/usr/lib/google-cloud-sdk/…) when present, else the one in shared/tools next to the repo
 * (`<repo>/../shared/tools/pubsub-emulator`, as on CI). Needs Java 11+.
 *
 *   const emu = await startPubSubEmulator();
 *   await emu.createTopic('projects/test-project/topics/gmail-push');
 *   await emu.createPushSubscription('projects/test-project/topics/gmail-push', 'projects/test-project/subscriptions/s', url);
 *   await emu.publish('projects/test-project/topics/gmail-push', { emailAddress, historyId });
 *   await emu.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import http from 'http';
import path from 'path';
import { freePort, sleep } from './n8n/ports';
import type { GaxiosLikeOptions, GaxiosLikeResponse, RequestingAuth } from '../../nodes/GmailPushTrigger/transport/auth';

const repoRoot = path.resolve(__dirname, '..', '..');

export const SYSTEM_EMULATOR = '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator';

/** The emulator launcher to use, or undefined when neither copy exists. */
export function findPubSubEmulator(): string | undefined {
	const candidates = [
		process.env.PUBSUB_EMULATOR_BIN,
		SYSTEM_EMULATOR,
		path.resolve(repoRoot, '..', 'shared', 'tools', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator'),
	].filter((c): c is string => Boolean(c));
	return candidates.find((c) => existsSync(c));
}

export interface ReceivedMessage {
	ackId: string;
	message: { data?: string; messageId: string; publishTime: string; attributes?: Record<string, string> };
}

export interface PubSubEmulator {
	/** host:port, for PUBSUB_EMULATOR_HOST. */
	readonly host: string;
	readonly baseUrl: string;
	readonly pid: number;
	/** What the emulator printed. */
	readonly log: string;
	createTopic(topic: string): Promise<void>;
	/** A push subscription: the emulator POSTs {message, subscription} to pushEndpoint and retries non-2xx. */
	createPushSubscription(topic: string, subscription: string, pushEndpoint: string, ackDeadlineSeconds?: number): Promise<void>;
	createPullSubscription(topic: string, subscription: string, ackDeadlineSeconds?: number): Promise<void>;
	deleteSubscription(subscription: string): Promise<void>;
	/** Publishes base64(JSON(data)) (or the string as is); returns the message id. */
	publish(topic: string, data: unknown, attributes?: Record<string, string>): Promise<string>;
	pull(subscription: string, maxMessages?: number): Promise<ReceivedMessage[]>;
	acknowledge(subscription: string, ackIds: string[]): Promise<void>;
	stop(): Promise<void>;
}

/** "projects/p/topics/t" or a short "t" with the project → "projects/p/topics/t". */
export function fullName(kind: 'topics' | 'subscriptions', name: string, project = 'test-project'): string {
	return name.startsWith('projects/') ? name : `projects/${project}/${kind}/${name}`;
}

/** One request without keep-alive (pooled sockets would keep jest alive after the tests). */
export function plainRequest(url: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method, agent: false, headers: { ...headers, ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }) }, timeout: 30_000 }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
			res.on('error', reject);
		});
		req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
		req.on('error', reject);
		req.end(body);
	});
}

async function call(baseUrl: string, method: string, route: string, body?: unknown, allow: number[] = []): Promise<unknown> {
	const reply = await plainRequest(`${baseUrl}/v1/${route}`, method, body === undefined ? undefined : JSON.stringify(body), { 'content-type': 'application/json' });
	const ok = reply.status >= 200 && reply.status < 300;
	if (!ok && !allow.includes(reply.status)) throw new Error(`Pub/Sub emulator ${method} ${route}: ${reply.status} ${reply.text.slice(0, 500)}`);
	return reply.text ? (JSON.parse(reply.text) as unknown) : {};
}

/** Children of a PID (from /proc), so the java process is stopped by its own PID. */
function childPids(pid: number): number[] {
	const out: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			if (ppid === pid) out.push(Number(entry));
		} catch {
			// gone
		}
	}
	return out;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
	for (const child of running) {
		for (const pid of [...(child.pid ? childPids(child.pid) : []), child.pid]) {
			try {
				if (pid) process.kill(pid, 'SIGKILL');
			} catch {
				// gone
			}
		}
	}
});

/**
 * A credential's `request` over plain HTTP, as our transports call it (for the emulator and the
 * fake IAM on loopback); Google's errors come back as gaxios throws them.
 */
export const plainAuth: RequestingAuth = {
	async request(options: GaxiosLikeOptions): Promise<GaxiosLikeResponse> {
		const body = options.data === undefined ? undefined : JSON.stringify(options.data);
		const reply = await plainRequest(String(options.url), options.method ?? 'GET', body, { 'content-type': 'application/json' });
		const data = reply.text ? (JSON.parse(reply.text) as unknown) : undefined;
		if (reply.status >= 400) throw Object.assign(new Error(`HTTP ${reply.status}`), { response: { status: reply.status, data } });
		return { data, status: reply.status, statusText: '', headers: {}, config: options, request: { responseURL: String(options.url) } };
	},
};

export async function startPubSubEmulator(options: { port?: number; bin?: string; startTimeoutMs?: number } = {}): Promise<PubSubEmulator> {
	const bin = options.bin ?? findPubSubEmulator();
	if (!bin) throw new Error('Pub/Sub emulator not found (install google-cloud-cli-pubsub-emulator or provide ../shared/tools/pubsub-emulator)');
	try {
		execFileSync('java', ['-version'], { stdio: 'ignore' });
	} catch {
		throw new Error('Java 11+ is needed by the Pub/Sub emulator and was not found on PATH (apt-get install default-jre-headless)');
	}
	const port = options.port ?? (await freePort());
	const host = `127.0.0.1:${port}`;
	const baseUrl = `http://${host}`;
	let log = '';
	// The launcher script execs java, so child.pid is normally the JVM itself.
	const child = spawn(bin, [`--host=127.0.0.1`, `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
	running.add(child);
	child.stdout?.on('data', (c: Buffer) => (log += c.toString()));
	child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	child.once('exit', () => running.delete(child));

	const stop = async (): Promise<void> => {
		const pid = child.pid;
		if (!pid || child.exitCode !== null || child.signalCode !== null) return;
		const pids = [...childPids(pid), pid];
		for (const p of pids) {
			try {
				process.kill(p, 'SIGTERM');
			} catch {
				// gone
			}
		}
		const deadline = Date.now() + 10_000;
		while (pids.some(alive) && Date.now() < deadline) await sleep(100);
		for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
		await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
	};

	const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
	for (;;) {
		if (child.exitCode !== null) throw new Error(`Pub/Sub emulator exited with ${child.exitCode}:\n${log}`);
		try {
			if ((await plainRequest(`${baseUrl}/`, 'GET')).status === 200) break;
		} catch {
			// not up yet
		}
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`Pub/Sub emulator did not come up on ${host}:\n${log}`);
		}
		await sleep(200);
	}

	return {
		host,
		baseUrl,
		pid: child.pid as number,
		get log() {
			return log;
		},
		async createTopic(topic) {
			await call(baseUrl, 'PUT', fullName('topics', topic), {});
		},
		async createPushSubscription(topic, subscription, pushEndpoint, ackDeadlineSeconds = 10) {
			await call(baseUrl, 'PUT', fullName('subscriptions', subscription), {
				topic: fullName('topics', topic),
				pushConfig: { pushEndpoint },
				ackDeadlineSeconds,
			});
		},
		async createPullSubscription(topic, subscription, ackDeadlineSeconds = 10) {
			await call(baseUrl, 'PUT', fullName('subscriptions', subscription), { topic: fullName('topics', topic), ackDeadlineSeconds });
		},
		async deleteSubscription(subscription) {
			await call(baseUrl, 'DELETE', fullName('subscriptions', subscription), undefined, [404]);
		},
		async publish(topic, data, attributes) {
			const payload = typeof data === 'string' ? data : JSON.stringify(data);
			const reply = (await call(baseUrl, 'POST', `${fullName('topics', topic)}:publish`, {
				messages: [{ data: Buffer.from(payload, 'utf8').toString('base64'), ...(attributes && { attributes }) }],
			})) as { messageIds: string[] };
			return reply.messageIds[0];
		},
		async pull(subscription, maxMessages = 10) {
			const reply = (await call(baseUrl, 'POST', `${fullName('subscriptions', subscription)}:pull`, {
				maxMessages,
				returnImmediately: true,
			})) as { receivedMessages?: ReceivedMessage[] };
			return reply.receivedMessages ?? [];
		},
		async acknowledge(subscription, ackIds) {
			await call(baseUrl, 'POST', `${fullName('subscriptions', subscription)}:acknowledge`, { ackIds });
		},
		stop,
	};
}
