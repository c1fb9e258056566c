/**
 * A subset of Gmail's search syntax for messages.list `q`: enough for catch-up queries such as
 * `in:inbox -in:drafts after:1700000000`. Unsupported syntax (OR, braces, parentheses) throws,
 * so a test never silently gets a wrong answer.
 */
import type { GmailLabel } from './labels';
import type { StoredMessage } from './mailbox';

export class UnsupportedQueryError extends Error {}

interface Term {
	negated: boolean;
	op?: string;
	value: string;
}

const IN_LABELS: Record<string, string> = {
	inbox: 'INBOX',
	sent: 'SENT',
	draft: 'DRAFT',
	drafts: 'DRAFT',
	spam: 'SPAM',
	trash: 'TRASH',
	starred: 'STARRED',
	important: 'IMPORTANT',
	unread: 'UNREAD',
	chats: 'CHAT',
};

const CATEGORIES: Record<string, string> = {
	primary: 'CATEGORY_PERSONAL',
	personal: 'CATEGORY_PERSONAL',
	social: 'CATEGORY_SOCIAL',
	promotions: 'CATEGORY_PROMOTIONS',
	updates: 'CATEGORY_UPDATES',
	forums: 'CATEGORY_FORUMS',
};

function tokenize(q: string): Term[] {
	const terms: Term[] = [];
	const re = /(-)?(?:([a-z_]+):)?(?:"([^"]*)"|(\S+))/gi;
	for (let m = re.exec(q); m !== null; m = re.exec(q)) {
		const value = m[3] ?? m[4] ?? '';
		if (!m[2] && m[3] === undefined && (/^(OR|AND)$/.test(value) || /[{}()]/.test(value))) {
			throw new UnsupportedQueryError(`fake Gmail: unsupported query syntax "${value}" in q=${q}`);
		}
		terms.push({ negated: m[1] === '-', op: m[2]?.toLowerCase(), value });
	}
	return terms;
}

/** Epoch seconds, or YYYY/MM/DD (taken as UTC midnight; Gmail uses the account's time zone). */
function parseDateMs(value: string): number {
	if (/^\d+$/.test(value)) return Number(value) * 1000;
	const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
	if (!m) throw new UnsupportedQueryError(`fake Gmail: unsupported date "${value}"`);
	return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function parseAgeMs(value: string): number {
	const m = /^(\d+)([dmy])$/i.exec(value);
	if (!m) throw new UnsupportedQueryError(`fake Gmail: unsupported age "${value}"`);
	const days = { d: 1, m: 30, y: 365 }[m[2].toLowerCase() as 'd' | 'm' | 'y'];
	return Number(m[1]) * days * 86_400_000;
}

const norm = (s: string): string => s.toLowerCase().replace(/[\s/]+/g, '-');
const contains = (hay: string | undefined, needle: string): boolean => (hay ?? '').toLowerCase().includes(needle.toLowerCase());

function labelIdFor(value: string, labels: GmailLabel[]): string | undefined {
	const found = labels.find((l) => l.id.toLowerCase() === value.toLowerCase() || norm(l.name) === norm(value));
	return found?.id;
}

function termMatches(term: Term, msg: StoredMessage, labels: GmailLabel[], now: number): boolean {
	const has = (labelId: string | undefined): boolean => labelId !== undefined && msg.labelIds.includes(labelId);
	switch (term.op) {
		case 'after':
			// Inclusive: a client using after:<last seen second> must de-duplicate itself.
			return msg.internalDate >= parseDateMs(term.value);
		case 'before':
			return msg.internalDate < parseDateMs(term.value);
		case 'newer_than':
			return msg.internalDate >= now - parseAgeMs(term.value);
		case 'older_than':
			return msg.internalDate < now - parseAgeMs(term.value);
		case 'in': {
			const v = term.value.toLowerCase();
			if (v === 'anywhere') return true;
			return has(IN_LABELS[v] ?? labelIdFor(v, labels));
		}
		case 'label':
			return has(labelIdFor(term.value, labels));
		case 'category':
			return has(CATEGORIES[term.value.toLowerCase()]);
		case 'is': {
			const v = term.value.toLowerCase();
			if (v === 'read') return !has('UNREAD');
			return has(IN_LABELS[v]);
		}
		case 'has':
			return term.value.toLowerCase() === 'attachment' ? msg.built.attachments.size > 0 : false;
		case 'from':
			return contains(msg.from, term.value);
		case 'to':
			return contains(msg.to, term.value) || contains(msg.cc, term.value);
		case 'cc':
			return contains(msg.cc, term.value);
		case 'subject':
			return contains(msg.subject, term.value);
		case 'rfc822msgid':
			return msg.messageIdHeader.replace(/[<>]/g, '') === term.value.replace(/[<>]/g, '');
		default: {
			const text = term.op ? `${term.op}:${term.value}` : term.value;
			return [msg.subject, msg.text, msg.html, msg.from, msg.to].some((f) => contains(f, text));
		}
	}
}

/** True when the query explicitly asks for SPAM or TRASH, which Gmail then searches too. */
function asksForSpamTrash(terms: Term[]): boolean {
	return terms.some(
		(t) => !t.negated && (t.op === 'in' || t.op === 'label') && ['spam', 'trash', 'anywhere'].includes(t.value.toLowerCase()),
	);
}

export interface SearchOptions {
	q?: string;
	labelIds?: string[];
	includeSpamTrash?: boolean;
	now?: number;
	/** A search (a non-empty q) does not find messages added less than this many ms ago. */
	indexLagMs?: number;
}

/** Matching live messages, newest first (Gmail's messages.list order). */
export function searchMessages(messages: StoredMessage[], labels: GmailLabel[], options: SearchOptions): StoredMessage[] {
	const terms = tokenize(options.q ?? '');
	const labelIds = options.labelIds ?? [];
	const spamTrash =
		options.includeSpamTrash === true || asksForSpamTrash(terms) || labelIds.some((l) => l === 'SPAM' || l === 'TRASH');
	const now = options.now ?? Date.now();
	const indexedUntil = terms.length > 0 ? now - (options.indexLagMs ?? 0) : Infinity;
	return messages
		.filter((m) => m.addedAt <= indexedUntil)
		.filter((m) => spamTrash || !m.labelIds.some((l) => l === 'SPAM' || l === 'TRASH'))
		.filter((m) => labelIds.every((l) => m.labelIds.includes(l)))
		.filter((m) => terms.every((t) => termMatches(t, m, labels, now) !== t.negated))
		.sort((a, b) => b.internalDate - a.internalDate || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
