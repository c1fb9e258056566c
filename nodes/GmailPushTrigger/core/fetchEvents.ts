/** Fetches the messages behind history events (each once, bounded in parallel) and filters them. */
import { matchSearch, passesLabelFilter, spamTrashWanted, type SearchMiss } from './filters';
import type { HistoryEvent, SyncedEvent } from './historyEvent';
import type { GmailPort } from './port';
import { DEFAULT_FETCH_CONCURRENCY, type SyncOptions } from './syncOptions';

/** What resolveEvents dropped, by reason. */
export interface ResolveStats {
	duplicates: number;
	filtered: number;
	gone: number;
}

/** Runs `worker` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
		while (next < items.length) {
			const index = next++;
			results[index] = await worker(items[index]);
		}
	});
	await Promise.all(lanes);
	return results;
}

/**
 * Fetches the messages behind `events` (each id once), drops the ones already emitted, gone
 * (404: deleted between notification and fetch) or filtered out, and returns the rest in order.
 */
export async function resolveEvents(
	port: GmailPort,
	events: readonly HistoryEvent[],
	recent: readonly string[] | undefined,
	options: SyncOptions,
): Promise<{ events: SyncedEvent[]; stats: ResolveStats; searchMissed: SearchMiss[] }> {
	const seen = new Set(recent ?? []);
	const stats = { duplicates: 0, filtered: 0, gone: 0 };
	const candidates: HistoryEvent[] = [];
	for (const event of events) {
		if (seen.has(event.key)) {
			stats.duplicates++;
			continue;
		}
		seen.add(event.key);
		if (!passesLabelFilter(event, event.ref.labelIds, options)) {
			stats.filtered++;
			continue;
		}
		candidates.push(event);
	}

	const toFetch = [...new Set(candidates.filter((e) => e.event !== 'messageDeleted').map((e) => e.ref.id))];
	const fetched = await mapBounded(toFetch, options.fetchConcurrency ?? DEFAULT_FETCH_CONCURRENCY, async (id) =>
		port.getMessage(id, options.format, options.metadataHeaders),
	);
	const messages = new Map(toFetch.map((id, i) => [id, fetched[i]]));

	const out: SyncedEvent[] = [];
	for (const event of candidates) {
		if (event.event === 'messageDeleted') {
			out.push({ ...event, message: { ...event.ref } });
			continue;
		}
		const message = messages.get(event.ref.id);
		if (message === undefined) {
			stats.gone++;
			continue;
		}
		// History may not carry labels; judge again with the fetched ones.
		if (!passesLabelFilter(event, event.ref.labelIds ?? message.labelIds, options)) {
			stats.filtered++;
			continue;
		}
		out.push({ ...event, message });
	}
	const { kept, searchMissed } = await applySearch(port, out, options);
	stats.filtered += out.length - kept.length;
	return { events: kept, stats, searchMissed };
}

/** Keeps the events Gmail's search finds (one messages.list for all), and names the new emails it missed. */
async function applySearch(
	port: GmailPort,
	out: SyncedEvent[],
	options: SyncOptions,
): Promise<{ kept: SyncedEvent[]; searchMissed: SearchMiss[] }> {
	if (options.search === undefined || options.search.trim() === '') return { kept: out, searchMissed: [] };
	const searched = out.filter((e) => e.event !== 'messageDeleted').map((e) => e.message);
	const matching = await matchSearch(port, options.search, [...new Map(searched.map((m) => [m.id, m])).values()], spamTrashWanted(options));
	// A deletion cannot be searched (the email is gone): it passes on the label filter alone.
	const kept = out.filter((e) => e.event === 'messageDeleted' || matching.has(e.message.id));
	// Only new emails are asked again: the index may not know them yet (a label change is of a known one).
	const searchMissed = out.filter((e) => e.event === 'messageAdded' && !matching.has(e.message.id)).map(({ message }) => ({ id: message.id, ...(message.internalDate !== undefined && { internalDate: message.internalDate }) }));
	return { kept, searchMissed };
}

/**
 * The events of an emission whose execution crashed, with their messages fetched again (each
 * id once; held only by id meanwhile, so a large email is not kept in memory while its
 * execution runs). No filter is applied again: they passed when first emitted. An email deleted
 * since is dropped and counted.
 */
export async function refetchEvents(
	port: GmailPort,
	events: readonly HistoryEvent[],
	options: Pick<SyncOptions, 'format' | 'metadataHeaders' | 'fetchConcurrency'>,
): Promise<{ events: SyncedEvent[]; gone: number }> {
	const ids = [...new Set(events.filter((e) => e.event !== 'messageDeleted').map((e) => e.ref.id))];
	const fetched = await mapBounded(ids, options.fetchConcurrency ?? DEFAULT_FETCH_CONCURRENCY, async (id) => port.getMessage(id, options.format, options.metadataHeaders));
	const messages = new Map(ids.map((id, i) => [id, fetched[i]]));
	const out: SyncedEvent[] = [];
	let gone = 0;
	for (const event of events) {
		const message = event.event === 'messageDeleted' ? { ...event.ref } : messages.get(event.ref.id);
		if (message === undefined) gone++;
		else out.push({ ...event, message });
	}
	return { events: out, gone };
}
