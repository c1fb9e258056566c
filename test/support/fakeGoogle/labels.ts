/** Gmail's system labels and the user-label shape, as labels.list returns them. */
export interface GmailLabel {
	id: string;
	name: string;
	type: 'system' | 'user';
	messageListVisibility?: 'show' | 'hide';
	labelListVisibility?: 'labelShow' | 'labelShowIfUnread' | 'labelHide';
}

export const SYSTEM_LABEL_IDS = [
	'CHAT',
	'SENT',
	'INBOX',
	'IMPORTANT',
	'TRASH',
	'DRAFT',
	'SPAM',
	'CATEGORY_FORUMS',
	'CATEGORY_UPDATES',
	'CATEGORY_PERSONAL',
	'CATEGORY_PROMOTIONS',
	'CATEGORY_SOCIAL',
	'STARRED',
	'UNREAD',
] as const;

/** Gmail hides visibility fields on most system labels; these few carry them. */
const VISIBLE: Record<string, Pick<GmailLabel, 'messageListVisibility' | 'labelListVisibility'>> = {
	SENT: { messageListVisibility: 'hide', labelListVisibility: 'labelShow' },
	INBOX: { messageListVisibility: 'hide', labelListVisibility: 'labelShow' },
	TRASH: { messageListVisibility: 'hide', labelListVisibility: 'labelHide' },
	DRAFT: { messageListVisibility: 'hide', labelListVisibility: 'labelShow' },
	SPAM: { messageListVisibility: 'hide', labelListVisibility: 'labelHide' },
	STARRED: { messageListVisibility: 'hide', labelListVisibility: 'labelShow' },
	UNREAD: { messageListVisibility: 'hide', labelListVisibility: 'labelShow' },
};

export function systemLabels(): GmailLabel[] {
	return SYSTEM_LABEL_IDS.map((id) => ({ id, name: id, type: 'system' as const, ...VISIBLE[id] }));
}
