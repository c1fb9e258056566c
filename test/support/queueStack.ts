/**
 * n8n's queue mode, for real: PostgreSQL and Redis from Debian's packages, one main process
 * (triggers, the API), two workers (executions) and one webhook process, each n8n with its own
 * user folder and the package installed as the Community Nodes screen does, all sharing one
 * encryption key, one database and one Bull queue. Google is the tests' fake (preload + CA).
 */
import { mkdtempSync, promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import type { FakeGoogle, FakeGoogleOptions } from './fakeGoogle';
import { N8nApi, packAndInstall, startN8n, type CredentialRef, type N8nMajor, type N8nProcess } from './n8n';
import { startPostgres, startRedis, type Postgres, type Service } from './services';
import { createServiceAccountCredential, startServiceAccountFake } from './stack';

export interface QueueStack {
	major: N8nMajor;
	fake: FakeGoogle;
	postgres: Postgres;
	redis: Service;
	database: string;
	main: N8nProcess;
	workers: N8nProcess[];
	webhook: N8nProcess;
	api: N8nApi;
	credential: CredentialRef;
	all(): N8nProcess[];
	/** SQL on n8n's database (psql -At output), e.g. executions the public API hides while they run. */
	sql(query: string): string;
	/** The tails of every process's log, for a failed step. */
	logTails(lines?: number): string;
	step<T>(fn: () => Promise<T>): Promise<T>;
	close(): Promise<void>;
}

export interface QueueStackOptions {
	/** Extra env for every n8n process (e.g. PUBSUB_EMULATOR_HOST). */
	env?: Record<string, string>;
	/** Extra env for the main process only. */
	mainEnv?: Record<string, string>;
	fake?: Partial<FakeGoogleOptions>;
	workers?: number;
	/** `n8n worker --concurrency` (default 10). */
	concurrency?: number;
}

async function userFolder(major: N8nMajor, role: string): Promise<string> {
	const dir = mkdtempSync(path.join(os.tmpdir(), `n8n${major}-${role}-`));
	await packAndInstall(dir);
	return dir;
}

export async function startQueueStack(major: N8nMajor, options: QueueStackOptions = {}): Promise<QueueStack> {
	const started: Array<{ stop(): Promise<void> }> = [];
	const folders: string[] = [];
	const processes: N8nProcess[] = [];
	const stopAll = async () => {
		await Promise.allSettled(processes.map(async (p) => await p.stop(40_000)));
		for (const s of started.reverse()) await s.stop().catch(() => undefined);
		if (process.env.KEEP_N8N !== '1') for (const f of folders) await fs.rm(f, { recursive: true, force: true });
	};
	try {
		const { fake, privateKey } = await startServiceAccountFake(options.fake);
		started.push({ stop: async () => await fake.close() });
		const postgres = await startPostgres();
		started.push(postgres);
		const redis = await startRedis();
		started.push(redis);
		const database = `n8n_v${major}`;
		await postgres.createDatabase(database);
		const shared: Record<string, string> = {
			...fake.childEnv(),
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(postgres.port),
			DB_POSTGRESDB_DATABASE: database,
			DB_POSTGRESDB_USER: 'postgres',
			DB_POSTGRESDB_PASSWORD: '',
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			N8N_ENCRYPTION_KEY: 'queue-mode-e2e-encryption-key-0123456789',
			N8N_LOG_LEVEL: 'debug',
			...options.env,
		};
		const folder = async (role: string) => {
			const dir = await userFolder(major, role);
			folders.push(dir);
			return dir;
		};
		// The main first: it runs the database migrations the others expect.
		const main = await startN8n({ major, userFolder: await folder('main'), env: { ...shared, ...options.mainEnv }, startTimeoutMs: 240_000 });
		processes.push(main);
		const api = new N8nApi(main);
		await api.setup();
		const credential = await createServiceAccountCredential(api, privateKey);
		const workers = await Promise.all(
			Array.from({ length: options.workers ?? 2 }, async (_, i) => {
				const worker = await startN8n({ major, userFolder: await folder(`worker${i + 1}`), env: shared, command: 'worker', args: [`--concurrency=${options.concurrency ?? 10}`], startTimeoutMs: 180_000 });
				processes.push(worker);
				return worker;
			}),
		);
		const webhook = await startN8n({ major, userFolder: await folder('webhook'), env: shared, command: 'webhook', startTimeoutMs: 180_000 });
		processes.push(webhook);
		const stack: QueueStack = {
			major,
			fake,
			postgres,
			redis,
			database,
			main,
			workers,
			webhook,
			api,
			credential,
			all: () => [main, ...workers, webhook],
			sql: (query) => postgres.query(database, query),
			logTails: (lines = 40) => stack.all().map((p) => `--- n8n ${major}.x ${p.command} (${p.logFile}) ---\n${p.tail(lines)}`).join('\n'),
			async step(fn) {
				try {
					return await fn();
				} catch (error) {
					(error as Error).message += `\n${stack.logTails()}`;
					throw error;
				}
			},
			close: stopAll,
		};
		return stack;
	} catch (error) {
		const tails = processes.map((p) => `--- ${p.command} (${p.logFile}) ---\n${p.tail(60)}`).join('\n');
		await stopAll();
		throw new Error(`${(error as Error).message}\n${tails}`);
	}
}
