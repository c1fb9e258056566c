/**
 * When to (re)create the Gmail watch. Gmail drops a watch after 7 days and advises renewing
 * daily; a watch for another topic or label set is not ours any more.
 */
import type { LabelFilterBehavior } from './syncOptions';
import type { WatchRequest } from './port';

export const RENEW_AFTER_MS = 24 * 60 * 60 * 1000;

export interface WatchConfig {
	topicName: string;
	labelIds: string[];
	labelFilterBehavior: LabelFilterBehavior;
}

export interface WatchState extends WatchConfig {
	/** The historyId Gmail returned with the watch. */
	historyId: string;
	/** Epoch ms when Gmail stops the watch. */
	expiration: number;
	/** Epoch ms of our last successful watch call. */
	renewedAt: number;
}

export { topicNameProblem, projectOfName as projectOfTopic } from './names';

export function watchRequest(config: WatchConfig): WatchRequest {
	return {
		topicName: config.topicName.trim(),
		...(config.labelIds.length > 0 && {
			labelIds: config.labelIds,
			labelFilterBehavior: config.labelFilterBehavior === 'exclude' ? 'EXCLUDE' : 'INCLUDE',
		}),
	};
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
	return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

export function sameWatchConfig(watch: WatchConfig, config: WatchConfig): boolean {
	return (
		watch.topicName === config.topicName.trim() &&
		sameLabels(watch.labelIds, config.labelIds) &&
		(config.labelIds.length === 0 || watch.labelFilterBehavior === config.labelFilterBehavior)
	);
}

export type WatchVerdict = 'fresh' | 'missing' | 'changed' | 'old' | 'expiring';

/** Why the watch must be renewed now, or 'fresh' when it need not. */
export function watchVerdict(watch: WatchState | undefined, config: WatchConfig, now: number, renewAfterMs = RENEW_AFTER_MS): WatchVerdict {
	if (!watch) return 'missing';
	if (!sameWatchConfig(watch, config)) return 'changed';
	if (now - watch.renewedAt >= renewAfterMs) return 'old';
	if (watch.expiration - now <= renewAfterMs) return 'expiring';
	return 'fresh';
}

export function watchStateFrom(config: WatchConfig, response: { historyId: string; expiration: string }, now: number): WatchState {
	const expiration = Number(response.expiration);
	return {
		topicName: config.topicName.trim(),
		labelIds: [...config.labelIds],
		labelFilterBehavior: config.labelFilterBehavior,
		historyId: response.historyId,
		expiration: Number.isFinite(expiration) && expiration > 0 ? expiration : now + 7 * RENEW_AFTER_MS,
		renewedAt: now,
	};
}
