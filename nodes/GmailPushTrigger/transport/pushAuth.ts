/**
 * Is this POST really from our push subscription? Checked before anything calls Gmail: oidc
 * verifies Pub/Sub's signed JWT (google-auth-library, then the account and email_verified),
 * sharedSecret the `?token=` in the endpoint, none accepts (the panel warns).
 */
import { timingSafeEqual } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';

export type PushAuthMode = 'oidc' | 'sharedSecret' | 'none';

export interface PushAuthConfig {
	mode: PushAuthMode;
	/** Expected `aud`: the push endpoint URL unless the subscription sets another audience. */
	audience?: string;
	/** Expected `email`: the service account the subscription signs with. */
	serviceAccountEmail?: string;
	secret?: string;
}

export interface PushCredentials {
	authorization?: string;
	token?: string;
}

export type PushAuthResult = { ok: true } | { ok: false; status: 401 | 403 | 503; reason: string };

/** How google-auth-library's verifyIdToken words a failure to fetch Google's certs (and only that). */
const CERTS_FETCH_FAILED = 'Failed to retrieve verification certificates';

function sameSecret(given: string, expected: string): boolean {
	const a = Buffer.from(given);
	const b = Buffer.from(expected);
	return a.length === b.length && timingSafeEqual(a, b);
}

/** `verifier` checks OIDC tokens: keep one per process, it caches Google's public keys as their Cache-Control allows. */
export async function verifyPush(config: PushAuthConfig, request: PushCredentials, verifier: () => OAuth2Client = () => new OAuth2Client()): Promise<PushAuthResult> {
	if (config.mode === 'none') return { ok: true };
	if (config.mode === 'sharedSecret') {
		if (!config.secret) return { ok: false, status: 403, reason: 'no shared secret is configured on the node' };
		if (typeof request.token !== 'string' || request.token === '') return { ok: false, status: 401, reason: 'missing token query parameter' };
		return sameSecret(request.token, config.secret) ? { ok: true } : { ok: false, status: 403, reason: 'wrong token' };
	}

	const match = /^Bearer\s+(\S+)$/i.exec(request.authorization ?? '');
	if (!match) return { ok: false, status: 401, reason: 'missing Authorization: Bearer token (turn on authentication for the push subscription)' };
	let payload: { email?: string; email_verified?: boolean; aud?: string | string[] } | undefined;
	try {
		const ticket = await verifier().verifyIdToken({ idToken: match[1], ...(config.audience && { audience: config.audience }) });
		payload = ticket.getPayload();
	} catch (error) {
		const message = String((error as Error)?.message ?? error);
		// Google's keys could not be fetched: not the sender's fault, let Pub/Sub retry. Only the
		// library's own prefix for that failure counts: the other messages quote the token, whose
		// text the sender chooses ("Bearer socket.fetch.certs" must be a 401, not a 503).
		if (message.startsWith(CERTS_FETCH_FAILED)) {
			return { ok: false, status: 503, reason: 'could not fetch Google\'s public keys to check the push token' };
		}
		return { ok: false, status: 401, reason: `push token rejected: ${message.split('\n')[0].slice(0, 200)}` };
	}
	if (!payload) return { ok: false, status: 401, reason: 'push token has no payload' };
	if (!config.audience) return { ok: false, status: 403, reason: 'no audience configured to check the push token against' };
	if (!config.serviceAccountEmail) return { ok: false, status: 403, reason: 'no service account email configured to check the push token against' };
	if (payload.email_verified !== true) return { ok: false, status: 403, reason: 'push token email is not verified' };
	if (payload.email?.toLowerCase() !== config.serviceAccountEmail.trim().toLowerCase()) {
		return { ok: false, status: 403, reason: 'push token is for another service account' };
	}
	return { ok: true };
}
