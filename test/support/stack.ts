/**
 * What every e2e suite starts from: the fake Google over HTTPS on a free port (n8n's preload
 * redirects Google's 443 there via FAKE_GOOGLE_PORT, since 127.0.0.1:443 may be shared), a real
 * n8n of one major with the packed package, and a service-account credential with a real RSA key
 * that the fake verifies.
 */
import { generateKeyPairSync } from 'crypto';
import { startFakeGoogle, type FakeGoogle, type FakeGoogleOptions } from './fakeGoogle';
import { startSession, type CredentialRef, type N8nApi, type N8nMajor, type N8nSession } from './n8n';

export const EMAIL = 'user@example.com';
export const PROJECT = 'test-project';
export const SERVICE_ACCOUNT = 'gmail-push-e2e@test-project.iam.gserviceaccount.com';

export interface Stack {
	fake: FakeGoogle;
	session: N8nSession;
	credential: CredentialRef;
	/** The credential's PEM key (suites check it never reaches n8n's log). */
	privateKey: string;
	close(): Promise<void>;
}

export interface StackOptions {
	/** Extra environment for n8n. */
	env?: Record<string, string>;
	/** Extra options for the fake (e.g. a seed). */
	fake?: Partial<FakeGoogleOptions>;
}

/** The fake Google over HTTPS on a free port, trusting a fresh service-account key pair. */
export async function startServiceAccountFake(options: Partial<FakeGoogleOptions> = {}): Promise<{ fake: FakeGoogle; privateKey: string }> {
	const { publicKey, privateKey } = generateKeyPairSync('rsa', {
		modulusLength: 2048,
		publicKeyEncoding: { type: 'spki', format: 'pem' },
		privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
	});
	const fake = await startFakeGoogle({
		emailAddress: EMAIL,
		expectedProject: PROJECT,
		serviceAccount: { clientEmail: SERVICE_ACCOUNT, publicKey },
		...options,
		https: true,
		httpsPort: 0,
	});
	return { fake, privateKey };
}

/** The service-account credential the suites use, created through n8n's API. */
export async function createServiceAccountCredential(api: N8nApi, privateKey: string): Promise<CredentialRef> {
	return await api.createCredential('Gmail Push service account', 'gmailPushServiceAccountApi', {
		email: SERVICE_ACCOUNT,
		privateKey,
		delegatedEmail: EMAIL,
	});
}

export async function startStack(major: N8nMajor, options: StackOptions = {}): Promise<Stack> {
	const { fake, privateKey } = await startServiceAccountFake(options.fake);
	let session: N8nSession | undefined;
	try {
		session = await startSession({ major, env: { ...fake.childEnv(), ...options.env } });
		const credential = await createServiceAccountCredential(session.api, privateKey);
		const started = session;
		return {
			fake,
			session: started,
			credential,
			privateKey,
			async close() {
				await started.close();
				await fake.close();
			},
		};
	} catch (error) {
		await session?.close();
		await fake.close();
		throw error;
	}
}

/** Runs a test step; on failure appends the tail of n8n's log to the error, which is where the cause usually is. */
export async function withLogTail<T>(session: N8nSession, fn: () => Promise<T>): Promise<T> {
	try {
		return await fn();
	} catch (error) {
		const e = error as Error;
		e.message += `\n--- n8n ${session.n8n.major}.x log tail (${session.n8n.logFile}) ---\n${session.n8n.tail(60)}`;
		throw e;
	}
}
