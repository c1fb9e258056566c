/**
 * Slack's Web API method chat.postMessage, as n8n's Slack node calls it (POST
 * https://slack.com/api/chat.postMessage with the bot token as a Bearer header). Routes for the
 * fake server, which n8n reaches as slack.com through the loopback preload. Slack answers HTTP
 * 200 with `ok: false` and an error code for a bad token or call, as here.
 */
import type { Route } from './fakeGoogle';

export interface SlackMessage {
	channel: string;
	text: string;
	at: number;
	body: Record<string, unknown>;
}

export interface FakeSlack {
	routes: Route[];
	readonly messages: SlackMessage[];
}

export function createFakeSlack(token: string): FakeSlack {
	const messages: SlackMessage[] = [];
	let ts = 1_700_000_000;
	const routes: Route[] = [
		{
			name: 'slack.chat.postMessage',
			httpMethod: 'POST',
			pattern: /^\/api\/chat\.postMessage$/,
			handle: (req) => {
				if (req.headers.authorization !== `Bearer ${token}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
				const text = req.body.toString('utf8');
				const body = (req.headers['content-type'] ?? '').includes('json') ? (JSON.parse(text || '{}') as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(text));
				const channel = String(body.channel ?? '');
				if (!channel) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
				if (!body.text && !body.blocks && !body.attachments) return { status: 200, body: { ok: false, error: 'no_text' } };
				const stamp = `${++ts}.000100`;
				messages.push({ channel, text: String(body.text ?? ''), at: Date.now(), body });
				return { status: 200, body: { ok: true, channel: 'C0EXAMPLE', ts: stamp, message: { type: 'message', text: body.text, ts: stamp, bot_id: 'B0EXAMPLE' } } };
			},
		},
	];
	return { routes, messages };
}
