/**
 * Emits with n8n's `donePromise`, so the emails of a crashed execution go out again (core/outcome,
 * engine/reEmission); cursor and dedupe record already count them as emitted.
 * n8n: see docs/n8n-behaviour.md#crashed-executions
 */
import { NodeOperationError, type IDeferredPromise, type INode, type IRun, type ITriggerFunctions } from 'n8n-workflow';
import type { OutputItem } from '../core/output';
import { MAX_EMISSIONS, outcomeOf, redeliveryDecision } from '../core/outcome';
import { systemClock, type Clock } from '../engine/clock';
import { noteHandedOver, type AgainReason, type EmissionLedger } from '../engine/emissionLedger';
import type { Emission } from '../engine/engineDeps';
import type { MailboxEngine } from '../engine/mailboxEngine';
import { idsOf, ReEmission, RETRIES, WHAT } from '../engine/reEmission';
import { toExecutionData } from './state';

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

function notEmittedAgain(node: INode, emission: Emission, reason: AgainReason, message: string): NodeOperationError {
	return new NodeOperationError(node, `${emission.events.length} email(s) ${WHAT[reason]} could not be emitted again (${RETRIES} tries): ${message}`, {
		description:
			`Message ids: ${idsOf(emission).join(', ')}. They ${reason === 'crashed' ? 'are' : 'may be'} in no successful execution and the trigger will not emit them again. ` +
			`Fix what the error names, then retry the ${reason === 'crashed' ? 'crashed execution' : 'execution'} from the executions list, or handle these emails by hand.`,
	});
}

function crashedTooOften(node: INode, emission: Emission): NodeOperationError {
	return new NodeOperationError(node, `${emission.events.length} email(s) were in ${MAX_EMISSIONS} executions in a row that crashed; they are not emitted again`, {
		description:
			`Message ids: ${idsOf(emission).join(', ')}. The executions list shows the crashed executions: ` +
			'find out why n8n or its workers stop during them (memory, restarts), then retry one of them from there.',
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
export function redelivery(context: TrackingContext, engine: () => MailboxEngine | undefined, reportError: (error: Error) => void, ledger?: EmissionLedger, clock: Clock = systemClock): Redelivery {
	const onGaveUp = (emission: Emission, reason: AgainReason, message: string) => reportError(notEmittedAgain(context.getNode(), emission, reason, message));
	const again = new ReEmission({ engine, ledger, clock, logger: context.logger, onGaveUp });

	const settle = (run: IRun | undefined, emission: Emission): void => {
		const decision = redeliveryDecision(outcomeOf(run), emission.number);
		if (decision === 'settled') return again.settled(emission);
		if (decision === 'emit-again') {
			context.logger.warn(
				`Gmail Push Trigger: the execution with ${emission.events.length} email(s) crashed (its worker or n8n stopped during it); emitting them again (emission ${emission.number + 1} of at most ${MAX_EMISSIONS})`,
			);
			// Listed until the emission again takes its place (engine.emitAgain).
			return again.emitAgain(emission, 'crashed');
		}
		again.settled(emission);
		const error = crashedTooOften(context.getNode(), emission);
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
				again.settled(emission);
			},
		);
	};

	return { deliver, emitAgain: (emission, reason) => again.emitAgain(emission, reason) };
}

/** The engine's `deliver` for an active trigger (see redelivery). */
export function trackedDelivery(context: TrackingContext, engine: () => MailboxEngine | undefined, reportError: (error: Error) => void, ledger?: EmissionLedger) {
	return redelivery(context, engine, reportError, ledger).deliver;
}
