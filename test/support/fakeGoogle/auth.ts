/**
 * OAuth side of the fake: the token endpoint (refresh-token and service-account JWT grants) and
 * bearer-token checks for API calls, with the scopes granted to each token.
 */
import { createPublicKey, randomBytes, verify, type KeyObject } from 'crypto';
import { HttpError, oauthError } from './errors';

export const SCOPES = {
	full: 'https://mail.google.com/',
	modify: 'https://www.googleapis.com/auth/gmail.modify',
	readonly: 'https://www.googleapis.com/auth/gmail.readonly',
	metadata: 'https://www.googleapis.com/auth/gmail.metadata',
	compose: 'https://www.googleapis.com/auth/gmail.compose',
	labels: 'https://www.googleapis.com/auth/gmail.labels',
} as const;

export type Grant = 'seeded' | 'refresh_token' | 'jwt-bearer' | 'any';

export interface IssuedToken {
	token: string;
	scopes: string[];
	/** Epoch ms. */
	expiresAt: number;
	grant: Grant;
	/** Delegated user (`sub` of a service-account JWT). */
	subject?: string;
	/** Service-account email (`iss` of the JWT). */
	clientEmail?: string;
}

export interface JwtGrantRecord {
	iss: string;
	sub?: string;
	scope: string;
	aud: string;
	signatureVerified: boolean;
	at: number;
}

export interface AuthOptions {
	/** Any non-empty bearer token is accepted (with full Gmail scope) unless it was issued and expired. */
	acceptAnyToken?: boolean;
	/** Known refresh tokens; default: accept any non-empty one. */
	refreshTokens?: string[];
	/** When set, the refresh grant must present these OAuth client credentials. */
	clientId?: string;
	clientSecret?: string;
	/** Scopes granted by the refresh-token grant when the request names none. Default: gmail.readonly. */
	grantedScopes?: string[];
	/** Service account the JWT grant must come from; with publicKey the RS256 signature is verified. */
	serviceAccount?: { clientEmail?: string; publicKey?: string | KeyObject };
	/** false → JWT grants with `sub` fail like a service account without domain-wide delegation. Default true. */
	delegationAuthorized?: boolean;
	/**
	 * The scopes the domain-wide delegation allows (Admin console > Security > API controls); unset:
	 * any. A JWT grant with `sub` asking for another one is refused, as Google refuses it.
	 */
	delegatedScopes?: string[];
	/** API calls need a token holding (one of) these scopes, else 403 insufficientPermissions. */
	requiredScope?: string | string[];
	/** Lifetime of issued tokens. Default 3599 s, as Google. */
	tokenTtlSeconds?: number;
}

const JWT_AUDIENCES = ['https://oauth2.googleapis.com/token', 'https://www.googleapis.com/oauth2/v4/token', 'https://accounts.google.com/o/oauth2/token'];
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const AUTH_HELP =
	'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

function unauthenticated(missing: boolean): HttpError {
	const message = missing ? `Request is missing required authentication credential. ${AUTH_HELP}` : `Request had invalid authentication credentials. ${AUTH_HELP}`;
	const body = {
		error: {
			code: 401,
			message,
			errors: [
				{
					message: missing ? 'Login Required.' : 'Invalid Credentials',
					domain: 'global',
					reason: missing ? 'required' : 'authError',
					location: 'Authorization',
					locationType: 'header',
				},
			],
			status: 'UNAUTHENTICATED',
		},
	};
	const challenge = missing ? 'Bearer realm="https://accounts.google.com/"' : 'Bearer realm="https://accounts.google.com/", error="invalid_token"';
	return new HttpError(401, body, { 'www-authenticate': challenge });
}

export function insufficientScopes(): HttpError {
	return new HttpError(403, {
		error: {
			code: 403,
			message: 'Request had insufficient authentication scopes.',
			errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
			status: 'PERMISSION_DENIED',
			details: [
				{
					'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
					reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
					domain: 'googleapis.com',
					metadata: { service: 'gmail.googleapis.com' },
				},
			],
		},
	});
}

function decodeJsonSegment(segment: string): Record<string, unknown> {
	const parsed: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
	if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
	return parsed as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class FakeAuth {
	readonly tokens = new Map<string, IssuedToken>();
	readonly jwtGrants: JwtGrantRecord[] = [];
	acceptAnyToken: boolean;
	refreshTokens: string[] | undefined;
	delegationAuthorized: boolean;
	delegatedScopes: string[] | undefined;
	requiredScope: string | string[] | undefined;
	grantedScopes: string[];
	private readonly revoked = new Set<string>();
	private keyDeleted = false;
	private readonly publicKey: KeyObject | undefined;

	constructor(private readonly options: AuthOptions = {}) {
		this.acceptAnyToken = options.acceptAnyToken ?? false;
		this.refreshTokens = options.refreshTokens;
		this.delegationAuthorized = options.delegationAuthorized ?? true;
		this.delegatedScopes = options.delegatedScopes;
		this.requiredScope = options.requiredScope;
		this.grantedScopes = options.grantedScopes ?? [SCOPES.readonly];
		const key = options.serviceAccount?.publicKey;
		this.publicKey = key === undefined ? undefined : typeof key === 'string' ? createPublicKey(key) : key;
	}

	private get ttlSeconds(): number {
		return this.options.tokenTtlSeconds ?? 3599;
	}

	/** Pre-seed a valid access token (default scope gmail.readonly). */
	issueToken(opts: { scopes?: string[]; ttlSeconds?: number; subject?: string; grant?: Grant; clientEmail?: string } = {}): string {
		const token = `ya29.fake-${randomBytes(24).toString('base64url')}`;
		this.tokens.set(token, {
			token,
			scopes: opts.scopes ?? [SCOPES.readonly],
			expiresAt: Date.now() + (opts.ttlSeconds ?? this.ttlSeconds) * 1000,
			grant: opts.grant ?? 'seeded',
			subject: opts.subject,
			clientEmail: opts.clientEmail,
		});
		return token;
	}

	/** Every token issued so far now answers 401, forcing clients to refresh. */
	expireTokens(): void {
		for (const t of this.tokens.values()) t.expiresAt = 0;
	}

	/** The service account's key was deleted in the console: its JWTs are refused from now on. */
	deleteServiceAccountKey(): void {
		this.keyDeleted = true;
		this.expireTokens();
	}

	revokeRefreshToken(refreshToken: string): void {
		this.revoked.add(refreshToken);
	}

	/** Validates an `Authorization` header for an API call. */
	authenticate(header: string | undefined): IssuedToken {
		const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
		if (!m) throw unauthenticated(true);
		const known = this.tokens.get(m[1]);
		if (known) {
			if (known.expiresAt <= Date.now()) throw unauthenticated(false);
			return known;
		}
		if (this.acceptAnyToken) return { token: m[1], scopes: [SCOPES.full], expiresAt: Number.MAX_SAFE_INTEGER, grant: 'any' };
		throw unauthenticated(false);
	}

	/** Checks a token against the method's allowed scopes and the test's `requiredScope`. */
	requireScopes(token: IssuedToken, allowed: readonly string[]): void {
		if (!token.scopes.some((s) => allowed.includes(s))) throw insufficientScopes();
		const required = this.requiredScope === undefined ? [] : [this.requiredScope].flat();
		if (required.length > 0 && !token.scopes.some((s) => required.includes(s))) throw insufficientScopes();
	}

	/** POST /token with a form body. Returns the JSON to send (status 200). */
	handleTokenRequest(form: URLSearchParams, authorization: string | undefined): Record<string, unknown> {
		const grantType = form.get('grant_type');
		if (grantType === 'refresh_token') return this.refreshGrant(form, authorization);
		if (grantType === JWT_GRANT) return this.jwtGrant(form.get('assertion') ?? '');
		if (!grantType) throw oauthError(400, 'unsupported_grant_type', 'Invalid grant_type: ');
		throw oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
	}

	private tokenResponse(info: Omit<IssuedToken, 'token' | 'expiresAt'>): Record<string, unknown> {
		const accessToken = this.issueToken({ ...info, ttlSeconds: this.ttlSeconds });
		return { access_token: accessToken, expires_in: this.ttlSeconds, scope: info.scopes.join(' '), token_type: 'Bearer' };
	}

	private refreshGrant(form: URLSearchParams, authorization: string | undefined): Record<string, unknown> {
		let clientId = form.get('client_id') ?? undefined;
		let clientSecret = form.get('client_secret') ?? undefined;
		const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
		if (basic) {
			const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
			clientId = decodeURIComponent(id ?? '');
			clientSecret = decodeURIComponent(secret ?? '');
		}
		if (this.options.clientId !== undefined && clientId !== this.options.clientId) {
			throw oauthError(401, 'invalid_client', 'The OAuth client was not found.');
		}
		if (this.options.clientSecret !== undefined && clientSecret !== this.options.clientSecret) {
			throw oauthError(401, 'invalid_client', 'Unauthorized');
		}
		const refreshToken = form.get('refresh_token');
		if (!refreshToken) throw oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
		if (this.revoked.has(refreshToken) || (this.refreshTokens && !this.refreshTokens.includes(refreshToken))) {
			throw oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
		}
		const requested = form.get('scope')?.split(/\s+/).filter(Boolean);
		return this.tokenResponse({ scopes: requested && requested.length > 0 ? requested : [...this.grantedScopes], grant: 'refresh_token' });
	}

	private jwtGrant(assertion: string): Record<string, unknown> {
		const parts = assertion.split('.');
		let header: Record<string, unknown>;
		let claims: Record<string, unknown>;
		try {
			if (parts.length !== 3) throw new Error('segments');
			header = decodeJsonSegment(parts[0]);
			claims = decodeJsonSegment(parts[1]);
		} catch {
			throw oauthError(400, 'invalid_grant', 'Invalid JWT: malformed assertion.');
		}
		if (header.alg !== 'RS256' || this.keyDeleted) throw oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
		let signatureVerified = false;
		if (this.publicKey) {
			const ok = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'));
			if (!ok) throw oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
			signatureVerified = true;
		}
		const iss = str(claims.iss) ?? '';
		const expected = this.options.serviceAccount?.clientEmail;
		if (expected !== undefined && iss !== expected) throw oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
		const aud = str(claims.aud) ?? '';
		if (!JWT_AUDIENCES.includes(aud)) {
			throw oauthError(400, 'invalid_grant', 'Invalid JWT: Failed audience check. The right audience is https://oauth2.googleapis.com/token');
		}
		const now = Math.floor(Date.now() / 1000);
		const iat = typeof claims.iat === 'number' ? claims.iat : NaN;
		const exp = typeof claims.exp === 'number' ? claims.exp : NaN;
		if (!(iat <= now + 300 && exp > now - 300 && exp - iat <= 3600)) {
			throw oauthError(
				400,
				'invalid_grant',
				'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the assertion and use a clock with skew to account for clock differences between systems.',
			);
		}
		const scope = str(claims.scope);
		if (!scope) throw oauthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
		const sub = str(claims.sub);
		this.jwtGrants.push({ iss, sub, scope, aud, signatureVerified, at: Date.now() });
		const requested = scope.split(/\s+/).filter(Boolean);
		const delegated = this.delegatedScopes;
		// Google answers the same whether no scope or only some of them are delegated.
		if (sub !== undefined && (!this.delegationAuthorized || (delegated && !requested.every((s) => delegated.includes(s))))) {
			throw oauthError(
				401,
				'unauthorized_client',
				'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
			);
		}
		return this.tokenResponse({ scopes: requested, grant: 'jwt-bearer', subject: sub, clientEmail: iss });
	}
}
