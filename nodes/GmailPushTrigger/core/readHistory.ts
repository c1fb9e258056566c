/** Reads Gmail's history after a cursor, page by page, into events in history order. */
import { advance, compareHistoryIds } from './cursor';
import { eventsOfRecord, type HistoryEvent } from './historyEvent';
import type { GmailPort } from './port';
import { DEFAULT_MAX_EVENTS, DEFAULT_PAGE_SIZE, type SyncOptions } from './syncOptions';

/** The one label to pass to history.list, when it narrows the result without losing events. */
export function historyLabelId(options: Pick<SyncOptions, 'labelIds' | 'labelFilterBehavior'>): string | undefined {
	return options.labelFilterBehavior === 'include' && options.labelIds.length === 1 ? options.labelIds[0] : undefined;
}

export interface HistorySpan {
	events: HistoryEvent[];
	/** The mailbox's historyId after the last page, or the last record taken when cut short. */
	historyId: string | undefined;
	more: boolean;
	pages: number;
	records: number;
}

/** Reads every page of history after `startHistoryId`. A stale start throws GmailApiError 404. */
export async function readHistory(port: GmailPort, startHistoryId: string, options: SyncOptions): Promise<HistorySpan> {
	const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
	const labelId = historyLabelId(options);
	const events: HistoryEvent[] = [];
	let historyId: string | undefined;
	let pageToken: string | undefined;
	let pages = 0;
	let records = 0;
	do {
		const page = await port.listHistory({
			startHistoryId,
			historyTypes: options.events,
			maxResults: options.pageSize ?? DEFAULT_PAGE_SIZE,
			...(labelId !== undefined && { labelId }),
			...(pageToken !== undefined && { pageToken }),
		});
		pages++;
		// Records come oldest first; sort anyway so a reordering server cannot move the cursor back.
		const sorted = [...(page.history ?? [])].sort((a, b) => compareHistoryIds(a.id, b.id));
		for (const record of sorted) {
			records++;
			events.push(...eventsOfRecord(record, options.events));
			historyId = advance(historyId, record.id);
			if (events.length >= maxEvents) {
				const cutAfterLastRecord = record !== sorted[sorted.length - 1] || page.nextPageToken !== undefined;
				if (cutAfterLastRecord) return { events, historyId, more: true, pages, records };
			}
		}
		pageToken = page.nextPageToken || undefined;
		// The mailbox's historyId covers the span only once the last page is read: taken from an
		// earlier page it would carry the cursor past records a maxEvents cut leaves for later.
		if (pageToken === undefined) historyId = advance(historyId, page.historyId);
	} while (pageToken !== undefined);
	return { events, historyId, more: false, pages, records };
}
