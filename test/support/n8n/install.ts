/**
 * Installs this package into an n8n user folder the way n8n's Community Nodes screen does
 * (n8n 1.123 and 2.41 community-packages.service downloadPackage): `npm pack`, extract into
 * `<userFolder>/.n8n/nodes/node_modules/<name>`, drop devDependencies/peerDependencies/
 * optionalDependencies from its package.json, `npm install --ignore-scripts …` inside it, and
 * list it in `<userFolder>/.n8n/nodes/package.json`.
 *
 * The packed + installed package is cached by a hash of the sources (package.json, tsconfig,
 * gulpfile, nodes/, credentials/) under the n8n cache folder, so the build, pack and install
 * run once per source change; each user folder gets it as hard links (copyTree).
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, promises as fs, readdirSync, readFileSync, statSync } from 'fs';
import path from 'path';
import { promisify } from 'util';
import { cacheDir, repoRoot } from './paths';

const run = promisify(execFile);

export const PACKAGE_NAME = 'n8n-nodes-gmail-push';

/** n8n's own install flags (NPM_INSTALL_ARGS in community-packages.service). */
export const N8N_NPM_INSTALL_ARGS = [
	'install',
	'--audit=false',
	'--fund=false',
	'--bin-links=false',
	'--install-strategy=shallow',
	'--ignore-scripts=true',
	'--package-lock=false',
	'--omit=dev',
	'--loglevel=error',
];

function filesUnder(dir: string): string[] {
	if (!existsSync(dir)) return [];
	const out: string[] = [];
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) out.push(...filesUnder(full));
		else if (entry.isFile()) out.push(full);
	}
	return out;
}

/** Hash of everything that goes into dist/ and the packed package.json. */
export function sourceHash(root = repoRoot): string {
	const hash = createHash('sha256');
	const files = [
		...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'gulpfile.js'].map((f) => path.join(root, f)).filter((f) => existsSync(f)),
		...filesUnder(path.join(root, 'nodes')),
		...filesUnder(path.join(root, 'credentials')),
	].sort();
	for (const file of files) {
		hash.update(path.relative(root, file));
		hash.update('\0');
		hash.update(readFileSync(file));
		hash.update('\0');
	}
	return hash.digest('hex').slice(0, 16);
}

async function sh(cmd: string, args: string[], cwd: string, what: string): Promise<string> {
	try {
		const { stdout } = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
		return stdout;
	} catch (error) {
		const e = error as { stdout?: string; stderr?: string; message: string };
		throw new Error(`${what} failed (${cmd} ${args.join(' ')} in ${cwd}):\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
	}
}

function packagesRoot(): string {
	return path.join(cacheDir(), 'e2e-packages');
}

/**
 * Drops cached packages beyond the newest `keep`, but only those unused for an hour: another
 * test run (other sources, same cache) may be copying from a recent one right now.
 */
async function prune(keep: number): Promise<void> {
	const root = packagesRoot();
	const hourAgo = Date.now() - 60 * 60 * 1000;
	const entries = readdirSync(root)
		.map((e) => ({ e, at: statSync(path.join(root, e)).mtimeMs }))
		.sort((a, b) => b.at - a.at);
	const stale = entries.filter(({ e }) => !e.startsWith('.')).slice(keep).concat(entries.filter(({ e }) => e.startsWith('.work-')));
	for (const { e, at } of stale) if (at < hourAgo) await fs.rm(path.join(root, e), { recursive: true, force: true });
}

let memo: { hash: string; dir: Promise<string> } | undefined;

/**
 * Builds (npm run build), packs and installs the package once for the current sources.
 * Returns the folder of the installed package (with its node_modules).
 */
export async function preparePackage(): Promise<string> {
	const hash = sourceHash();
	if (memo?.hash === hash) return await memo.dir;
	const dir = (async () => {
		const final = path.join(packagesRoot(), hash);
		if (existsSync(path.join(final, '.complete'))) {
			const now = new Date();
			await fs.utimes(final, now, now);
			return path.join(final, 'package');
		}
		await fs.mkdir(packagesRoot(), { recursive: true });
		const work = await fs.mkdtemp(path.join(packagesRoot(), `.work-${hash}-`));
		try {
			await sh('npm', ['run', 'build'], repoRoot, 'npm run build');
			const packed = await sh('npm', ['pack', '--silent', '--pack-destination', work], repoRoot, 'npm pack');
			const tarball = packed.trim().split('\n').pop() as string;
			const target = path.join(work, 'package');
			await fs.mkdir(target);
			await sh('tar', ['-xzf', path.join(work, tarball), '-C', target, '--strip-components=1'], work, 'extracting the tarball');
			const pkgJsonPath = path.join(target, 'package.json');
			// eslint-disable-next-line @typescript-eslint/no-unused-vars
			const { devDependencies, peerDependencies, optionalDependencies, ...rest } = JSON.parse(await fs.readFile(pkgJsonPath, 'utf8')) as Record<string, unknown>;
			await fs.writeFile(pkgJsonPath, JSON.stringify(rest, null, 2), 'utf8');
			await sh('npm', [...N8N_NPM_INSTALL_ARGS, '--prefer-offline'], target, 'npm install in the extracted package');
			await fs.rm(path.join(work, tarball));
			await fs.writeFile(path.join(work, '.complete'), new Date().toISOString());
			try {
				await fs.rename(work, final);
			} catch {
				// Another run finished the same hash first: use theirs.
				if (!existsSync(path.join(final, '.complete'))) throw new Error(`could not move ${work} to ${final}`);
				await fs.rm(work, { recursive: true, force: true });
			}
			await prune(3).catch(() => undefined);
			return path.join(final, 'package');
		} catch (error) {
			await fs.rm(work, { recursive: true, force: true });
			throw error;
		}
	})();
	memo = { hash, dir };
	dir.catch(() => {
		if (memo?.dir === dir) memo = undefined;
	});
	return await dir;
}

/**
 * The installed package as hard links to the prepared one (`cp -al`): the same files at the
 * same path, without copying about 6,400 files and 88 MB for each of the 50 n8n processes a run
 * starts (fs.cp took about 3 s of CPU each). Nothing writes into an installed package; where
 * hard links cannot be made (another file system), a plain copy.
 */
async function copyTree(source: string, target: string): Promise<void> {
	try {
		await run('cp', ['-al', source, target]);
	} catch {
		await fs.rm(target, { recursive: true, force: true });
		await fs.cp(source, target, { recursive: true, verbatimSymlinks: true });
	}
}

/**
 * Installs the package into `<userFolder>/.n8n/nodes` as the Community Nodes screen does.
 * Returns the installed package folder.
 */
export async function packAndInstall(userFolder: string): Promise<string> {
	const source = await preparePackage();
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const target = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	await fs.rm(target, { recursive: true, force: true });
	await fs.mkdir(path.dirname(target), { recursive: true });
	await copyTree(source, target);
	const version = (JSON.parse(await fs.readFile(path.join(target, 'package.json'), 'utf8')) as { version: string }).version;
	const listPath = path.join(nodesDir, 'package.json');
	const list = existsSync(listPath)
		? (JSON.parse(await fs.readFile(listPath, 'utf8')) as { dependencies?: Record<string, string> })
		: { name: 'installed-nodes', private: true, dependencies: {} };
	list.dependencies = { ...(list.dependencies ?? {}), [PACKAGE_NAME]: version };
	await fs.writeFile(listPath, JSON.stringify(list, null, 2), 'utf8');
	return target;
}
