/**
 * n8n over HTTP: owner setup and an API key through the internal REST API (as the editor does),
 * then the public API (X-N8N-API-KEY) for credentials, workflows, activation and executions.
 * Works on n8n 1.123 and 2.41; the differences (publish vs activate) are handled here.
 */
import { execFile } from 'child_process';
import path from 'path';
import { promisify } from 'util';
import type { N8nProcess } from './process';
import { requireFromN8n, type N8nMajor } from './paths';
import { waitFor } from './ports';

const run = promisify(execFile);

export const OWNER = { email: 'owner@example.com', firstName: 'Test', lastName: 'Owner', password: 'Passw0rd-e2e!' };
const BROWSER_ID = 'n8n-nodes-gmail-push-e2e';

export interface HttpReply<T = unknown> {
	status: number;
	headers: Headers;
	text: string;
	json: T;
}

export async function http<T = unknown>(url: string, init: RequestInit & { json?: unknown } = {}): Promise<HttpReply<T>> {
	const headers = new Headers(init.headers);
	let body = init.body;
	if (init.json !== undefined) {
		headers.set('content-type', 'application/json');
		body = JSON.stringify(init.json);
	}
	const response = await fetch(url, { ...init, headers, body, signal: init.signal ?? AbortSignal.timeout(60_000) });
	const text = await response.text();
	let json: unknown = undefined;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	return { status: response.status, headers: response.headers, text, json: json as T };
}

export interface WorkflowJson {
	id?: string;
	name: string;
	nodes: Array<{
		id?: string;
		name: string;
		type: string;
		typeVersion: number;
		position: [number, number];
		parameters: Record<string, unknown>;
		webhookId?: string;
		credentials?: Record<string, { id: string; name: string }>;
		[key: string]: unknown;
	}>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	staticData?: unknown;
	[key: string]: unknown;
}

export interface CredentialRef {
	id: string;
	name: string;
	type: string;
}

export interface ExecutionSummary {
	id: string;
	mode: string;
	status: string;
	finished: boolean;
	startedAt: string;
	stoppedAt?: string;
	workflowId: string;
	data?: ExecutionData;
}

export interface ExecutionData {
	resultData: {
		runData: Record<string, Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> }; error?: unknown }>>;
		error?: unknown;
	};
}

export class N8nApi {
	apiKey?: string;
	private cookie?: string;

	constructor(readonly n8n: Pick<N8nProcess, 'baseUrl' | 'major' | 'userFolder' | 'webhookUrl'>) {}

	get major(): N8nMajor {
		return this.n8n.major;
	}

	/** POST /rest/owner/setup, then an API key with every scope this n8n offers. */
	async setup(): Promise<string> {
		const setup = await http<{ data?: unknown }>(`${this.n8n.baseUrl}/rest/owner/setup`, {
			method: 'POST',
			json: OWNER,
			headers: { 'browser-id': BROWSER_ID },
		});
		if (setup.status !== 200) throw new Error(`owner setup: ${setup.status} ${setup.text.slice(0, 500)}`);
		const cookies = setup.headers.getSetCookie?.() ?? [setup.headers.get('set-cookie') ?? ''];
		const auth = cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('n8n-auth='));
		if (!auth) throw new Error(`owner setup gave no n8n-auth cookie: ${cookies.join(' | ')}`);
		this.cookie = auth;
		const scopes = await this.rest<string[]>('GET', '/rest/api-keys/scopes');
		const created = await this.rest<{ rawApiKey?: string; apiKey?: string }>('POST', '/rest/api-keys', {
			label: 'e2e',
			expiresAt: null,
			scopes,
		});
		const key = created.rawApiKey ?? created.apiKey;
		if (!key) throw new Error(`no API key in ${JSON.stringify(created)}`);
		this.apiKey = key;
		return key;
	}

	/** Headers that authenticate as the owner on the internal REST API (and /types/*.json). */
	ownerHeaders(): Record<string, string> {
		if (!this.cookie) throw new Error('call setup() first');
		return { cookie: this.cookie, 'browser-id': BROWSER_ID };
	}

	/** Node types n8n loaded (GET /types/nodes.json as the editor reads it). */
	async nodeTypes(): Promise<Array<{ name: string; version: number | number[]; webhooks?: unknown[] }>> {
		const reply = await http<Array<{ name: string; version: number | number[] }>>(`${this.n8n.baseUrl}/types/nodes.json`, { headers: this.ownerHeaders() });
		if (!Array.isArray(reply.json)) throw new Error(`/types/nodes.json: ${reply.status} ${reply.text.slice(0, 300)}`);
		return reply.json;
	}

	async credentialTypes(): Promise<Array<{ name: string; extends?: string[] }>> {
		const reply = await http<Array<{ name: string }>>(`${this.n8n.baseUrl}/types/credentials.json`, { headers: this.ownerHeaders() });
		if (!Array.isArray(reply.json)) throw new Error(`/types/credentials.json: ${reply.status} ${reply.text.slice(0, 300)}`);
		return reply.json;
	}

	/** The internal REST API with the owner's cookie; returns `data`. */
	async rest<T>(method: string, route: string, body?: unknown): Promise<T> {
		if (!this.cookie) throw new Error('call setup() first');
		const reply = await http<{ data: T }>(`${this.n8n.baseUrl}${route}`, {
			method,
			json: body,
			headers: { cookie: this.cookie, 'browser-id': BROWSER_ID },
		});
		if (reply.status >= 300) throw new Error(`${method} ${route}: ${reply.status} ${reply.text.slice(0, 1000)}`);
		return reply.json?.data as T;
	}

	/** The public API (/api/v1) with the API key. Throws on non-2xx unless `allow` lists the status. */
	async api<T>(method: string, route: string, body?: unknown, allow: number[] = []): Promise<HttpReply<T>> {
		if (!this.apiKey) throw new Error('call setup() first');
		const reply = await http<T>(`${this.n8n.baseUrl}/api/v1${route}`, {
			method,
			json: body,
			headers: { 'X-N8N-API-KEY': this.apiKey, accept: 'application/json' },
		});
		if ((reply.status < 200 || reply.status >= 300) && !allow.includes(reply.status)) {
			throw new Error(`${method} /api/v1${route}: ${reply.status} ${reply.text.slice(0, 1000)}`);
		}
		return reply;
	}

	async listWorkflows(): Promise<Array<{ id: string; name: string; active: boolean }>> {
		const reply = await this.api<{ data: Array<{ id: string; name: string; active: boolean }> }>('GET', '/workflows');
		return reply.json.data;
	}

	async getWorkflow(id: string): Promise<WorkflowJson & { id: string; active: boolean }> {
		return (await this.api<WorkflowJson & { id: string; active: boolean }>('GET', `/workflows/${id}`)).json;
	}

	/**
	 * Creates a credential. The public API (POST /api/v1/credentials) validates `data` against a
	 * JSON schema of the type; n8n 1.123's schema for OAuth2 types (e.g. gmailPushOAuth2Api,
	 * which extends googleOAuth2Api) demands serverUrl, sendAdditionalBodyProperties,
	 * additionalBodyProperties and allowedDomains, so such a 400 falls back to the editor's
	 * POST /rest/credentials, which stores `data` (oauthTokenData included) as given.
	 */
	async createCredential(name: string, type: string, data: Record<string, unknown>, via: 'auto' | 'public' | 'rest' = 'auto'): Promise<CredentialRef> {
		if (via !== 'rest') {
			const reply = await this.api<{ id: string; name: string; type: string; message?: string }>('POST', '/credentials', { name, type, data }, via === 'auto' ? [400] : []);
			if (reply.status !== 400) return { id: String(reply.json.id), name: reply.json.name, type: reply.json.type };
			if (!/does not match|requires property/.test(reply.text)) throw new Error(`POST /api/v1/credentials: 400 ${reply.text.slice(0, 1000)}`);
		}
		const created = await this.rest<{ id: string; name: string; type: string }>('POST', '/rest/credentials', { name, type, data });
		return { id: String(created.id), name: created.name, type: created.type };
	}

	/** The credential's data as the editor sees it (secrets blanked, oauthTokenData: true when set). */
	async credentialData(id: string): Promise<Record<string, unknown>> {
		const credential = await this.rest<{ data: Record<string, unknown> }>('GET', `/rest/credentials/${id}?includeData=true`);
		return credential.data;
	}

	/**
	 * Creates the workflow through the public API (which accepts only name, nodes, connections,
	 * settings, staticData). `credentials` replaces the id/name of node credentials by type.
	 */
	async importWorkflow(workflow: WorkflowJson, credentials: CredentialRef[] = []): Promise<string> {
		const nodes = workflow.nodes.map((node) => {
			if (!node.credentials) return node;
			const creds = { ...node.credentials };
			for (const type of Object.keys(creds)) {
				const ref = credentials.find((c) => c.type === type);
				if (ref) creds[type] = { id: ref.id, name: ref.name };
			}
			return { ...node, credentials: creds };
		});
		const body: Record<string, unknown> = {
			name: workflow.name,
			nodes,
			connections: workflow.connections,
			settings: workflow.settings ?? { executionOrder: 'v1' },
		};
		if (workflow.staticData !== undefined && workflow.staticData !== null) body.staticData = workflow.staticData;
		const reply = await this.api<{ id: string }>('POST', '/workflows', body);
		return String(reply.json.id);
	}

	/**
	 * Activates (1.x: POST /workflows/{id}/activate) or publishes (2.x: POST /workflows/{id}/publish,
	 * asynchronous: wait for the webhook with waitForWebhookRegistered).
	 */
	async activate(id: string): Promise<HttpReply<unknown>> {
		return await this.api('POST', `/workflows/${id}/${this.major === 2 ? 'publish' : 'activate'}`, this.major === 2 ? {} : undefined);
	}

	/** Deactivates (1.x /deactivate, 2.x /unpublish): n8n calls the node's webhook delete. */
	async deactivate(id: string): Promise<HttpReply<unknown>> {
		return await this.api('POST', `/workflows/${id}/${this.major === 2 ? 'unpublish' : 'deactivate'}`);
	}

	async deleteWorkflow(id: string): Promise<void> {
		await this.api('DELETE', `/workflows/${id}`);
	}

	/** The workflow's staticData as the public API shows it (from the DB). */
	async staticData(workflowId: string): Promise<Record<string, unknown>> {
		const wf = await this.getWorkflow(workflowId);
		const data = wf.staticData;
		if (typeof data === 'string') return JSON.parse(data) as Record<string, unknown>;
		return (data ?? {}) as Record<string, unknown>;
	}

	/** Static data of one node (n8n keys it `node:<node name>`). */
	async nodeStaticData(workflowId: string, nodeName: string): Promise<Record<string, unknown>> {
		return ((await this.staticData(workflowId))[`node:${nodeName}`] ?? {}) as Record<string, unknown>;
	}

	/** Every execution of the workflow, oldest first, with data. */
	async executions(workflowId: string): Promise<ExecutionSummary[]> {
		const all: ExecutionSummary[] = [];
		let cursor: string | undefined;
		for (;;) {
			const query = new URLSearchParams({ workflowId, includeData: 'true', limit: '100' });
			if (cursor) query.set('cursor', cursor);
			const reply = await this.api<{ data: ExecutionSummary[]; nextCursor?: string | null }>('GET', `/executions?${query.toString()}`);
			for (const execution of reply.json.data) all.push({ ...execution, id: String(execution.id), data: this.parseData(execution.data) });
			cursor = reply.json.nextCursor ?? undefined;
			if (!cursor) break;
		}
		return all.sort((a, b) => Number(a.id) - Number(b.id));
	}

	private parseData(data: unknown): ExecutionData | undefined {
		if (data === undefined || data === null) return undefined;
		if (typeof data === 'string') {
			const flatted = requireFromN8n<{ parse(text: string): unknown }>(this.major, 'flatted');
			return flatted.parse(data) as ExecutionData;
		}
		return data as ExecutionData;
	}

	/** The items a node output in each execution (first run, first output). */
	async nodeItems(workflowId: string, nodeName: string): Promise<Array<{ execution: ExecutionSummary; items: Array<Record<string, unknown>> }>> {
		return (await this.executions(workflowId)).map((execution) => ({ execution, items: itemsOf(execution, nodeName) }));
	}

	/** Waits until the workflow has at least `count` finished executions; returns them all. */
	async waitForExecutions(workflowId: string, count: number, timeoutMs = 30_000): Promise<ExecutionSummary[]> {
		return await waitFor(
			`${count} finished execution(s) of workflow ${workflowId}`,
			async () => {
				const list = await this.executions(workflowId);
				const done = list.filter((e) => e.status !== 'running' && e.status !== 'new' && e.stoppedAt);
				return done.length >= count ? list : undefined;
			},
			timeoutMs,
			250,
		);
	}

	/**
	 * Resolves once n8n serves the POST webhook (`<webhookId>/<path>`): a GET then answers 404
	 * "…not registered for GET requests…" instead of "…is not registered…" (2.x activates async).
	 */
	async waitForWebhookRegistered(webhookPath: string, timeoutMs = 30_000): Promise<void> {
		const url = this.n8n.webhookUrl(webhookPath);
		await waitFor(
			`webhook ${url} to be registered`,
			async () => {
				const reply = await http(url, { method: 'GET' });
				return /not registered for GET requests/i.test(reply.text) || reply.status === 200;
			},
			timeoutMs,
			200,
		);
	}

	/** Resolves once the webhook is gone (after deactivation). */
	async waitForWebhookUnregistered(webhookPath: string, timeoutMs = 30_000): Promise<void> {
		const url = this.n8n.webhookUrl(webhookPath);
		await waitFor(
			`webhook ${url} to be unregistered`,
			async () => {
				const reply = await http(url, { method: 'GET' });
				return reply.status === 404 && !/not registered for GET requests/i.test(reply.text);
			},
			timeoutMs,
			200,
		);
	}
}

/** Items of `nodeName` in one execution (first run, first output). */
export function itemsOf(execution: ExecutionSummary, nodeName: string): Array<Record<string, unknown>> {
	const runs = execution.data?.resultData.runData[nodeName] ?? [];
	return (runs[0]?.data?.main?.[0] ?? []).map((item) => item.json);
}

/** Reads a value straight from n8n's sqlite DB (WAL-safe with a busy timeout), e.g. static data. */
export async function sqlite(userFolder: string, sql: string): Promise<string> {
	const db = path.join(userFolder, '.n8n', 'database.sqlite');
	const { stdout } = await run('sqlite3', ['-cmd', '.timeout 5000', '-json', db, sql], { maxBuffer: 64 * 1024 * 1024 });
	return stdout;
}

/** staticData of a workflow from the DB (parsed JSON, {} when null). */
export async function staticDataFromDb(userFolder: string, workflowId: string): Promise<Record<string, unknown>> {
	const out = await sqlite(userFolder, `SELECT staticData FROM workflow_entity WHERE id = '${workflowId.replace(/'/g, "''")}'`);
	const rows = (out.trim() ? JSON.parse(out) : []) as Array<{ staticData: string | null }>;
	if (rows.length === 0) throw new Error(`workflow ${workflowId} is not in the DB`);
	return rows[0].staticData ? (JSON.parse(rows[0].staticData) as Record<string, unknown>) : {};
}
