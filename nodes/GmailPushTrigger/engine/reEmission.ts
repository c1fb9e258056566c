/**
 * Emitting an emission's emails again (its execution crashed, or its outcome was lost with a
 * restart), retrying a Gmail failure; and taking a settled emission off the lists that name it.
 */
import type { Logger } from '../core/logger';
import type { Clock } from './clock';
import { forgetEmission, noteSettled, type AgainReason, type EmissionLedger } from './emissionLedger';
import type { Emission } from './engineDeps';
import { EngineStopping, type MailboxEngine } from './mailboxEngine';
import { settleInState } from './triggerState';

/** A failed emission-again (Gmail unreachable) is tried this often, this far apart. */
export const RETRIES = 5;
export const RETRY_MS = 30_000;

export const WHAT: Record<AgainReason, string> = {
	crashed: 'of a crashed execution',
	restart: 'of an execution whose outcome n8n never reported to the trigger (n8n restarted)',
};

export const idsOf = (emission: Emission): string[] => emission.events.map((e) => e.ref.id);

export interface ReEmissionDeps {
	/** The engine that emitted; read when an outcome arrives. */
	engine: () => MailboxEngine | undefined;
	/** This process's record of the node's emissions. */
	ledger?: EmissionLedger;
	clock: Clock;
	logger: Logger;
	/** The emails could not go out again in RETRIES tries: the shell reports them to the user. */
	onGaveUp: (emission: Emission, reason: AgainReason, message: string) => void;
}

export class ReEmission {
	constructor(private readonly deps: ReEmissionDeps) {}

	/** Off the list of the engine that emitted it and of the node's running trigger here. */
	settled(emission: Emission): void {
		const { engine, ledger } = this.deps;
		const current = engine();
		if (current) settleInState(current.state, emission.at);
		if (ledger?.current) settleInState(ledger.current.state, emission.at);
		noteSettled(ledger, emission.at);
	}

	/** Emits the emails again through the engine; a failure is tried again RETRY_MS later. */
	emitAgain(emission: Emission, reason: AgainReason, attempt = 1): void {
		const current = this.deps.engine();
		if (!current) return;
		const marked = reason === 'restart' ? ', marked possibleDuplicate' : '';
		current.emitAgain(emission).then(
			(count) => this.deps.logger.info(`Gmail Push Trigger: emitted the ${count} email(s) ${WHAT[reason]} again${marked}`),
			(error: unknown) => this.failed(current, emission, reason, attempt, error as Error),
		);
	}

	private failed(current: MailboxEngine, emission: Emission, reason: AgainReason, attempt: number, error: Error): void {
		const { message } = error;
		const { ledger, logger } = this.deps;
		const what = `the ${emission.events.length} email(s) ${WHAT[reason]}`;
		const stopping = error instanceof EngineStopping;
		// A save started a new trigger here meanwhile: it takes them over (they are in its list).
		const successor = stopping ? ledger?.current : undefined;
		if (successor && successor.state !== current.state) return successor.emitAgain(emission, reason);
		if (stopping || attempt >= RETRIES) {
			logger.error(`Gmail Push Trigger: could not emit ${what} again: ${message}`, { messageIds: idsOf(emission) });
			// Not through a closed trigger (n8n would add its triggers again); its saved list still names them.
			if (stopping) return forgetEmission(ledger, emission.at);
			this.settled(emission);
			return this.deps.onGaveUp(emission, reason, message);
		}
		logger.warn(`Gmail Push Trigger: emitting ${what} again failed, next try in ${RETRY_MS / 1000} s: ${message}`);
		this.deps.clock.setTimeout(() => this.emitAgain(emission, reason, attempt + 1), RETRY_MS);
	}
}
