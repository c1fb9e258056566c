/** Events -> items ready to emit: rendered in the output mode, with label names, attachments prepared. */
import type { GmailLabel } from '../core/port';
import type { SyncedEvent } from '../core/historyEvent';
import { toOutputItems, type OutputItem } from '../core/output';
import type { Clock } from './clock';
import type { EngineDeps } from './engineDeps';

const LABELS_TTL_MS = 10 * 60 * 1000;

export class ItemPreparation {
	private labels?: { at: number; list: GmailLabel[] };

	constructor(
		private readonly deps: EngineDeps,
		private readonly clock: Clock,
	) {}

	async itemsFor(events: readonly SyncedEvent[]): Promise<OutputItem[]> {
		const labels = this.deps.output === 'simplified' && events.length > 0 ? await this.labelList() : [];
		const rendered = await toOutputItems(events, this.deps.output, labels, this.deps.render);
		return this.deps.prepare && rendered.length > 0 ? await this.deps.prepare(rendered) : rendered;
	}

	/** Label names only decorate the items: when labels.list fails, emit with the last known (or ids alone). */
	private async labelList(): Promise<GmailLabel[]> {
		if (!this.labels || this.clock.now() - this.labels.at > LABELS_TTL_MS) {
			try {
				this.labels = { at: this.clock.now(), list: await this.deps.port.listLabels() };
			} catch (error) {
				this.deps.logger.warn(`Gmail Push Trigger: labels.list failed, emitting with the label names last known: ${(error as Error).message}`);
				return this.labels?.list ?? [];
			}
		}
		return this.labels.list;
	}
}
