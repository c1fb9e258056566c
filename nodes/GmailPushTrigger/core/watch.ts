/**
 * When to (re)create the Gmail watch. Gmail drops a watch after 7 days and advises renewing
 * daily; a watch for another topic or label set is not ours any more.
 */
import type { LabelFilterBehavior } from './sync';
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

export const TOPIC_NAME = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** Returns what is wrong with a topic name, or undefined when it looks right. */
export function topicNameProblem(topicName: string): string | undefined {
	if (!topicName.trim()) return 'Topic Name is empty: enter projects/<project-id>/topics/<topic>';
	if (TOPIC_NAME.test(topicName.trim())) return undefined;
	if (!topicName.startsWith('projects/')) {
		return `Topic Name "${topicName}" must be the full name projects/<project-id>/topics/<topic>, not only the topic's short name`;
	}
	return `Topic Name "${topicName}" is not of the form projects/<project-id>/topics/<topic> (project ids are 6-30 lowercase letters, digits and hyphens; topic names start with a letter and have 3-255 characters)`;
}

export function projectOfTopic(topicName: string): string | undefined {
	return /^projects\/([^/]+)\//.exec(topicName)?.[1];
}

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
