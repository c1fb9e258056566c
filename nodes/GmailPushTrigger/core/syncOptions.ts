/** What one sync is asked to do: which events, which filters, which format, and its bounds. */
import type { HistoryType, MessageFormat } from './port';

export type LabelFilterBehavior = 'include' | 'exclude';

export interface SyncOptions {
	events: HistoryType[];
	/** Filtered again on our side: the watch's own label filter is not always honoured. */
	labelIds: string[];
	labelFilterBehavior: LabelFilterBehavior;
	includeDrafts: boolean;
	/**
	 * New emails in Spam or Trash are skipped unless this is set (as in n8n's Gmail Trigger), or
	 * the label filter asks for SPAM or TRASH. Also passed to the search below.
	 */
	includeSpamTrash?: boolean;
	/**
	 * Gmail search syntax (Search, Sender, Read Status): an email is emitted only when Gmail's
	 * own search finds it when the node sees it, or for a new email it missed then, once more
	 * within a minute (core/recheck). One messages.list per sync that has emails to check (see
	 * matchSearch), not one per email.
	 */
	search?: string;
	format: MessageFormat;
	metadataHeaders?: string[];
	/** history.list page size (Gmail allows up to 500). */
	pageSize?: number;
	fetchConcurrency?: number;
	/** Bound on events per run; the cursor then stops at the last record taken and `more` is set. */
	maxEvents?: number;
}

export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_FETCH_CONCURRENCY = 5;
export const DEFAULT_MAX_EVENTS = 500;
