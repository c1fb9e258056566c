/**
 * A real `n8n start` from the cached install, with its output in a buffer and a log file.
 * The child runs in its own process group (n8n 2.x starts a task-runner child); stop() sends
 * SIGTERM to n8n, then SIGKILL to that group after a timeout.
 */
import { spawn, type ChildProcess } from 'child_process';
import { createWriteStream, mkdtempSync, type WriteStream } from 'fs';
import os from 'os';
import path from 'path';
import { cacheDir, n8nBin, nodeFor, pathFor, type N8nMajor } from './paths';
import { freePort, sleep } from './ports';

export interface StartN8nOptions {
	major: N8nMajor;
	/** N8N_USER_FOLDER: n8n keeps `.n8n/` (sqlite DB, nodes/, config) inside it. */
	userFolder: string;
	/** Extra env (NODE_OPTIONS with the Google preload, NODE_EXTRA_CA_CERTS, …); wins over ours. */
	env?: Record<string, string | undefined>;
	/** N8N_PORT; a free loopback port when omitted. */
	port?: number;
	/** How long to wait for "Editor is now accessible". Default 120 s. */
	startTimeoutMs?: number;
	/** Folder for the log file; a temp dir when omitted. */
	logDir?: string;
	/** Which n8n process (queue mode): `start` (a main, the default), `worker` or `webhook`. */
	command?: N8nCommand;
	/** Extra arguments, e.g. `--concurrency=5` for a worker. */
	args?: string[];
}

export type N8nCommand = 'start' | 'worker' | 'webhook';

/** What each kind of n8n process logs once it is ready. */
const READY_BY_COMMAND: Record<N8nCommand, RegExp> = {
	start: /Editor is now accessible via/,
	worker: /n8n worker is now ready/,
	webhook: /Webhook listener waiting for requests/,
};

const live = new Set<N8nProcess>();

process.on('exit', () => {
	for (const p of live) p.killGroupSync();
});

export class N8nProcess {
	readonly major: N8nMajor;
	readonly userFolder: string;
	readonly port: number;
	readonly brokerPort: number;
	readonly baseUrl: string;
	readonly logFile: string;
	private output = '';
	private child?: ChildProcess;
	private logStream?: WriteStream;
	private exited?: Promise<number | null>;
	private starts = 0;

	constructor(private readonly options: StartN8nOptions & { port: number; brokerPort: number }) {
		this.major = options.major;
		this.userFolder = options.userFolder;
		this.port = options.port;
		this.brokerPort = options.brokerPort;
		this.baseUrl = `http://127.0.0.1:${this.port}`;
		const logDir = options.logDir ?? mkdtempSync(path.join(os.tmpdir(), `n8n${options.major}-log-`));
		this.logFile = path.join(logDir, 'n8n.log');
	}

	/** Everything n8n printed so far (all starts). */
	get log(): string {
		return this.output;
	}

	/** Offset into `log`: pass it to waitForLog to ignore what came before. */
	logOffset(): number {
		return this.output.length;
	}

	get pid(): number | undefined {
		return this.child?.pid;
	}

	get running(): boolean {
		return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
	}

	/** The production URL of a webhook path (`<webhookId>/<path>`). */
	webhookUrl(webhookPath: string): string {
		return `${this.baseUrl}/webhook/${webhookPath.replace(/^\/+/, '')}`;
	}

	env(): NodeJS.ProcessEnv {
		const { major, userFolder } = this;
		const ours: Record<string, string> = {
			N8N_USER_FOLDER: userFolder,
			N8N_PORT: String(this.port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PROTOCOL: 'http',
			WEBHOOK_URL: `${this.baseUrl}/`,
			N8N_EDITOR_BASE_URL: `${this.baseUrl}/`,
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_SECURE_COOKIE: 'false',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
			N8N_LOG_LEVEL: 'debug',
			N8N_LOG_OUTPUT: 'console',
			N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
			DB_TYPE: 'sqlite',
			DB_SQLITE_POOL_SIZE: '2',
			EXECUTIONS_MODE: 'regular',
			GENERIC_TIMEZONE: 'UTC',
			PATH: pathFor(major),
		};
		if (major === 1) {
			ours.N8N_EXPRESSION_ENGINE = 'legacy'; // the default engine needs isolated-vm (stubbed here)
			ours.N8N_RUNNERS_ENABLED = 'false';
		} else {
			ours.N8N_DISABLED_MODULES = 'mcp-registry';
			// Node 24 keeps n8n's compiled modules between starts: each start costs less CPU (the suites start many).
			ours.NODE_COMPILE_CACHE = path.join(cacheDir(), 'node-compile-cache');
		}
		const env: NodeJS.ProcessEnv = { ...process.env, ...ours };
		// Jest's own env must not leak into n8n (NODE_ENV=test changes n8n's behaviour).
		delete env.NODE_ENV;
		delete env.JEST_WORKER_ID;
		for (const [key, value] of Object.entries(this.options.env ?? {})) {
			if (value === undefined) delete env[key];
			else env[key] = value;
		}
		return env;
	}

	get command(): N8nCommand {
		return this.options.command ?? 'start';
	}

	/** Spawns `n8n start` (or worker / webhook) and waits until it says it is ready. */
	async start(): Promise<void> {
		if (this.running) throw new Error('n8n is already running');
		this.starts += 1;
		const marker = `\n===== n8n ${this.major}.x ${this.command} #${this.starts} (port ${this.port}) =====\n`;
		const from = this.output.length;
		this.append(marker);
		const child = spawn(nodeFor(this.major), [n8nBin(this.major), this.command, ...(this.options.args ?? [])], {
			cwd: this.userFolder,
			env: this.env(),
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		this.child = child;
		live.add(this);
		child.stdout?.on('data', (chunk: Buffer) => this.append(chunk.toString('utf8')));
		child.stderr?.on('data', (chunk: Buffer) => this.append(chunk.toString('utf8')));
		this.exited = new Promise((resolve) => {
			child.once('exit', (code, signal) => {
				this.append(`\n===== n8n exited (code ${code}, signal ${signal}) =====\n`);
				live.delete(this);
				resolve(code);
			});
			child.once('error', (error) => {
				this.append(`\n===== n8n could not start: ${error.message} =====\n`);
				live.delete(this);
				resolve(null);
			});
		});
		await this.waitForLog(READY_BY_COMMAND[this.command], this.options.startTimeoutMs ?? 120_000, from);
	}

	private append(raw: string): void {
		// n8n colours its console log: keep the buffer and the file plain for regexes and humans.
		// eslint-disable-next-line no-control-regex
		const text = raw.replace(/\u001b\[[0-9;]*m/g, '');
		this.output += text;
		if (!this.logStream) this.logStream = createWriteStream(this.logFile, { flags: 'a' });
		this.logStream.write(text);
	}

	/** Resolves with the match once `re` appears in the log after `from`; rejects if n8n exits. */
	async waitForLog(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const match = this.output.slice(from).match(re);
			if (match) return match;
			if (!this.running) {
				throw new Error(`n8n is not running while waiting for ${re} (log: ${this.logFile})\n${this.tail()}`);
			}
			if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${re} in n8n's log (${this.logFile})\n${this.tail()}`);
			await sleep(100);
		}
	}

	/** Lines of the log after `from` that match `re`. */
	grep(re: RegExp, from = 0): string[] {
		return this.output
			.slice(from)
			.split('\n')
			.filter((line) => re.test(line));
	}

	tail(lines = 60): string {
		return this.output.split('\n').slice(-lines).join('\n');
	}

	/** SIGTERM (n8n shuts down gracefully), then SIGKILL to its process group after timeoutMs. */
	async stop(timeoutMs = 20_000): Promise<void> {
		const child = this.child;
		if (!child || !this.exited) return;
		if (this.running) {
			child.kill('SIGTERM');
			const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
			if ((await Promise.race([this.exited, timer])) === 'timeout') {
				this.append(`\n===== n8n did not stop within ${timeoutMs} ms: SIGKILL =====\n`);
				this.killGroupSync();
				await this.exited;
			}
		} else {
			await this.exited;
		}
		// Leftovers of the group (n8n 2.x task runner) must not outlive the test.
		this.killGroupSync();
		await new Promise<void>((resolve) => (this.logStream ? this.logStream.end(resolve) : resolve()));
		this.logStream = undefined;
	}

	/** SIGKILL to the process group we started (n8n and its task runner). */
	killGroupSync(): void {
		const pid = this.child?.pid;
		if (!pid) return;
		try {
			process.kill(-pid, 'SIGKILL');
		} catch {
			// the group is gone
		}
	}

	async restart(): Promise<void> {
		await this.stop();
		await this.start();
	}
}

/** Spawns n8n and waits until its editor is up. */
export async function startN8n(options: StartN8nOptions): Promise<N8nProcess> {
	const port = options.port ?? (await freePort());
	let brokerPort = await freePort();
	while (brokerPort === port) brokerPort = await freePort();
	const n8n = new N8nProcess({ ...options, port, brokerPort });
	await n8n.start();
	return n8n;
}
