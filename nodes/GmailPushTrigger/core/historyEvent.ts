/** One change Gmail's history reports (a new, deleted or relabelled email) and its dedupe key. */
import type { GmailHistoryRecord, GmailMessage, GmailMessageRef, HistoryType } from './port';

export interface HistoryEvent {
	/** Dedupe key: one per email for messageAdded/messageDeleted, one per record for label changes. */
	key: string;
	event: HistoryType;
	/** The id of the history record the event came from. */
	historyId: string;
	ref: GmailMessageRef;
	/** For labelAdded / labelRemoved: the labels that changed. */
	changedLabelIds?: string[];
}

export interface SyncedEvent extends HistoryEvent {
	/** The fetched message; for messageDeleted only the reference from history. */
	message: GmailMessage;
}

export function eventKey(event: HistoryType, recordId: string, messageId: string): string {
	switch (event) {
		case 'messageAdded':
			return `added:${messageId}`;
		case 'messageDeleted':
			return `deleted:${messageId}`;
		default:
			return `${event}:${recordId}:${messageId}`;
	}
}

/** Turns one history record into the events the user asked for, in the record's order. */
export function eventsOfRecord(record: GmailHistoryRecord, wanted: readonly HistoryType[]): HistoryEvent[] {
	const out: HistoryEvent[] = [];
	const push = (event: HistoryType, ref: GmailMessageRef | undefined, changedLabelIds?: string[]) => {
		if (!ref?.id || !wanted.includes(event)) return;
		out.push({
			key: eventKey(event, record.id, ref.id),
			event,
			historyId: record.id,
			ref,
			...(changedLabelIds && { changedLabelIds }),
		});
	};
	for (const entry of record.messagesAdded ?? []) push('messageAdded', entry.message);
	for (const entry of record.messagesDeleted ?? []) push('messageDeleted', entry.message);
	for (const entry of record.labelsAdded ?? []) push('labelAdded', entry.message, entry.labelIds ?? []);
	for (const entry of record.labelsRemoved ?? []) push('labelRemoved', entry.message, entry.labelIds ?? []);
	return out;
}

/** The part of an event that names it (what refetchEvents needs), without the fetched message. */
export function withoutMessage(event: SyncedEvent): HistoryEvent {
	const { message: _message, ...rest } = event;
	return rest;
}
