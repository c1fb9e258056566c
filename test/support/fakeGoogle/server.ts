/**
 * HTTP plumbing: routing, JSON replies, call recording, auth-then-fault ordering and latency.
 * One handler serves both the loopback HTTP port and the HTTPS :443 port, whatever the Host,
 * so gmail.googleapis.com and www.googleapis.com paths reach the same routes.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'http';
import { HttpError, googleError } from './errors';
import type { FakeAuth, IssuedToken } from './auth';
import type { Faults } from './faults';

export interface CallRecord {
	/** API method name ('history.list', 'users.watch', 'token', …) or 'unknown'. */
	method: string;
	httpMethod: string;
	path: string;
	query: Record<string, string | string[]>;
	/** Epoch ms when the request arrived. */
	at: number;
	/** HTTP status answered; 0 while the call is in flight. */
	status: number;
	host?: string;
}

export interface RouteRequest {
	httpMethod: string;
	path: string;
	query: URLSearchParams;
	headers: IncomingHttpHeaders;
	body: Buffer;
	/** Regex capture groups of the route pattern, URI-decoded. */
	params: string[];
	/** The authenticated token, for routes with `auth: true`. */
	token?: IssuedToken;
}

export interface RouteResponse {
	status: number;
	body?: unknown;
	headers?: Record<string, string>;
}

export interface Route {
	/** Name used in `calls`, `count()`, faults and quota (e.g. 'history.list'). */
	name: string;
	httpMethod: string;
	pattern: RegExp;
	/** Check the bearer token before faults and the handler run (Google checks auth first). */
	auth?: boolean;
	/** false: not recorded in `calls` and no faults (admin/test endpoints). */
	recorded?: boolean;
	handle(req: RouteRequest): RouteResponse | Promise<RouteResponse>;
}

export interface HandlerDeps {
	/** Read per request, so routes added after start are seen. */
	routes: () => readonly Route[];
	auth: FakeAuth;
	faults: Faults;
	calls: CallRecord[];
}

function queryRecord(query: URLSearchParams): Record<string, string | string[]> {
	const out: Record<string, string | string[]> = {};
	for (const key of new Set(query.keys())) {
		const all = query.getAll(key);
		out[key] = all.length === 1 ? all[0] : all;
	}
	return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

function send(res: ServerResponse, reply: RouteResponse): void {
	const headers: Record<string, string> = { ...reply.headers };
	if (reply.status === 204 || reply.body === undefined) {
		res.writeHead(reply.status, headers);
		res.end();
		return;
	}
	const text = JSON.stringify(reply.body, null, 2);
	headers['content-type'] = 'application/json; charset=UTF-8';
	res.writeHead(reply.status, headers);
	res.end(text);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createHandler(deps: HandlerDeps): RequestListener {
	return (req, res) => {
		void (async () => {
			const url = new URL(req.url ?? '/', 'http://fake.invalid');
			const httpMethod = (req.method ?? 'GET').toUpperCase();
			const body = await readBody(req);
			let route: Route | undefined;
			let match: RegExpExecArray | null = null;
			for (const r of deps.routes()) {
				if (r.httpMethod !== httpMethod) continue;
				match = r.pattern.exec(url.pathname);
				if (match) {
					route = r;
					break;
				}
			}
			const name = route?.name ?? 'unknown';
			let record: CallRecord | undefined;
			if (route?.recorded !== false) {
				record = { method: name, httpMethod, path: url.pathname, query: queryRecord(url.searchParams), at: Date.now(), status: 0, host: req.headers.host };
				deps.calls.push(record);
			}
			let reply: RouteResponse;
			try {
				if (!route || !match) throw HttpError.google(404, { message: `fake Google: no route for ${httpMethod} ${url.pathname}` });
				const delay = deps.faults.delayFor(name);
				if (delay > 0) await sleep(delay);
				const token = route.auth ? deps.auth.authenticate(req.headers.authorization) : undefined;
				const fault = route.recorded === false ? undefined : deps.faults.take(name, { path: url.pathname, query: url.searchParams });
				if (fault) throw fault;
				const params = match.slice(1).map((p) => (p === undefined ? '' : decodeURIComponent(p)));
				reply = await route.handle({ httpMethod, path: url.pathname, query: url.searchParams, headers: req.headers, body, params, token });
			} catch (e) {
				if (e instanceof HttpError) {
					reply = { status: e.status, body: e.body, headers: e.headers };
				} else {
					// A bug in the fake itself: answer 500 and say so, rather than hang the client.
					reply = { status: 500, body: googleError(500, { message: `fake Google crashed: ${String(e)}` }) };
				}
			}
			if (record) record.status = reply.status;
			send(res, reply);
		})();
	};
}
