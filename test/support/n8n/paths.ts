/** Where things live: the repo, the cached n8n installs (scripts/install-n8n.sh), Node 24. */
import { execFileSync } from 'child_process';
import { existsSync } from 'fs';
import os from 'os';
import path from 'path';

export type N8nMajor = 1 | 2;

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export const N8N_VERSIONS: Record<N8nMajor, string> = { 1: '1.123.81', 2: '2.41.1' };

export function cacheDir(): string {
	return process.env.N8N_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'n8n-nodes-gmail-push');
}

/** Node 24's bin folder (n8n 2.x needs Node >= 22); install-n8n.sh 2 puts it there. */
export function node24BinDir(): string {
	return path.join(cacheDir(), 'node24', 'bin');
}

const installDirs = new Map<N8nMajor, string>();

/**
 * The folder holding node_modules/n8n for that major. Reuses a finished install at once;
 * otherwise runs scripts/install-n8n.sh (several minutes, as in CI's first run).
 */
export function n8nInstallDir(major: N8nMajor): string {
	const known = installDirs.get(major);
	if (known) return known;
	const direct = path.join(cacheDir(), `n8n-${N8N_VERSIONS[major]}`);
	let dir = direct;
	if (!existsSync(path.join(direct, '.installed'))) {
		const out = execFileSync('bash', [path.join(repoRoot, 'scripts', 'install-n8n.sh'), String(major)], {
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'inherit'],
			maxBuffer: 64 * 1024 * 1024,
		});
		dir = out.trim().split('\n').pop() ?? direct;
	}
	installDirs.set(major, dir);
	return dir;
}

export function n8nBin(major: N8nMajor): string {
	return path.join(n8nInstallDir(major), 'node_modules', 'n8n', 'bin', 'n8n');
}

/** The `node` that runs n8n of that major: Node 24 for 2.x, the system one for 1.x. */
export function nodeFor(major: N8nMajor): string {
	if (major === 2) {
		const node = path.join(node24BinDir(), 'node');
		if (!existsSync(node)) throw new Error(`Node 24 is missing at ${node}: run scripts/install-n8n.sh 2`);
		return node;
	}
	return 'node';
}

/** PATH for an n8n child process (Node 24 first for 2.x: n8n spawns `node` and `npm`). */
export function pathFor(major: N8nMajor, base = process.env.PATH ?? ''): string {
	return major === 2 ? `${node24BinDir()}${path.delimiter}${base}` : base;
}

/** Versions the e2e suites run against: E2E_N8N_VERSIONS=1,2 (default both). */
export function selectedMajors(): N8nMajor[] {
	const raw = (process.env.E2E_N8N_VERSIONS ?? '1,2').split(',').map((s) => s.trim()).filter(Boolean);
	const majors = raw.map((s) => Number(s.replace(/^v/, '').split('.')[0]));
	for (const m of majors) if (m !== 1 && m !== 2) throw new Error(`E2E_N8N_VERSIONS: unknown n8n major "${m}" (use 1, 2 or 1,2)`);
	return [...new Set(majors)] as N8nMajor[];
}

/** A module from inside an n8n install (e.g. `flatted`), without adding it to our dependencies. */
export function requireFromN8n<T>(major: N8nMajor, id: string): T {
	// eslint-disable-next-line @typescript-eslint/no-var-requires
	return require(require.resolve(id, { paths: [path.join(n8nInstallDir(major), 'node_modules', 'n8n'), n8nInstallDir(major)] })) as T;
}
