/**
 * The Gmail port over the official generated client (@googleapis/gmail). Every failure becomes
 * a GmailApiError carrying the HTTP status, Google's reason and any Retry-After, whichever
 * auth path produced it (gaxios errors for service accounts, n8n errors for OAuth2).
 */
import { gmail_v1, gmail as gmailClient } from '@googleapis/gmail';
import type { JWT } from 'google-auth-library';
import { GmailApiError, type GmailPort, type GmailHistoryRecord, type GmailMessage } from '../core/port';
import type { RequestingAuth } from './auth';

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

/** Normalises whatever the client threw into a GmailApiError. */
export function toGmailApiError(thrown: unknown, what: string): GmailApiError {
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
		`Gmail ${what} failed${status ? ` (${status})` : ''}: ${message}`,
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
	const client = gmailClient({
		version: 'v1',
		auth: auth as unknown as gmail_v1.Options['auth'],
		...(options.rootUrl && { rootUrl: options.rootUrl }),
	});
	// Retries are ours (they must fit Pub/Sub's ack deadline), not the client's.
	const call = async <T>(what: string, fn: () => Promise<{ data: T }>): Promise<T> => {
		try {
			return (await fn()).data;
		} catch (error) {
			throw toGmailApiError(error, what);
		}
	};
	const noRetry = { retry: false };
	return {
		async listHistory(request) {
			const data = await call('history.list', () =>
				client.users.history.list({ userId: 'me', ...request }, noRetry),
			);
			return {
				history: (data.history ?? []) as GmailHistoryRecord[],
				historyId: data.historyId ?? undefined,
				nextPageToken: data.nextPageToken ?? undefined,
			};
		},
		async getMessage(id, format, metadataHeaders) {
			try {
				return await call('messages.get', () =>
					client.users.messages.get({ userId: 'me', id, format, ...(metadataHeaders && { metadataHeaders }) }, noRetry),
				) as GmailMessage;
			} catch (error) {
				if (error instanceof GmailApiError && error.status === 404) return undefined;
				throw error;
			}
		},
		async listMessages(request) {
			const data = await call('messages.list', () => client.users.messages.list({ userId: 'me', ...request }, noRetry));
			return {
				messages: (data.messages ?? []).filter((m): m is { id: string; threadId?: string } => typeof m.id === 'string') as GmailMessage[],
				nextPageToken: data.nextPageToken ?? undefined,
			};
		},
		async listLabels() {
			const data = await call('labels.list', () => client.users.labels.list({ userId: 'me' }, noRetry));
			return (data.labels ?? []).flatMap((label) => (label.id ? [{ id: label.id, name: label.name ?? label.id }] : []));
		},
		async getProfile() {
			const data = await call('users.getProfile', () => client.users.getProfile({ userId: 'me' }, noRetry));
			return { emailAddress: data.emailAddress ?? '', historyId: data.historyId ?? '' };
		},
		async watch(request) {
			const data = await call('users.watch', () => client.users.watch({ userId: 'me', requestBody: request }, noRetry));
			return { historyId: String(data.historyId ?? ''), expiration: String(data.expiration ?? '') };
		},
		async stop() {
			await call('users.stop', () => client.users.stop({ userId: 'me' }, noRetry));
		},
	};
}
