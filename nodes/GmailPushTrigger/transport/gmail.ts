/**
 * The Gmail port: seven REST calls through the credential's `request`; every failure becomes a
 * GmailApiError (status, reason, Retry-After). Not @googleapis/gmail: in n8n's Community Nodes
 * install it brought about 20 MB for these seven calls.
 */
import type { JWT } from 'google-auth-library';
import { GmailApiError, type GmailPort, type GmailHistoryRecord, type GmailMessage } from '../core/port';
import { withQuery, type RequestingAuth } from './auth';

/** Google's default endpoint for Gmail (what the generated client uses). */
export const GMAIL_ROOT_URL = 'https://gmail.googleapis.com/';

interface HistoryListResponse {
	history?: GmailHistoryRecord[];
	historyId?: string;
	nextPageToken?: string;
}
interface MessagesListResponse {
	messages?: Array<{ id?: string; threadId?: string }>;
	nextPageToken?: string;
}
interface LabelsListResponse {
	labels?: Array<{ id?: string; name?: string }>;
}
interface ProfileResponse {
	emailAddress?: string;
	historyId?: string;
}
interface WatchResponse {
	historyId?: string | number;
	expiration?: string | number;
}

interface ErrorLike {
	message?: string;
	status?: number;
	code?: number | string;
	httpCode?: string;
	description?: string;
	response?: { status?: number; headers?: unknown; data?: unknown; body?: unknown };
	cause?: unknown;
	context?: { data?: unknown };
}

function headerValue(headers: unknown, name: string): string | undefined {
	if (!headers || typeof headers !== 'object') return undefined;
	if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
	const record = headers as Record<string, unknown>;
	const value = record[name] ?? record[name.toLowerCase()];
	return typeof value === 'string' ? value : undefined;
}

function googleError(data: unknown): { message?: string; reason?: string; status?: number } {
	const error = (data as { error?: { message?: string; code?: number; errors?: Array<{ reason?: string }>; status?: string } })?.error;
	if (!error || typeof error !== 'object') return {};
	return { message: error.message, reason: error.errors?.[0]?.reason ?? error.status, status: error.code };
}

export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
	if (!value) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const at = Date.parse(value);
	return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** Normalises whatever the client threw into a GmailApiError (`api` names the API in the message). */
export function toGmailApiError(thrown: unknown, what: string, api = 'Gmail'): GmailApiError {
	if (thrown instanceof GmailApiError) return thrown;
	const error = (thrown ?? {}) as ErrorLike;
	const cause = (error.cause ?? {}) as ErrorLike;
	const response = error.response ?? cause.response;
	const data = response?.data ?? response?.body ?? error.context?.data;
	const google = googleError(data);
	const status =
		response?.status ??
		(error.httpCode !== undefined ? Number(error.httpCode) : undefined) ??
		(typeof error.status === 'number' ? error.status : undefined) ??
		(typeof error.code === 'number' ? error.code : undefined) ??
		google.status ??
		0;
	const message = google.message ?? error.description ?? error.message ?? 'unknown error';
	return new GmailApiError(
		`${api} ${what} failed${status ? ` (${status})` : ''}: ${message}`,
		Number.isFinite(status) ? status : 0,
		google.reason,
		retryAfterMs(headerValue(response?.headers, 'retry-after')),
	);
}

export interface GmailPortOptions {
	/** Only for tests that talk to a fake over plain HTTP; production uses Google's default. */
	rootUrl?: string;
}

export function createGmailPort(auth: RequestingAuth | JWT, options: GmailPortOptions = {}): GmailPort {
	const base = `${(options.rootUrl ?? GMAIL_ROOT_URL).replace(/\/+$/, '')}/gmail/v1/users/me/`;
	// Retries are ours (they must fit Pub/Sub's ack deadline), not gaxios's. Query parameters go
	// into the URL here: Gmail wants a repeated parameter as `a=1&a=2`.
	const call = async <T>(what: string, path: string, query?: Record<string, unknown>, body?: object): Promise<T> => {
		try {
			const response = await (auth as RequestingAuth).request({
				url: withQuery(base + path, query),
				method: body === undefined ? 'GET' : 'POST',
				...(body !== undefined && { data: body, headers: { 'content-type': 'application/json' } }),
				retry: false,
			} as Parameters<RequestingAuth['request']>[0]);
			return (response.data ?? {}) as T;
		} catch (error) {
			throw toGmailApiError(error, what);
		}
	};
	return {
		async listHistory(request) {
			const data = await call<HistoryListResponse>('history.list', 'history', { ...request });
			return {
				history: data.history ?? [],
				historyId: data.historyId ?? undefined,
				nextPageToken: data.nextPageToken ?? undefined,
			};
		},
		async getMessage(id, format, metadataHeaders) {
			try {
				return await call<GmailMessage>('messages.get', `messages/${encodeURIComponent(id)}`, { format, ...(metadataHeaders && { metadataHeaders }) });
			} catch (error) {
				if (error instanceof GmailApiError && error.status === 404) return undefined;
				throw error;
			}
		},
		async listMessages(request) {
			const data = await call<MessagesListResponse>('messages.list', 'messages', { ...request });
			return {
				messages: (data.messages ?? []).filter((m): m is { id: string; threadId?: string } => typeof m.id === 'string') as GmailMessage[],
				nextPageToken: data.nextPageToken ?? undefined,
			};
		},
		async listLabels() {
			const data = await call<LabelsListResponse>('labels.list', 'labels');
			return (data.labels ?? []).flatMap((label) => (label.id ? [{ id: label.id, name: label.name ?? label.id }] : []));
		},
		async getProfile() {
			const data = await call<ProfileResponse>('users.getProfile', 'profile');
			return { emailAddress: data.emailAddress ?? '', historyId: data.historyId ?? '' };
		},
		async watch(request) {
			const data = await call<WatchResponse>('users.watch', 'watch', undefined, request);
			return { historyId: String(data.historyId ?? ''), expiration: String(data.expiration ?? '') };
		},
		async stop() {
			await call('users.stop', 'stop', undefined, {});
		},
	};
}
