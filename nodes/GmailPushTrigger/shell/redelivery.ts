/**
 * Emits with n8n's `donePromise`, so that the trigger learns how each execution it started
 * ended, and emits the emails of a crashed one again (core/outcome). In queue mode n8n resolves
 * it once the worker's job is done, also for a job whose worker was killed: as `crashed` when
 * that worker comes back, or with a MaxStalledCountError. The cursor and the dedupe record are
 * not touched: they already count the emails as emitted, which is what keeps a later sync from
 * emitting them a second time. Each outcome also takes its emission off the state's list of
 * unsettled ones (core/unsettled), and tells this process's ledger (a save starts a new trigger).
 */
import { NodeOperationError, type IDeferredPromise, type INode, type IRun, type ITriggerFunctions } from 'n8n-workflow';
import type { OutputItem } from '../core/output';
import { MAX_EMISSIONS, outcomeOf, redeliveryDecision } from '../core/outcome';
import type { Emission, MailboxEngine } from './engine';
import { settleInState, toExecutionData } from './state';
import { forgetEmission, noteHandedOver, noteSettled, type EmissionLedger } from './unsettled';

/** A failed emission-again (Gmail unreachable) is tried this often, this far apart. */
export const RETRIES = 5;
export const RETRY_MS = 30_000;

function deferred<T>(): IDeferredPromise<T> {
	let resolve!: (value: T | PromiseLike<T>) => void;
	let reject!: (error: Error) => void;
	const promise = new Promise<T>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}

type TrackingContext = Pick<ITriggerFunctions, 'emit' | 'getNode' | 'logger'>;

/** Why emails go out again: their execution crashed, or its outcome was lost with a restart. */
export type AgainReason = 'crashed' | 'restart';

const WHAT: Record<AgainReason, string> = {
	crashed: 'of a crashed execution',
	restart: 'of an execution whose outcome n8n never reported to the trigger (n8n restarted)',
};

const idsOf = (emission: Emission) => emission.events.map((e) => e.ref.id);

function notEmittedAgain(node: INode, emission: Emission, reason: AgainReason, message: string): NodeOperationError {
	return new NodeOperationError(node, `${emission.events.length} email(s) ${WHAT[reason]} could not be emitted again (${RETRIES} tries): ${message}`, {
		description:
			`Message ids: ${idsOf(emission).join(', ')}. They ${reason === 'crashed' ? 'are' : 'may be'} in no successful execution and the trigger will not emit them again. ` +
			`Fix what the error names, then retry the ${reason === 'crashed' ? 'crashed execution' : 'execution'} from the executions list, or handle these emails by hand.`,
	});
}

export interface Redelivery {
	/** The engine's `deliver` for an active trigger. */
	deliver: (items: OutputItem[], emission: Emission) => void;
	/** Emits an emission's emails again, retrying a Gmail failure (RETRY_MS apart). */
	emitAgain: (emission: Emission, reason: AgainReason) => void;
}

/**
 * `engine` is read when an outcome arrives. `reportError` is the trigger's error path (the
 * editor shows it, the error workflow runs). `ledger` is this process's record for the node.
 */
export function redelivery(context: TrackingContext, engine: () => MailboxEngine | undefined, reportError: (error: Error) => void, ledger?: EmissionLedger): Redelivery {
	/** Off the list of the engine that emitted it and of the node's running trigger here. */
	const settled = (emission: Emission): void => {
		const current = engine();
		if (current) settleInState(current.state, emission.at);
		if (ledger?.current) settleInState(ledger.current.state, emission.at);
		noteSettled(ledger, emission.at);
	};

	const emitAgain = (emission: Emission, reason: AgainReason, attempt = 1): void => {
		const current = engine();
		if (!current) return;
		const what = `the ${emission.events.length} email(s) ${WHAT[reason]}`;
		const failed = (error: unknown): void => {
			const message = (error as Error).message;
			const stopping = /is stopping/.test(message);
			// A save started a new trigger here meanwhile: it takes them over (they are in its list).
			const successor = stopping ? ledger?.current : undefined;
			if (successor && successor.state !== current.state) {
				successor.emitAgain(emission, reason);
				return;
			}
			if (stopping || attempt >= RETRIES) {
				context.logger.error(`Gmail Push Trigger: could not emit ${what} again: ${message}`, { messageIds: idsOf(emission) });
				// Not through a closed trigger: n8n would add the workflow's triggers again. Its
				// saved list still names them: a later start here must not take them for settled.
				if (stopping) forgetEmission(ledger, emission.at);
				else {
					settled(emission);
					reportError(notEmittedAgain(context.getNode(), emission, reason, message));
				}
				return;
			}
			context.logger.warn(`Gmail Push Trigger: emitting ${what} again failed, next try in ${RETRY_MS / 1000} s: ${message}`);
			setTimeout(() => emitAgain(emission, reason, attempt + 1), RETRY_MS).unref?.();
		};
		const marked = reason === 'restart' ? ', marked possibleDuplicate' : '';
		current.emitAgain(emission).then((count) => context.logger.info(`Gmail Push Trigger: emitted the ${count} email(s) ${WHAT[reason]} again${marked}`), failed);
	};

	const settle = (run: IRun | undefined, emission: Emission): void => {
		const decision = redeliveryDecision(outcomeOf(run), emission.number);
		if (decision === 'settled') return settled(emission);
		const count = emission.events.length;
		if (decision === 'emit-again') {
			context.logger.warn(
				`Gmail Push Trigger: the execution with ${count} email(s) crashed (its worker or n8n stopped during it); emitting them again (emission ${emission.number + 1} of at most ${MAX_EMISSIONS})`,
			);
			// Listed until the emission again takes its place (engine.emitAgain).
			emitAgain(emission, 'crashed');
			return;
		}
		settled(emission);
		const error = new NodeOperationError(context.getNode(), `${count} email(s) were in ${MAX_EMISSIONS} executions in a row that crashed; they are not emitted again`, {
			description:
				`Message ids: ${idsOf(emission).join(', ')}. The executions list shows the crashed executions: ` +
				'find out why n8n or its workers stop during them (memory, restarts), then retry one of them from there.',
		});
		// Not through a closed trigger: n8n would add the workflow's triggers again.
		if (engine()?.stopped !== false) context.logger.error(`Gmail Push Trigger: ${error.message}`, { messageIds: idsOf(emission) });
		else reportError(error);
	};

	const deliver = (items: OutputItem[], emission: Emission): void => {
		const done = deferred<IRun>();
		noteHandedOver(ledger, emission.at);
		context.emit([toExecutionData(items)], undefined, done);
		done.promise.then(
			(run) => settle(run, emission),
			// n8n could not say (the execution was cancelled, or it lost track of it): nothing to redo.
			(error: unknown) => {
				context.logger.debug(`Gmail Push Trigger: no outcome for an emitted execution: ${(error as Error)?.message ?? String(error)}`);
				settled(emission);
			},
		);
	};

	return { deliver, emitAgain };
}

/** The engine's `deliver` for an active trigger (see redelivery). */
export function trackedDelivery(context: TrackingContext, engine: () => MailboxEngine | undefined, reportError: (error: Error) => void, ledger?: EmissionLedger) {
	return redelivery(context, engine, reportError, ledger).deliver;
}
