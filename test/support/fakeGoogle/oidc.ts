/**
 * Google's OIDC signer, as Pub/Sub push authentication uses it: ID tokens (RS256 JWTs) for a
 * service account, verifiable with the public keys Google publishes at
 *   https://www.googleapis.com/oauth2/v1/certs   { kid: X.509 certificate PEM }
 *   https://www.googleapis.com/oauth2/v3/certs   { keys: [JWK] }
 * both with a Cache-Control max-age that google-auth-library honours.
 *
 *   const token = fake.oidc.sign({ aud: pushUrl, email: 'push@p.iam.gserviceaccount.com' });
 *   const forged = fake.oidc.sign(claims, { key: fake.oidc.foreignKey().privateKey });
 *
 * The signing key and its self-signed certificate are made with the openssl CLI (as tls.ts does)
 * and cached in a temp folder; the "foreign" key (never published) is made in process.
 */
import { openssl } from './tls';
import { createHash, createHmac, createPrivateKey, generateKeyPairSync, randomBytes, sign as rsaSign, X509Certificate, type KeyObject } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Route, RouteResponse } from './server';

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface OidcKey {
	/** Key id, in the JWT header and the certs maps (40 hex digits, as Google's). */
	kid: string;
	privateKey: KeyObject;
	publicKey: KeyObject;
	/** Self-signed X.509 certificate of the public key (what /oauth2/v1/certs serves). */
	certPem: string;
}

export interface OidcSignOptions {
	/** `kid` of the header; default: the published signing key's (also with a foreign `key`). */
	kid?: string;
	/** Key to sign with (PEM or KeyObject); default: the published key named by `kid`. */
	key?: KeyObject | string;
	/**
	 * `alg` of the header. 'RS256' (default) signs with RSA-SHA256; 'none' leaves the signature
	 * empty (unsigned token); 'HS256' signs with HMAC-SHA256 keyed with the certificate PEM (the
	 * classic algorithm-confusion forgery); any other value is written in the header and the
	 * token is RSA-signed anyway.
	 */
	alg?: string;
	/** Extra or overriding header fields. */
	header?: Record<string, unknown>;
}

export interface OidcClaims {
	iss?: string;
	aud?: string | string[];
	email?: string;
	/** A boolean from Google; anything else for forged tokens. */
	email_verified?: unknown;
	/** Epoch seconds. */
	iat?: number;
	exp?: number;
	sub?: string;
	azp?: string;
	[claim: string]: unknown;
}

export interface FakeOidcOptions {
	/** Cache-Control max-age of the certs responses, in seconds. Default 21600 (6 h, like Google's). */
	maxAgeSeconds?: number;
	/** Where the signing key and certificate are cached (default: a folder in os.tmpdir()). */
	dir?: string;
}

const CACHE_VERSION = 'v1';

export function defaultOidcDir(): string {
	return process.env.FAKE_GOOGLE_OIDC_DIR ?? path.join(os.tmpdir(), `n8n-gmail-push-fake-google-oidc-${CACHE_VERSION}`);
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function kidOf(certPem: string): string {
	return createHash('sha1').update(new X509Certificate(certPem).raw).digest('hex');
}

/** A new RSA key and a self-signed certificate for it, written to `dir` (key.pem, cert.pem). */
function generateSigner(dir: string): void {
	fs.mkdirSync(dir, { recursive: true });
	openssl(
		['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', '/CN=n8n-nodes-gmail-push fake Google OIDC signer', '-keyout', 'key.pem', '-out', 'cert.pem'],
		dir,
	);
}

function loadSigner(dir: string): OidcKey {
	const certPem = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
	const privateKey = createPrivateKey(fs.readFileSync(path.join(dir, 'key.pem')));
	const cert = new X509Certificate(certPem);
	if (new Date(cert.validTo).getTime() < Date.now() + 86_400_000) throw new Error('certificate expires soon');
	if (!cert.checkPrivateKey(privateKey)) throw new Error('key and certificate do not match');
	return { kid: kidOf(certPem), privateKey, publicKey: cert.publicKey, certPem };
}

/** The cached signing key (made once per machine; several jest workers may race: tmp + rename). */
export function ensureOidcSigner(dir: string = defaultOidcDir()): OidcKey {
	try {
		return loadSigner(dir);
	} catch {
		// missing or unusable: make a new one
	}
	const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
	generateSigner(tmp);
	fs.rmSync(dir, { recursive: true, force: true });
	try {
		fs.renameSync(tmp, dir);
	} catch {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
	return loadSigner(dir);
}

/** A fresh, published key with its own certificate (key rotation). */
function newPublishedKey(): OidcKey {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-google-oidc-key-'));
	try {
		generateSigner(tmp);
		return loadSigner(tmp);
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
}

let foreign: { privateKey: KeyObject; publicKey: KeyObject; kid: string } | undefined;

export class FakeOidc {
	/** Cache-Control max-age of the certs responses (seconds); 0 sends no-cache. */
	maxAgeSeconds: number;
	private readonly dir: string;
	private published: OidcKey[] | undefined;

	constructor(options: FakeOidcOptions = {}) {
		this.maxAgeSeconds = options.maxAgeSeconds ?? 21600;
		this.dir = options.dir ?? defaultOidcDir();
	}

	/** The published keys, the signing key first (made or loaded on first use). */
	get keys(): readonly OidcKey[] {
		this.published ??= [ensureOidcSigner(this.dir)];
		return this.published;
	}

	/** The key `sign()` uses by default. */
	get signingKey(): OidcKey {
		return this.keys[0];
	}

	get kid(): string {
		return this.signingKey.kid;
	}

	/**
	 * A key Google never published, for forged tokens (its `kid` is not in the certs). The same
	 * key for the whole process: generating RSA keys is slow on a busy machine.
	 */
	foreignKey(): { privateKey: KeyObject; publicKey: KeyObject; kid: string } {
		if (!foreign) {
			const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
			foreign = { privateKey, publicKey, kid: randomBytes(20).toString('hex') };
		}
		return foreign;
	}

	/** Publishes another key (rotation); `sign({...}, { kid })` signs with it. */
	addKey(): OidcKey {
		const key = newPublishedKey();
		this.published = [...this.keys, key];
		return key;
	}

	/** Stops publishing a key: tokens it signed no longer verify once clients refetch the certs. */
	removeKey(kid: string): void {
		this.published = this.keys.filter((k) => k.kid !== kid);
	}

	/** The default claims of a Pub/Sub push token, `claims` on top (an `undefined` value drops one). */
	claims(claims: OidcClaims = {}): Record<string, unknown> {
		const now = Math.floor(Date.now() / 1000);
		const merged: Record<string, unknown> = { iss: GOOGLE_ISSUER, email_verified: true, iat: now, exp: now + 3600, ...claims };
		for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
		return merged;
	}

	/** Mints an ID token. Defaults: iss accounts.google.com, email_verified true, iat now, exp now + 1 h. */
	sign(claims: OidcClaims = {}, options: OidcSignOptions = {}): string {
		const alg = options.alg ?? 'RS256';
		const kid = options.kid ?? this.kid;
		const header: Record<string, unknown> = { alg, kid, typ: 'JWT', ...options.header };
		for (const key of Object.keys(header)) if (header[key] === undefined) delete header[key];
		const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(this.claims(claims)))}`;
		if (alg === 'none') return `${signingInput}.`;
		const published = this.keys.find((k) => k.kid === kid);
		if (alg === 'HS256') {
			const secret = typeof options.key === 'string' ? options.key : (published ?? this.signingKey).certPem;
			return `${signingInput}.${b64url(createHmac('sha256', secret).update(signingInput).digest())}`;
		}
		let key: KeyObject;
		if (options.key !== undefined) key = typeof options.key === 'string' ? createPrivateKey(options.key) : options.key;
		else if (published) key = published.privateKey;
		else throw new Error(`fake OIDC: no published key "${kid}" (pass options.key to sign with another one)`);
		return `${signingInput}.${b64url(rsaSign('RSA-SHA256', Buffer.from(signingInput), key))}`;
	}

	/** What GET /oauth2/v1/certs answers: kid → certificate PEM. */
	pemCerts(): Record<string, string> {
		return Object.fromEntries(this.keys.map((k) => [k.kid, k.certPem]));
	}

	/** What GET /oauth2/v3/certs answers: the same keys as JWKs. */
	jwks(): { keys: Array<Record<string, string>> } {
		return {
			keys: this.keys.map((k) => {
				const jwk = k.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
				return { kty: 'RSA', alg: 'RS256', use: 'sig', kid: k.kid, n: jwk.n, e: jwk.e };
			}),
		};
	}

	private cacheHeaders(): Record<string, string> {
		if (this.maxAgeSeconds <= 0) return { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' };
		return {
			'cache-control': `public, max-age=${this.maxAgeSeconds}, must-revalidate, no-transform`,
			expires: new Date(Date.now() + this.maxAgeSeconds * 1000).toUTCString(),
		};
	}

	/** GET /oauth2/v1/certs (name 'oidc.certs') and /oauth2/v3/certs ('oidc.jwks'), on any Google host. */
	routes(): Route[] {
		const reply = (body: unknown): RouteResponse => ({ status: 200, body, headers: this.cacheHeaders() });
		return [
			{ name: 'oidc.certs', httpMethod: 'GET', pattern: /^\/oauth2\/v1\/certs$/, handle: () => reply(this.pemCerts()) },
			{ name: 'oidc.jwks', httpMethod: 'GET', pattern: /^\/oauth2\/v3\/certs$/, handle: () => reply(this.jwks()) },
		];
	}
}

/** Names of the OIDC routes in `calls`: not Gmail calls. */
export const OIDC_METHODS: readonly string[] = ['oidc.certs', 'oidc.jwks'];
