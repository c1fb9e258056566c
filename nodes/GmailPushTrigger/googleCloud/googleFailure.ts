/** Google's refusals, read from its status, reason and message (Google's words, not ours). */
import type { GmailFix } from './findings';

export interface GoogleFailure {
	status: number;
	message: string;
	reason?: string;
}

export function failureOf(error: unknown): GoogleFailure {
	const e = (error ?? {}) as Partial<GoogleFailure>;
	return { status: typeof e.status === 'number' ? e.status : 0, message: typeof e.message === 'string' ? e.message : String(error), reason: e.reason };
}

const said = (f: GoogleFailure) => `${f.message} ${f.reason ?? ''}`;

/** A call to an API the project has not enabled (403 SERVICE_DISABLED). */
export const isApiDisabled = (f: GoogleFailure) => f.status === 403 && /has not been used in project|is disabled|SERVICE_DISABLED|accessNotConfigured/i.test(said(f));
export const isScopeMissing = (f: GoogleFailure) => f.status === 403 && /insufficient authentication scopes|ACCESS_TOKEN_SCOPE_INSUFFICIENT|insufficientPermissions/i.test(said(f));
export const isDenied = (f: GoogleFailure) => f.status === 403 || f.status === 401;

/** Google refused the grant because an organisation policy restricts who may be in IAM policies. */
export const isOrganisationPolicy = (f: GoogleFailure) => f.reason === 'FAILED_PRECONDITION' && /organization|constraint|permitted customer/i.test(f.message);

/** What fixes a refused Gmail profile read. */
export function gmailFix(f: GoogleFailure): GmailFix {
	if (f.status === 401 || /invalid_grant|revoked|expired/i.test(f.message)) return 'reconnect';
	if (/delegat|unauthorized_client/i.test(f.message)) return 'delegation';
	if (/mail service not enabled|failedPrecondition/i.test(said(f))) return 'no-mailbox';
	return 'credential';
}
