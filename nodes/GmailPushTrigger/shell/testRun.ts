/**
 * Testing a push trigger: n8n waits for a call to the *test* URL, which Pub/Sub never calls. So
 * we call it ourselves, marked with a secret of this process, and the webhook answers with the
 * newest matching email, touching neither the live watch, the cursor nor any subscription.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SELF_TEST_HEADER = 'x-gmail-push-trigger-test';

/** Known only inside this n8n process. */
const SELF_TEST_TOKEN = randomBytes(24).toString('hex');

export function isSelfTestCall(headerValue: unknown): boolean {
	if (typeof headerValue !== 'string') return false;
	const given = Buffer.from(headerValue);
	const expected = Buffer.from(SELF_TEST_TOKEN);
	return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The URLs to try, in order: n8n on loopback first (a public URL behind NAT may not loop back),
 * then the URL n8n advertises.
 */
export function selfTestUrls(advertisedUrl: string, env: NodeJS.ProcessEnv = process.env): string[] {
	const urls: string[] = [];
	try {
		const advertised = new URL(advertisedUrl);
		const protocol = env.N8N_PROTOCOL === 'https' ? 'https' : 'http';
		const port = env.N8N_PORT ?? '5678';
		const prefix = (env.N8N_PATH ?? '/').replace(/\/$/, '');
		const testEndpoint = env.N8N_ENDPOINT_WEBHOOK_TEST ?? 'webhook-test';
		const tail = advertised.pathname.slice(advertised.pathname.indexOf(`/${testEndpoint}/`));
		if (tail.startsWith(`/${testEndpoint}/`)) urls.push(`${protocol}://127.0.0.1:${port}${prefix}${tail}`);
	} catch {
		// Not a URL we can read: only the advertised one is tried.
	}
	if (!urls.includes(advertisedUrl)) urls.push(advertisedUrl);
	return urls;
}

/** The Production URL of the node whose test URL n8n gave (n8n's endpoints differ in one path part). */
export function productionUrlOf(testUrl: string, env: NodeJS.ProcessEnv = process.env): string {
	const trim = (value: string) => value.replace(/^\/+|\/+$/g, '');
	const testEndpoint = trim(env.N8N_ENDPOINT_WEBHOOK_TEST ?? 'webhook-test');
	const endpoint = trim(env.N8N_ENDPOINT_WEBHOOK ?? 'webhook');
	return testUrl.replace(`/${testEndpoint}/`, `/${endpoint}/`);
}

/** Fire and forget: a few tries over ~5 s; the editor keeps waiting if all fail. */
export function scheduleSelfTestCall(advertisedUrl: string, log: (message: string) => void, delayMs = 500): void {
	const urls = selfTestUrls(advertisedUrl);
	const attempt = async (round: number): Promise<void> => {
		for (const url of urls) {
			try {
				const response = await fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json', [SELF_TEST_HEADER]: SELF_TEST_TOKEN },
					body: '{}',
					signal: AbortSignal.timeout(20_000),
				});
				if (response.status < 400) return;
			} catch {
				// try the next URL
			}
		}
		if (round < 4) setTimeout(() => void attempt(round + 1), 1000).unref?.();
		else log(`Gmail Push Trigger: could not reach the test URL ${advertisedUrl} to fetch a sample; send a real notification or use pull/poll delivery to test`);
	};
	setTimeout(() => void attempt(0), delayMs).unref?.();
}
