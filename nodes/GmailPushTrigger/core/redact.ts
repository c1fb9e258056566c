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

/** The parts of an error n8n shows, logs or saves with an execution. */
type ShownError = Error & { description?: string | null; messages?: unknown[]; errorResponse?: unknown; cause?: unknown };

/**
 * The error with every push token masked where n8n shows, logs or saves it (message,
 * description, stack, messages, the raw response): the last stop before n8n, whatever made the
 * text. Changed in place, so its class and HTTP code stay.
 */
export function withoutSecrets<E>(error: E, endpoints: Array<string | undefined> = []): E {
	if (!(error instanceof Error)) return typeof error === 'string' ? (redact(error, endpoints) as E) : error;
	const shown = error as ShownError;
	const mask = (text: string) => redact(text, endpoints);
	shown.message = mask(shown.message);
	if (typeof shown.stack === 'string') shown.stack = mask(shown.stack);
	if (typeof shown.description === 'string') shown.description = mask(shown.description);
	if (Array.isArray(shown.messages)) shown.messages = shown.messages.map((m) => (typeof m === 'string' ? mask(m) : m));
	for (const key of ['errorResponse', 'cause'] as const) {
		const value = shown[key];
		// Plain data (Google's answer) only: an Error cause is not saved by n8n (ExecutionBaseError.toJSON).
		if (value && typeof value === 'object' && !(value instanceof Error)) shown[key] = maskedData(value, mask);
	}
	return error;
}

function maskedData(value: object, mask: (text: string) => string): unknown {
	let json: string;
	try {
		json = JSON.stringify(value);
	} catch {
		return value; // circular: not what n8n can save either
	}
	const masked = mask(json);
	if (masked === json) return value;
	try {
		return JSON.parse(masked) as unknown;
	} catch {
		return masked;
	}
}
