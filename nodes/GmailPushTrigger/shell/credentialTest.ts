/**
 * The service-account credential test: sign a JWT, get a token, read the profile. Each failure
 * says what to fix (bad key, no delegation, missing scope).
 */
import type { ICredentialsDecrypted, INodeCredentialTestResult } from 'n8n-workflow';
import { GmailApiError } from '../core/port';
import { createGmailPort } from '../transport/gmail';
import { serviceAccountAuth, GMAIL_READONLY_SCOPE, type ServiceAccountCredential } from '../transport/auth';
import { fixHint } from './errors';

export async function testServiceAccount(credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	const data = (credential.data ?? {}) as unknown as ServiceAccountCredential;
	if (!data.email?.trim()) return { status: 'Error', message: 'Service Account Email is empty' };
	if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(data.privateKey ?? '')) {
		return { status: 'Error', message: 'Private Key is not a PEM key: paste the "private_key" value of the JSON key file, including the BEGIN/END lines' };
	}
	const auth = serviceAccountAuth(data, [GMAIL_READONLY_SCOPE]);
	try {
		await auth.getAccessToken();
	} catch (error) {
		const text = (error as Error).message ?? String(error);
		if (/unauthorized_client/i.test(text)) {
			return { status: 'Error', message: `Google refused to issue a token for ${data.delegatedEmail || data.email}: allow the service account's client id for ${GMAIL_READONLY_SCOPE} in the Workspace domain-wide delegation settings (${text})` };
		}
		return { status: 'Error', message: `Could not sign in with this key: ${text}. Check the email and that the private key belongs to it.` };
	}
	try {
		const profile = await createGmailPort(auth).getProfile();
		return { status: 'OK', message: `Connection successful: can read ${profile.emailAddress}` };
	} catch (error) {
		if (error instanceof GmailApiError) {
			return { status: 'Error', message: [error.message, fixHint(error)].filter(Boolean).join('. ') };
		}
		return { status: 'Error', message: (error as Error).message };
	}
}
