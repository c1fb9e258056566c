/**
 * The shared secret in a push endpoint (?token=<secret>) never reaches text: the masking itself
 * and the error n8n receives (test/unit/googleCloud/secrets.test.ts: the set-up and its check).
 */
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { redact, tokensOf, withoutSecrets, withoutTokens } from '../../nodes/GmailPushTrigger/core/redact';

import { at, leaks, NEW, OLD, URL_ } from '../support/secretForms';

describe('redact', () => {
	it('masks the value of every token= parameter, in a URL and in a sentence, and keeps the rest', () => {
		expect(redact(`${URL_}?token=abc123`)).toBe(`${URL_}?token=…`);
		expect(redact(`${URL_}?a=1&token=abc123&b=2#top`)).toBe(`${URL_}?a=1&token=…&b=2#top`);
		// A raw token runs to the next space: punctuation after it goes too, since a secret may end in ) or .
		expect(redact(`pushes to ${URL_}?token=s3cr3t-value, not to ${URL_}?token=other-value).`)).toBe(`pushes to ${URL_}?token=… not to ${URL_}?token=…`);
		expect(redact('{"pushEndpoint":"https://x/hook?token=abc"}')).toBe('{"pushEndpoint":"https://x/hook?token=…"}');
		expect(redact('https%3A%2F%2Fx%2Fhook%3Ftoken%3Dabc123 and more')).toBe('https%3A%2F%2Fx%2Fhook%3Ftoken%3D… and more');
		expect(redact('nothing to hide: token= and ?token=<secret>')).toBe('nothing to hide: token= and ?token=<secret>');
	});

	it('masks a token that is already masked no further, and keeps the punctuation after it', () => {
		const once = redact(`(to ${URL_}?token=…); pull needs more. ${URL_}?token=…, then`);
		expect(once).toBe(`(to ${URL_}?token=…); pull needs more. ${URL_}?token=…, then`);
		expect(redact(once)).toBe(once);
		expect(redact(`${URL_}?token=…tail`)).toBe(`${URL_}?token=…`);
	});

	it('masks the tokens of the endpoints it is given anywhere in the text, as written or decoded', () => {
		const text = `Google said: endpoint ${NEW} (or ${encodeURIComponent(NEW)}) is refused; old: ${OLD}`;
		expect(leaks(redact(text, [at(NEW), at(OLD)]))).toEqual([]);
		expect(redact(text, [at(NEW), at(OLD)])).toBe('Google said: endpoint … (or …) is refused; old: …');
		// A short token is no word to hunt for in free text, only after token=.
		expect(redact('a bc d', ['https://x?token=bc'])).toBe('a bc d');
	});

	it('reads the tokens of an endpoint, and the endpoint without them', () => {
		expect(tokensOf(at(NEW))).toEqual(expect.arrayContaining([NEW, encodeURIComponent(NEW)]));
		expect(tokensOf(URL_)).toEqual([]);
		expect(withoutTokens(at(NEW))).toBe(URL_);
		expect(withoutTokens(`${URL_}?a=1&token=x&b=2`)).toBe(`${URL_}?a=1&b=2`);
	});
});

describe('withoutSecrets, the last stop before n8n', () => {
	const node: INode = { id: 'n', name: 'Gmail Push Trigger', type: 'n8n-nodes-gmail-push.gmailPushTrigger', typeVersion: 1.1, position: [0, 0], parameters: {} };

	it('masks the message, the description, the stack and the messages of an n8n error, keeping its class', () => {
		const error = new NodeOperationError(node, `Setting up Google Cloud failed: endpoint=${at(NEW)}`, { description: `was ${at(OLD)}` });
		error.messages.push(`also ${at(NEW)}`);
		const masked = withoutSecrets(error, [at(NEW), at(OLD)]);
		expect(masked).toBe(error);
		expect(masked).toBeInstanceOf(NodeOperationError);
		expect(masked.message).toBe(`Setting up Google Cloud failed: endpoint=${URL_}?token=…`);
		expect(masked.description).toBe(`was ${URL_}?token=…`);
		const saved = JSON.stringify({ ...masked, message: masked.message, stack: masked.stack });
		expect(leaks(saved)).toEqual([]);
		expect(masked.stack).toContain('token=…');
	});

	it("masks Google's answer a NodeApiError keeps, and keeps its HTTP code", () => {
		const error = new NodeApiError(node, { message: `Invalid push endpoint given (endpoint=${at(NEW)})` } as JsonObject, { message: `refused: ${at(NEW)}`, httpCode: '400' });
		withoutSecrets(error);
		expect(error.httpCode).toBe('400');
		expect(leaks(JSON.stringify({ ...error, message: error.message, stack: error.stack }))).toEqual([]);
		expect(withoutSecrets(`plain ${at(NEW)}`)).toBe(`plain ${URL_}?token=…`);
	});
});
