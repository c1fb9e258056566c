/**
 * Asking Gmail's Search again about new emails it missed (its index lags): those due are asked
 * once more (core/recheck), found ones emitted, the rest let go.
 */
import type { OutputItem } from '../core/output';
import { dueForRecheck, nextRecheckAt, readHeld, RECHECK_DELAY_MS, recheckSearch, type HeldForSearch, type RecheckResult } from '../core/recheck';
import { seenKeys } from '../core/seen';
import type { SyncedEvent } from '../core/historyEvent';
import type { Clock } from './clock';
import type { EngineDeps } from './engineDeps';
import { SyncTimer } from './followUp';
import { rememberInState, setHeld } from './triggerState';

export interface RecheckHost {
	deps: EngineDeps;
	clock: Clock;
	stopping(): boolean;
	sync(): Promise<unknown>;
	itemsFor(events: readonly SyncedEvent[]): Promise<OutputItem[]>;
	handOver(items: OutputItem[], events: readonly SyncedEvent[], number: number): Promise<void>;
}

export class SearchRecheck {
	private readonly timer: SyncTimer;
	private readonly delayMs: number;

	constructor(private readonly host: RecheckHost) {
		this.delayMs = host.deps.searchRecheckMs ?? RECHECK_DELAY_MS;
		this.timer = new SyncTimer(host.clock, () => host.sync(), () => host.stopping(), host.deps.logger, 'the sync to ask Search again failed, the next sync does');
	}

	/**
	 * Asks about the held emails that are due and emits those found. A Gmail failure keeps them
	 * held and does not fail the sync, whose own emails are already out. Returns how many went out.
	 */
	async runDue(): Promise<number> {
		const { deps, clock } = this.host;
		const state = deps.state;
		const { due, later } = dueForRecheck(readHeld(state.searchRecheck), clock.now(), this.delayMs);
		const answer = due.length > 0 ? await this.ask(due) : undefined;
		if (answer && !this.host.stopping()) {
			setHeld(state, later);
			if (answer.events.length > 0) rememberInState(state, answer.events.map((e) => e.key));
		}
		this.arm();
		if (!answer || this.host.stopping()) return 0;
		if (answer.items.length > 0) await this.host.handOver(answer.items, answer.events, 1);
		deps.logger.debug('Gmail Push Trigger: asked Search again', { asked: answer.asked, emitted: answer.items.length, dropped: answer.dropped });
		return answer.items.length;
	}

	cancel(): void {
		this.timer.cancel();
	}

	private async ask(due: HeldForSearch[]): Promise<(RecheckResult & { items: OutputItem[] }) | undefined> {
		const { deps } = this.host;
		try {
			const result = await recheckSearch(deps.port, due, seenKeys(deps.state, deps.state.recent), deps.sync);
			return { ...result, items: await this.host.itemsFor(result.events) };
		} catch (error) {
			deps.logger.warn(`Gmail Push Trigger: asking Gmail's search again failed, will retry: ${(error as Error).message}`);
			return undefined;
		}
	}

	/** (Re)arms the next ask, at least half a delay away: a failing one is not retried in a loop. */
	private arm(): void {
		this.timer.cancel();
		const at = nextRecheckAt(readHeld(this.host.deps.state.searchRecheck), this.delayMs);
		if (at === undefined) return;
		this.timer.arm(Math.max(at - this.host.clock.now(), this.delayMs / 2));
	}
}
