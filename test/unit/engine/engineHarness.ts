/** A MailboxEngine over the in-memory Gmail and a fake clock, with what it delivers recorded. */
import { SIMPLIFIED_HEADERS } from '../../../nodes/GmailPushTrigger/core/output';
import type { GmailNotification } from '../../../nodes/GmailPushTrigger/core/notification';
import type { Emission, EngineDeps, WatchBook } from '../../../nodes/GmailPushTrigger/engine/engineDeps';
import { MailboxEngine } from '../../../nodes/GmailPushTrigger/engine/mailboxEngine';
import type { TriggerState } from '../../../nodes/GmailPushTrigger/engine/triggerState';
import { FakeClock } from '../../support/fakeClock';
import { MemoryGmail } from '../../support/memoryGmail';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface Logged {
	level: string;
	message: string;
}

export interface MemoryEngine {
	engine: MailboxEngine;
	clock: FakeClock;
	gmail: MemoryGmail;
	state: TriggerState;
	/** The ids of each delivered batch, in order. */
	batches: string[][];
	emissions: Emission[];
	lines: Logged[];
	/** What onLastingFailure was told. */
	reports: Array<{ message: string; during: string }>;
	/** The notification Gmail would publish now (`publishedAgoMs` before the clock's now). */
	notification(publishedAgoMs?: number): GmailNotification;
}

export function memoryEngine(overrides: Partial<EngineDeps> = {}): MemoryEngine {
	const clock = new FakeClock();
	const gmail = new MemoryGmail(() => clock.now());
	const state: TriggerState = {};
	const batches: string[][] = [];
	const emissions: Emission[] = [];
	const lines: Logged[] = [];
	const reports: MemoryEngine['reports'] = [];
	const log = (level: string) => (message: string) => void lines.push({ level, message });
	const books = new Map<string, WatchBook>();
	const engine = new MailboxEngine({
		port: gmail,
		state,
		sync: { events: ['messageAdded'], labelIds: [], labelFilterBehavior: 'include', includeDrafts: false, format: 'metadata', metadataHeaders: SIMPLIFIED_HEADERS },
		output: 'simplified',
		watch: { topicName: 'projects/p/topics/gmail', labelIds: [], labelFilterBehavior: 'include' },
		deliver: (items, emission) => {
			batches.push(items.map((item) => String(item.json.id)));
			emissions.push(emission);
		},
		logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
		onLastingFailure: (error, during) => void reports.push({ message: (error as Error).message, during }),
		watchBook: (key) => books.get(key) ?? books.set(key, {}).get(key)!,
		clock,
		...overrides,
	});
	const notification = (publishedAgoMs = 0): GmailNotification => ({
		emailAddress: gmail.emailAddress,
		historyId: String(gmail.historyId),
		publishTime: new Date(clock.now() - publishedAgoMs).toISOString(),
	});
	return { engine, clock, gmail, state, batches, emissions, lines, reports, notification };
}
