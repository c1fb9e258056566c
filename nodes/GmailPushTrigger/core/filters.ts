/** Whether an event passes the node's filters: labels, drafts, Spam and Trash, and Gmail's search. */
import type { HistoryEvent } from './historyEvent';
import type { GmailMessage, GmailPort } from './port';
import type { SyncOptions } from './syncOptions';

/**
 * Whether an event passes the label filter. For label changes the filter looks at the labels
 * that changed ("when label X is added"); for messages at the message's labels.
 */
export function passesLabelFilter(
	event: HistoryEvent,
	messageLabelIds: readonly string[] | undefined,
	options: Pick<SyncOptions, 'labelIds' | 'labelFilterBehavior' | 'includeDrafts' | 'includeSpamTrash'>,
): boolean {
	if (!options.includeDrafts && messageLabelIds?.includes('DRAFT')) return false;
	if (event.event === 'messageAdded' && inSpamOrTrash(messageLabelIds) && !spamTrashWanted(options)) return false;
	if (options.labelIds.length === 0) return true;
	const labels = event.changedLabelIds ?? messageLabelIds;
	if (labels === undefined) return true; // unknown yet: decide after the fetch
	const hit = labels.some((id) => options.labelIds.includes(id));
	return options.labelFilterBehavior === 'include' ? hit : !hit;
}

function inSpamOrTrash(labelIds: readonly string[] | undefined): boolean {
	return labelIds?.some((id) => id === 'SPAM' || id === 'TRASH') ?? false;
}

/** Spam and Trash count when asked for: by the option, or by naming them in an include filter. */
export function spamTrashWanted(options: Pick<SyncOptions, 'labelIds' | 'labelFilterBehavior' | 'includeSpamTrash'>): boolean {
	return options.includeSpamTrash === true || (options.labelFilterBehavior === 'include' && inSpamOrTrash(options.labelIds));
}

/** A new email that passed every other filter but Search: core/recheck asks about it again. */
export interface SearchMiss {
	id: string;
	/** Epoch ms as a string, as Gmail gives it. */
	internalDate?: string;
}

/** A page of messages.list holds at most 500; 20 pages bound one sync's search to 100 quota units. */
export const SEARCH_PAGE_SIZE = 500;
export const MAX_SEARCH_PAGES = 20;

/**
 * Which of `messages` Gmail's search `query` finds now. One messages.list for all of them,
 * narrowed with after: to the oldest one's second, so its pages hold only mail since then
 * (newest first): it stops as soon as every message is found.
 */
export async function matchSearch(
	port: GmailPort,
	query: string,
	messages: readonly GmailMessage[],
	includeSpamTrash: boolean,
): Promise<Set<string>> {
	const wanted = new Set(messages.map((m) => m.id));
	const found = new Set<string>();
	if (wanted.size === 0) return found;
	const dates = messages.map((m) => Number(m.internalDate));
	const oldestSecond = dates.every((d) => Number.isFinite(d) && d > 0) ? Math.floor(Math.min(...dates) / 1000) - 1 : undefined;
	// Gmail reads "a OR b after:x" as "(a OR b) after:x"; grouping is only needed for braces.
	const grouped = /[{}]/.test(query) ? `(${query})` : query;
	const q = oldestSecond === undefined ? grouped : `${grouped} after:${oldestSecond}`;
	let pageToken: string | undefined;
	for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
		const result = await port.listMessages({
			q,
			maxResults: SEARCH_PAGE_SIZE,
			...(includeSpamTrash && { includeSpamTrash }),
			...(pageToken !== undefined && { pageToken }),
		});
		for (const ref of result.messages) if (wanted.has(ref.id)) found.add(ref.id);
		pageToken = result.nextPageToken || undefined;
		if (found.size === wanted.size || pageToken === undefined) break;
	}
	return found;
}
