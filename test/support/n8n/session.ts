/** One n8n for a test file: fresh user folder, package installed, owner + API key ready. */
import { mkdtempSync, promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import { N8nApi } from './api';
import { packAndInstall } from './install';
import type { N8nMajor } from './paths';
import { startN8n, type N8nProcess } from './process';

export interface N8nSession {
	n8n: N8nProcess;
	api: N8nApi;
	userFolder: string;
	/** Stops n8n; removes the user folder unless KEEP_N8N=1 (the log file stays in its own temp dir). */
	close(): Promise<void>;
}

export interface SessionOptions {
	major: N8nMajor;
	/** Install this package into the user folder first (default true). */
	install?: boolean;
	env?: Record<string, string | undefined>;
	port?: number;
}

export async function startSession(options: SessionOptions): Promise<N8nSession> {
	const userFolder = mkdtempSync(path.join(os.tmpdir(), `n8n${options.major}-user-`));
	if (options.install !== false) await packAndInstall(userFolder);
	const n8n = await startN8n({ major: options.major, userFolder, env: options.env, port: options.port });
	try {
		const api = new N8nApi(n8n);
		await api.setup();
		return {
			n8n,
			api,
			userFolder,
			async close() {
				await n8n.stop();
				if (process.env.KEEP_N8N !== '1') await fs.rm(userFolder, { recursive: true, force: true });
			},
		};
	} catch (error) {
		await n8n.stop();
		throw new Error(`${(error as Error).message}\n--- n8n log (${n8n.logFile}) ---\n${n8n.tail(80)}`);
	}
}
