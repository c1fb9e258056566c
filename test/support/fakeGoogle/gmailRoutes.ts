/** Gmail REST surface (users.watch/stop/getProfile, history, messages, labels) and the OAuth token endpoint. */
import { SCOPES, type FakeAuth, type IssuedToken } from './auth';
import { HttpError } from './errors';
import type { Faults } from './faults';
import { HISTORY_TYPES, parseHistoryId, type HistoryType, type Mailbox, type StoredMessage, type WatchState } from './mailbox';
import { base64url, type GmailPart } from './mime';
import type { Route, RouteRequest, RouteResponse } from './server';
import { UnsupportedQueryError, searchMessages } from './search';

/** Gmail quota units per method (developers.google.com/gmail/api/reference/quota). */
export const QUOTA_UNITS: Record<string, number> = {
	'users.getProfile': 1,
	'users.watch': 100,
	'users.stop': 50,
	'history.list': 2,
	'messages.get': 5,
	'messages.list': 5,
	'messages.attachments.get': 5,
	'labels.list': 1,
};

export interface WatchEvent extends WatchState {
	emailAddress: string;
}

export interface GmailRouteContext {
	mailbox: Mailbox;
	auth: FakeAuth;
	faults: Faults;
	/** A topic outside this project is refused, as Gmail refuses topics of other projects. */
	expectedProject?: string;
	onWatch?: (watch: WatchEvent) => void | Promise<void>;
}

const READ: readonly string[] = [SCOPES.full, SCOPES.modify, SCOPES.readonly, SCOPES.metadata];
const BODY_READ: readonly string[] = [SCOPES.full, SCOPES.modify, SCOPES.readonly];

const USER = '/gmail/v1/users/([^/]+)';
const path = (suffix: string): RegExp => new RegExp(`^${USER}${suffix}$`);

const ok = (body: unknown): RouteResponse => ({ status: 200, body });
const bad = (message: string): HttpError => HttpError.google(400, { message });

function parseLimit(raw: string | null, def: number, max: number): number {
	if (raw === null || raw === '') return def;
	if (!/^\d+$/.test(raw)) throw bad(`Invalid value at 'max_results' (TYPE_UINT32), "${raw}"`);
	const n = Number(raw);
	return n === 0 ? def : Math.min(n, max);
}

function onlyMetadataScope(token: IssuedToken | undefined): boolean {
	return !!token && token.scopes.includes(SCOPES.metadata) && !token.scopes.some((s) => BODY_READ.includes(s));
}

export function gmailRoutes(ctx: GmailRouteContext): Route[] {
	const { mailbox, auth } = ctx;

	/** Auth + scope + userId checks shared by every Gmail method. */
	const guard = (req: RouteRequest, allowed: readonly string[]): void => {
		const token = req.token;
		if (!token) throw HttpError.google(401);
		// Gmail refuses a service-account token that is not impersonating a user (no `sub`).
		if (token.grant === 'jwt-bearer' && !token.subject) {
			throw new HttpError(400, {
				error: {
					code: 400,
					message: 'Precondition check failed.',
					errors: [{ message: 'Precondition check failed.', domain: 'global', reason: 'failedPrecondition' }],
					status: 'FAILED_PRECONDITION',
				},
			});
		}
		auth.requireScopes(token, allowed);
		const userId = req.params[0];
		const self = token.subject ?? mailbox.emailAddress;
		if (userId !== 'me' && userId.toLowerCase() !== self.toLowerCase() && userId.toLowerCase() !== mailbox.emailAddress.toLowerCase()) {
			throw HttpError.google(403, { message: `Delegation denied for ${userId}`, reason: 'forbidden', domain: 'global' });
		}
	};

	const message = (req: RouteRequest): StoredMessage => {
		const id = req.params[1];
		if (!/^[0-9a-f]{1,16}$/i.test(id)) throw bad('Invalid id value');
		const msg = mailbox.getMessage(id);
		if (!msg) throw HttpError.google(404);
		return msg;
	};

	return [
		{
			name: 'users.getProfile',
			httpMethod: 'GET',
			pattern: path('/profile'),
			auth: true,
			handle: (req) => {
				guard(req, [...READ, SCOPES.compose]);
				return ok(mailbox.profile());
			},
		},
		{
			name: 'users.watch',
			httpMethod: 'POST',
			pattern: path('/watch'),
			auth: true,
			handle: (req) => {
				guard(req, READ);
				const body = parseJson(req.body);
				const watchError = ctx.faults.watchError;
				if (watchError) {
					throw HttpError.google(watchError.status, {
						message: watchError.message,
						reason: watchError.reason ?? (watchError.status === 403 ? 'forbidden' : undefined),
						domain: 'global',
					});
				}
				const topicName = typeof body.topicName === 'string' ? body.topicName : '';
				const topic = /^projects\/([^/]+)\/topics\/[^/]+$/.exec(topicName);
				if (!topic) throw bad('Invalid topicName does not match projects/SOME-PROJECT/topics/SOME-TOPIC');
				if (ctx.expectedProject !== undefined && topic[1] !== ctx.expectedProject) {
					throw bad(`Invalid topicName does not match projects/${ctx.expectedProject}/topics/*`);
				}
				const labelIds = Array.isArray(body.labelIds) ? body.labelIds.map(String) : [];
				for (const l of labelIds) if (!mailbox.labelExists(l)) throw bad(`Invalid label: ${l}`);
				const rawBehavior = body.labelFilterBehavior ?? body.labelFilterAction ?? 'INCLUDE';
				const behavior = String(rawBehavior).toUpperCase();
				if (behavior !== 'INCLUDE' && behavior !== 'EXCLUDE') {
					throw bad(`Invalid value at 'label_filter_behavior' (type.googleapis.com/caribou.api.proto.Watch.LabelFilterBehavior), "${String(rawBehavior)}"`);
				}
				const watch: WatchState = {
					topicName,
					labelIds,
					labelFilterBehavior: behavior,
					historyId: mailbox.historyId,
					expiration: String(Date.now() + 7 * 24 * 3600 * 1000),
					createdAt: Date.now(),
				};
				mailbox.watch = watch;
				// Before the reply is written: Gmail's first notification may beat the watch() response.
				if (ctx.onWatch) {
					try {
						void Promise.resolve(ctx.onWatch({ ...watch, emailAddress: mailbox.emailAddress })).catch(() => undefined);
					} catch {
						// a failing test hook must not turn into a Gmail error
					}
				}
				return ok({ historyId: watch.historyId, expiration: watch.expiration });
			},
		},
		{
			name: 'users.stop',
			httpMethod: 'POST',
			pattern: path('/stop'),
			auth: true,
			handle: (req) => {
				guard(req, READ);
				mailbox.watch = undefined;
				return { status: 204 };
			},
		},
		{
			name: 'history.list',
			httpMethod: 'GET',
			pattern: path('/history'),
			auth: true,
			handle: (req) => {
				guard(req, READ);
				const rawStart = req.query.get('startHistoryId');
				if (rawStart === null || rawStart === '') throw bad('Required parameter: startHistoryId');
				const start = parseHistoryId(rawStart);
				if (start === undefined) throw bad(`Invalid value at 'start_history_id' (TYPE_UINT64), "${rawStart}"`);
				if (!mailbox.isHistoryAvailable(start)) throw HttpError.google(404);
				const types = parseHistoryTypes(req.query.getAll('historyTypes'));
				const maxResults = parseLimit(req.query.get('maxResults'), 100, 500);
				const pageToken = req.query.get('pageToken');
				let afterId: bigint | undefined;
				if (pageToken) {
					afterId = parseHistoryId(pageToken);
					if (afterId === undefined) throw bad('Invalid pageToken');
				}
				const labelId = req.query.get('labelId') ?? undefined;
				const page = mailbox.listHistory({ startHistoryId: start, afterId, types, labelId, maxResults });
				const body: Record<string, unknown> = {};
				if (page.records.length > 0) body.history = page.records;
				if (page.more && page.lastId !== undefined) body.nextPageToken = page.lastId.toString();
				body.historyId = mailbox.historyId;
				return ok(body);
			},
		},
		{
			name: 'messages.list',
			httpMethod: 'GET',
			pattern: path('/messages'),
			auth: true,
			handle: (req) => {
				guard(req, READ);
				const q = req.query.get('q') ?? undefined;
				if (q && onlyMetadataScope(req.token)) {
					throw HttpError.google(403, { message: "Metadata scope does not support 'q' parameter", reason: 'forbidden', domain: 'global' });
				}
				const labelIds = req.query.getAll('labelIds').flatMap((v) => v.split(',')).filter(Boolean);
				const maxResults = parseLimit(req.query.get('maxResults'), 100, 500);
				const pageToken = req.query.get('pageToken');
				let offset = 0;
				if (pageToken) {
					const m = /^p(\d+)$/.exec(pageToken);
					if (!m) throw bad('Invalid pageToken');
					offset = Number(m[1]);
				}
				let found: StoredMessage[];
				try {
					found = searchMessages(mailbox.allMessages(), mailbox.labels(), {
						q,
						labelIds,
						includeSpamTrash: req.query.get('includeSpamTrash') === 'true',
						indexLagMs: mailbox.searchLagMs,
					});
				} catch (e) {
					if (e instanceof UnsupportedQueryError) throw bad(e.message);
					throw e;
				}
				const page = found.slice(offset, offset + maxResults);
				const body: Record<string, unknown> = {};
				if (page.length > 0) body.messages = page.map((m) => ({ id: m.id, threadId: m.threadId }));
				if (offset + maxResults < found.length) body.nextPageToken = `p${offset + maxResults}`;
				body.resultSizeEstimate = found.length;
				return ok(body);
			},
		},
		{
			name: 'messages.attachments.get',
			httpMethod: 'GET',
			pattern: path('/messages/([^/]+)/attachments/([^/]+)'),
			auth: true,
			handle: (req) => {
				guard(req, BODY_READ);
				const data = message(req).built.attachments.get(req.params[2]);
				if (!data) throw bad('Invalid attachment token');
				return ok({ size: data.length, data: base64url(data) });
			},
		},
		{
			name: 'messages.get',
			httpMethod: 'GET',
			pattern: path('/messages/([^/]+)'),
			auth: true,
			handle: (req) => {
				guard(req, READ);
				const format = (req.query.get('format') ?? 'full').toLowerCase();
				if (!['full', 'metadata', 'minimal', 'raw'].includes(format)) {
					throw bad(`Invalid value at 'format' (type.googleapis.com/caribou.api.proto.MessageFormat), "${format}"`);
				}
				if ((format === 'full' || format === 'raw') && onlyMetadataScope(req.token)) {
					throw HttpError.google(403, { message: `Metadata scope doesn't allow format ${format.toUpperCase()}`, reason: 'forbidden', domain: 'global' });
				}
				return ok(renderMessage(message(req), format, req.query.getAll('metadataHeaders')));
			},
		},
		{
			name: 'labels.list',
			httpMethod: 'GET',
			pattern: path('/labels'),
			auth: true,
			handle: (req) => {
				guard(req, [...READ, SCOPES.labels]);
				return ok({ labels: mailbox.labels() });
			},
		},
		...['/token', '/oauth2/v4/token', '/oauth2/v3/token', '/o/oauth2/token'].map(
			(p): Route => ({
				name: 'token',
				httpMethod: 'POST',
				pattern: new RegExp(`^${p}$`),
				handle: (req) => ok(auth.handleTokenRequest(parseForm(req), req.headers.authorization)),
			}),
		),
	];
}

function parseJson(body: Buffer): Record<string, unknown> {
	if (body.length === 0) return {};
	try {
		const parsed: unknown = JSON.parse(body.toString('utf8'));
		if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
	} catch {
		// fall through
	}
	throw bad('Invalid JSON payload received.');
}

/** Token requests are form-encoded; some clients send JSON, which Google also accepts. */
function parseForm(req: RouteRequest): URLSearchParams {
	const type = String(req.headers['content-type'] ?? '');
	if (type.includes('application/json')) {
		const json = parseJson(req.body);
		return new URLSearchParams(Object.entries(json).map(([k, v]): [string, string] => [k, String(v)]));
	}
	return new URLSearchParams(req.body.toString('utf8'));
}

/** historyTypes may repeat or be comma-joined; accepts messageAdded and MESSAGE_ADDED spellings. */
function parseHistoryTypes(values: string[]): Set<HistoryType> | undefined {
	const raw = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
	if (raw.length === 0) return undefined;
	const out = new Set<HistoryType>();
	for (const v of raw) {
		const key = v.replace(/_/g, '').toLowerCase();
		const t = HISTORY_TYPES.find((h) => h.toLowerCase() === key);
		if (!t) throw bad(`Invalid value at 'history_types' (type.googleapis.com/caribou.api.proto.HistoryType), "${v}"`);
		out.add(t);
	}
	return out;
}

function clonePart(part: GmailPart): GmailPart {
	return JSON.parse(JSON.stringify(part)) as GmailPart;
}

/** The Gmail `Message` resource in the requested format. */
export function renderMessage(msg: StoredMessage, format: string, metadataHeaders: string[] = []): Record<string, unknown> {
	const base: Record<string, unknown> = {
		id: msg.id,
		threadId: msg.threadId,
		labelIds: [...msg.labelIds],
		snippet: msg.built.snippet,
	};
	if (format === 'full') base.payload = clonePart(msg.built.payload);
	if (format === 'metadata') {
		const wanted = metadataHeaders.map((h) => h.toLowerCase());
		const headers = msg.built.payload.headers.filter((h) => wanted.length === 0 || wanted.includes(h.name.toLowerCase()));
		base.payload = { partId: '', mimeType: msg.built.payload.mimeType, filename: '', headers: headers.map((h) => ({ ...h })) };
	}
	base.sizeEstimate = msg.built.raw.length;
	if (format === 'raw') base.raw = base64url(msg.built.raw);
	base.historyId = msg.historyId.toString();
	base.internalDate = String(msg.internalDate);
	return base;
}
