/**
 * With a shared secret, the push endpoint carries it: `<Production URL>?token=<secret>`. Text a
 * person may see (an error, a log line, a set-up check line, execution data) shows the token as
 * `token=…`; only the comparisons (does the subscription push where the node wants?) use the
 * real endpoints.
 */

export const MASK = '…';

/**
 * A token's value: up to whitespace, a quote, an angle bracket, a backslash, `&` or `#`. A value
 * that is already the mask (followed by punctuation of the sentence) is left as it is.
 */
const TOKEN_VALUE = /(token(?:=|%3D))(?!…(?:[\s&#"'<>\\),.;:]|$))[^\s&#"'<>\\]+/gi;
const TOKEN_IN_URL = /[?&]token=([^&#]*)/g;
/** Shorter tokens are masked only where they follow `token=`: as plain text they could be any word. */
const MIN_LITERAL_LENGTH = 8;

/**
 * `text` with every `token=` value masked and, anywhere in it, every token the `endpoints` carry
 * (as written, and decoded: Google may quote an endpoint either way).
 */
export function redact(text: string, endpoints: Array<string | undefined> = []): string {
	let masked = text;
	const secrets = [...new Set(endpoints.flatMap((e) => tokensOf(e)))].filter((s) => s.length >= MIN_LITERAL_LENGTH).sort((a, b) => b.length - a.length);
	for (const secret of secrets) masked = masked.split(secret).join(MASK);
	return masked.replace(TOKEN_VALUE, `$1${MASK}`);
}

/** The token values of an endpoint's query, as written and decoded. */
export function tokensOf(endpoint: string | undefined): string[] {
	const tokens: string[] = [];
	for (const [, raw] of (endpoint ?? '').matchAll(TOKEN_IN_URL)) {
		if (!raw) continue;
		tokens.push(raw);
		for (const form of [raw, raw.replace(/\+/g, ' ')]) {
			try {
				tokens.push(decodeURIComponent(form));
			} catch {
				// not percent-encoded text: the raw form is all there is
			}
		}
	}
	return [...new Set(tokens)];
}

/** The endpoint without its token parameters: what is left to compare when only the secret changed. */
export function withoutTokens(endpoint: string): string {
	return endpoint.replace(/([?&])token=[^&#]*(&?)/g, (_match, separator: string, next: string) => (next ? separator : '')).replace(/\?(?=#|$)/, '');
}
