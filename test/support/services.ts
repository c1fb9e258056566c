/**
 * Real PostgreSQL and Redis servers for the queue-mode tests, from Debian's packages (.ci/run
 * installs them), each started on a free loopback port in a fresh temp folder and stopped by
 * the test. A missing server fails naming the package, never skips.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { freePort, sleep, waitFor } from './n8n';

export interface Service {
	port: number;
	log(): string;
	stop(): Promise<void>;
}

class Daemon {
	private output = '';
	private exited: Promise<void>;
	constructor(private readonly child: ChildProcess, readonly name: string) {
		child.stdout?.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
		child.stderr?.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
		this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
		process.once('exit', () => this.killSync());
	}
	get log(): string {
		return this.output;
	}
	get running(): boolean {
		return this.child.exitCode === null && this.child.signalCode === null;
	}
	killSync(): void {
		try {
			if (this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
		} catch {
			// gone
		}
	}
	async stop(): Promise<void> {
		if (this.running) this.child.kill('SIGTERM');
		const timeout = sleep(10_000).then(() => 'timeout');
		if ((await Promise.race([this.exited.then(() => 'done'), timeout])) === 'timeout') this.killSync();
		await this.exited;
	}
}

/** /usr/lib/postgresql/<newest>/bin, where Debian's postgresql package puts the server. */
export function postgresBinDir(): string {
	const root = '/usr/lib/postgresql';
	const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'postgres'))) : [];
	if (versions.length === 0) throw new Error('PostgreSQL server not found under /usr/lib/postgresql: install Debian\'s postgresql package (apt-get install postgresql; .ci/run does)');
	return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

/** Runs as the `postgres` user when we are root (initdb and postgres refuse root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
	return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

export interface Postgres extends Service {
	/** Creates a database (owner: the superuser `postgres`, trust auth on loopback). */
	createDatabase(name: string): Promise<void>;
	/** Runs SQL in a database and returns psql's unaligned, tuples-only output. */
	query(database: string, sql: string): string;
}

export async function startPostgres(): Promise<Postgres> {
	const bin = postgresBinDir();
	const dir = mkdtempSync(path.join(os.tmpdir(), 'pg-'));
	if (process.getuid?.() === 0) {
		const { uid, gid } = userIds('postgres');
		chownSync(dir, uid, gid);
	}
	const data = path.join(dir, 'data');
	const [initCmd, initArgs] = asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
	execFileSync(initCmd, initArgs, { stdio: 'pipe' });
	const port = await freePort();
	const [cmd, args] = asPostgres(path.join(bin, 'postgres'), [
		'-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
		'-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
	]);
	const daemon = new Daemon(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }), 'postgres');
	const psql = (database: string, sql: string): string =>
		execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	try {
		await waitFor('PostgreSQL to accept connections', () => daemon.running && psql('postgres', 'SELECT 1').trim() === '1', 30_000, 200);
	} catch (error) {
		await daemon.stop();
		throw new Error(`${(error as Error).message}\n${daemon.log}`);
	}
	return {
		port,
		log: () => daemon.log,
		async createDatabase(name) {
			psql('postgres', `CREATE DATABASE "${name}"`);
		},
		query: psql,
		async stop() {
			await daemon.stop();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

function userIds(name: string): { uid: number; gid: number } {
	const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
	return { uid: Number(line[2]), gid: Number(line[3]) };
}

export async function startRedis(): Promise<Service> {
	const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((b) => existsSync(b));
	if (!bin) throw new Error('redis-server not found: install Debian\'s redis-server package (apt-get install redis-server; .ci/run does)');
	const dir = mkdtempSync(path.join(os.tmpdir(), 'redis-'));
	const port = await freePort();
	const daemon = new Daemon(
		spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true }),
		'redis',
	);
	await waitFor('Redis to accept connections', () => (!daemon.running ? Promise.reject(new Error(daemon.log)) : /Ready to accept connections/.test(daemon.log)), 20_000, 100);
	return {
		port,
		log: () => daemon.log,
		async stop() {
			await daemon.stop();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
