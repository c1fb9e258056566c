/**
 * In-process fake of the Google endpoints the Gmail push trigger talks to (Gmail REST + OAuth2
 * token endpoint + the OIDC signer's public certs), faithful enough to drive the real
 * @googleapis/gmail and google-auth-library.
 *
 *   const fake = await startFakeGoogle({ emailAddress: 'user@example.com' });
 *   const client = gmail({ version: 'v1', auth, rootUrl: `${fake.baseUrl}/`, fetchImplementation: fake.fetch });
 *
 * HTTPS mode additionally serves https://*.googleapis.com on 127.0.0.1:443 for a child process
 * started with `fake.childEnv()` (NODE_EXTRA_CA_CERTS + the resolveGoogleToLoopback preload).
 *
 * `fake.oidc.sign(claims)` mints Google ID tokens (as a Pub/Sub push subscription sends them)
 * whose keys the fake publishes at /oauth2/v1/certs and /oauth2/v3/certs; see oidc.ts.
 */
import * as http from 'http';
import * as https from 'https';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { FakeAuth, SCOPES, type AuthOptions } from './auth';
import { Faults } from './faults';
import { QUOTA_UNITS, gmailRoutes, type WatchEvent } from './gmailRoutes';
import { Mailbox } from './mailbox';
import { FakeOidc, type FakeOidcOptions } from './oidc';
import { createHandler, type CallRecord, type Route } from './server';
import { ensureFakeGoogleTls } from './tls';

export { SCOPES, FakeAuth, Faults, FakeOidc, Mailbox, QUOTA_UNITS, ensureFakeGoogleTls };
export type { AuthOptions, CallRecord, Route, WatchEvent };
export type { DeliverInput, HistoryRecord, HistoryType, MailboxChange, StoredMessage, WatchState } from './mailbox';
export type { IssuedToken, JwtGrantRecord } from './auth';
export type { FaultOptions, FaultRequest, InjectedFault } from './faults';
export { GOOGLE_ISSUER, OIDC_METHODS, ensureOidcSigner, type FakeOidcOptions, type OidcClaims, type OidcKey, type OidcSignOptions } from './oidc';
export type { GmailLabel } from './labels';
export type { RouteRequest, RouteResponse } from './server';
export { renderMessage } from './gmailRoutes';
export { FAKE_GOOGLE_HOSTNAMES, type TlsMaterial } from './tls';

/** Absolute path of the `--require` preload that points Google hostnames at 127.0.0.1. */
export const RESOLVE_GOOGLE_PRELOAD = path.resolve(__dirname, '..', 'resolveGoogleToLoopback.js');

export interface FakeGoogleOptions extends AuthOptions {
	emailAddress?: string;
	/** Loopback HTTP port; default 0 (ephemeral). */
	port?: number;
	/** Also serve HTTPS for Google's hostnames on 127.0.0.1:`httpsPort`. */
	https?: boolean;
	/** Default 443. With another port, a child process needs FAKE_GOOGLE_PORT (childEnv() sets it). */
	httpsPort?: number;
	/** Where the CA and server certificate are cached (default: a folder in os.tmpdir()). */
	tlsDir?: string;
	/** Mailbox history id to start from (uint64 decimal), e.g. '9007199254740993' to go past 2^53. Default '4000000'. */
	startHistoryId?: string;
	/** Seed for history-id gaps. */
	seed?: number;
	/** users.watch refuses topics of other projects, like Gmail. */
	expectedProject?: string;
	onWatch?: (watch: WatchEvent) => void | Promise<void>;
	/** The OIDC signer (certs max-age, cache folder). */
	oidc?: FakeOidcOptions;
}

export interface QuotaOptions {
	/** Count only calls answered 2xx. Default: every call, failed ones included. */
	successfulOnly?: boolean;
	/** Count only calls at or after this epoch ms. */
	since?: number;
}

export interface FakeGoogle {
	/** http://127.0.0.1:PORT — use `${baseUrl}/` as the Gmail client's rootUrl. */
	readonly baseUrl: string;
	/** `${baseUrl}/token`, for OAuth2Client `endpoints.oauth2TokenUrl`. */
	readonly tokenUrl: string;
	readonly port: number;
	/** Set in HTTPS mode. */
	readonly httpsPort?: number;
	/** Set in HTTPS mode: PEM of the local CA, for NODE_EXTRA_CA_CERTS. */
	readonly caCertPath?: string;
	/** The mailbox of the default user (and of any token whose user has no mailbox of its own). */
	readonly mailbox: Mailbox;
	/**
	 * Another user's mailbox: a token impersonating `emailAddress` (a service account's `sub`)
	 * reads and watches it. For benchmarks with many mailboxes on one fake.
	 */
	addMailbox(emailAddress: string): Mailbox;
	readonly auth: FakeAuth;
	readonly faults: Faults;
	/** Google's OIDC signer: `sign()` ID tokens, published at /oauth2/v1/certs (calls named 'oidc.certs'). */
	readonly oidc: FakeOidc;
	/** Every API call (token endpoint included, admin routes excluded), in arrival order. */
	readonly calls: CallRecord[];
	onWatch: ((watch: WatchEvent) => void | Promise<void>) | undefined;
	count(method: string): number;
	quotaUnits(options?: QuotaOptions): number;
	resetCalls(): void;
	issueToken(opts?: { scopes?: string[]; ttlSeconds?: number; subject?: string }): string;
	expireTokens(): void;
	/**
	 * A `fetch` that sends https://*.googleapis.com and accounts.google.com URLs to this fake.
	 * Pass it as gaxios' `fetchImplementation` inside jest: gaxios otherwise does
	 * `import('node-fetch')`, which jest cannot run without --experimental-vm-modules.
	 */
	readonly fetch: typeof fetch;
	/** Env for a child process: NODE_EXTRA_CA_CERTS, NODE_OPTIONS=--require preload, FAKE_GOOGLE_PORT if not 443. */
	childEnv(): Record<string, string>;
	/** Add a route (e.g. a Pub/Sub fake) to the same servers, ahead of the built-in ones. */
	addRoute(route: Route): void;
	close(): Promise<void>;
}

const GOOGLE_HOST = /^(?:[a-z0-9-]+\.)*googleapis\.com$|^accounts\.google\.com$/i;

function listen(server: http.Server, port: number): Promise<number> {
	return new Promise((resolve, reject) => {
		const onError = (e: NodeJS.ErrnoException): void => {
			reject(
				e.code === 'EADDRINUSE' || e.code === 'EACCES'
					? new Error(`fake Google cannot listen on 127.0.0.1:${port} (${e.code}); is another fake or test using it?`)
					: e,
			);
		};
		server.once('error', onError);
		server.listen(port, '127.0.0.1', () => {
			server.off('error', onError);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

function closeServer(server: http.Server): Promise<void> {
	return new Promise((resolve) => {
		server.close(() => resolve());
		server.closeAllConnections();
	});
}

export async function startFakeGoogle(options: FakeGoogleOptions = {}): Promise<FakeGoogle> {
	const emailAddress = options.emailAddress ?? 'user@example.com';
	const mailbox = new Mailbox({ emailAddress, startHistoryId: options.startHistoryId, seed: options.seed });
	const auth = new FakeAuth(options);
	const faults = new Faults();
	const oidc = new FakeOidc(options.oidc);
	const calls: CallRecord[] = [];
	const customRoutes: Route[] = [];
	let onWatch = options.onWatch;
	const routesOf = (box: Mailbox) =>
		gmailRoutes({ mailbox: box, auth, faults, expectedProject: options.expectedProject, onWatch: (w) => onWatch?.(w) });
	const defaultRoutes = routesOf(mailbox);
	const others = new Map<string, { mailbox: Mailbox; routes: Route[] }>();
	// Each Gmail route answers from the mailbox of the token's user: the default routes' shape,
	// the handler of that mailbox's own route set.
	const gmail: Route[] = defaultRoutes.map((route, index) => ({
		...route,
		handle: (req) => (others.get(req.token?.subject?.toLowerCase() ?? '')?.routes[index] ?? route).handle(req),
	}));
	const builtIn = [...gmail, ...oidc.routes()];
	// Custom routes come first so they can also override a built-in one.
	const handler = createHandler({ routes: () => [...customRoutes, ...builtIn], auth, faults, calls });

	const servers: http.Server[] = [];
	const httpServer = http.createServer({ keepAliveTimeout: 1000 }, handler);
	servers.push(httpServer);
	const port = await listen(httpServer, options.port ?? 0);
	const baseUrl = `http://127.0.0.1:${port}`;

	let httpsPort: number | undefined;
	let caCertPath: string | undefined;
	if (options.https) {
		const tls = ensureFakeGoogleTls(options.tlsDir);
		caCertPath = tls.caCertPath;
		const httpsServer = https.createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 1000 }, handler);
		servers.push(httpsServer);
		try {
			httpsPort = await listen(httpsServer, options.httpsPort ?? 443);
		} catch (e) {
			await closeServer(httpServer);
			throw e;
		}
	}

	const fakeFetch: typeof fetch = (input, init) => {
		const original = input instanceof Request ? input.url : String(input);
		const url = new URL(original);
		if (!GOOGLE_HOST.test(url.hostname)) return fetch(input, init);
		const target = `${baseUrl}${url.pathname}${url.search}`;
		return fetch(input instanceof Request ? new Request(target, input) : target, init);
	};

	const fake: FakeGoogle = {
		baseUrl,
		tokenUrl: `${baseUrl}/token`,
		port,
		httpsPort,
		caCertPath,
		mailbox,
		addMailbox: (address) => {
			const key = address.toLowerCase();
			const existing = others.get(key);
			if (existing) return existing.mailbox;
			const box = new Mailbox({ emailAddress: address, startHistoryId: options.startHistoryId, seed: options.seed });
			others.set(key, { mailbox: box, routes: routesOf(box) });
			return box;
		},
		auth,
		faults,
		oidc,
		calls,
		get onWatch() {
			return onWatch;
		},
		set onWatch(hook) {
			onWatch = hook;
		},
		count: (method) => calls.filter((c) => c.method === method).length,
		quotaUnits: (q = {}) =>
			calls
				.filter((c) => (!q.successfulOnly || (c.status >= 200 && c.status < 300)) && (q.since === undefined || c.at >= q.since))
				.reduce((sum, c) => sum + (QUOTA_UNITS[c.method] ?? 0), 0),
		resetCalls: () => {
			calls.length = 0;
		},
		issueToken: (opts) => auth.issueToken(opts),
		expireTokens: () => auth.expireTokens(),
		fetch: fakeFetch,
		childEnv: () => {
			if (!caCertPath || httpsPort === undefined) throw new Error('childEnv() needs startFakeGoogle({ https: true })');
			const env: Record<string, string> = {
				NODE_EXTRA_CA_CERTS: caCertPath,
				NODE_OPTIONS: `--require ${RESOLVE_GOOGLE_PRELOAD}`,
			};
			if (httpsPort !== 443) env.FAKE_GOOGLE_PORT = String(httpsPort);
			return env;
		},
		addRoute: (route) => {
			customRoutes.push(route);
		},
		close: async () => {
			await Promise.all(servers.map(closeServer));
		},
	};
	return fake;
}

/** Convenience for tests that only need a token with Gmail read access. */
export const GMAIL_READONLY = SCOPES.readonly;
