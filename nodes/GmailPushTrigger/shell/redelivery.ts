/**
 * Emits with n8n's `donePromise`, so that the trigger learns how each execution it started
 * ended, and emits the emails of a crashed one again (core/outcome). In queue mode n8n resolves
 * it once the worker's job is done, also for a job whose worker was killed: as `crashed` when
 * that worker comes back, or with a MaxStalledCountError. The cursor and the dedupe record are
 * not touched: they already count the emails as emitted, which is what keeps a later sync from
 * emitting them a second time.
 */
import { NodeOperationError, type IDeferredPromise, type INode, type IRun, type ITriggerFunctions } from 'n8n-workflow';
import type { OutputItem } from '../core/output';
import { MAX_EMISSIONS, outcomeOf, redeliveryDecision } from '../core/outcome';
import type { Emission, MailboxEngine } from './engine';
import { toExecutionData } from './state';

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

const idsOf = (emission: Emission) => emission.events.map((e) => e.ref.id);

function notEmittedAgain(node: INode, emission: Emission, reason: string): NodeOperationError {
	return new NodeOperationError(node, `${emission.events.length} email(s) of a crashed execution could not be emitted again (${RETRIES} tries): ${reason}`, {
		description:
			`Message ids: ${idsOf(emission).join(', ')}. They are in no successful execution and the trigger will not emit them again. ` +
			'Fix what the error names, then retry the crashed execution from the executions list, or handle these emails by hand.',
	});
}

/**
 * The engine's `deliver` for an active trigger; `engine` is read when a crash is reported.
 * `reportError` is the trigger's error path (the editor shows it, the error workflow runs).
 */
export function trackedDelivery(context: TrackingContext, engine: () => MailboxEngine | undefined, reportError: (error: Error) => void) {
	const emitAgain = (emission: Emission, attempt = 1): void => {
		const current = engine();
		if (!current) return;
		const failed = (error: unknown): void => {
			const message = (error as Error).message;
			const stopping = /is stopping/.test(message);
			if (stopping || attempt >= RETRIES) {
				context.logger.error(`Gmail Push Trigger: could not emit the ${emission.events.length} email(s) of a crashed execution again: ${message}`, { messageIds: idsOf(emission) });
				// Not through a closed trigger: n8n would add the workflow's triggers again.
				if (!stopping) reportError(notEmittedAgain(context.getNode(), emission, message));
				return;
			}
			context.logger.warn(`Gmail Push Trigger: emitting the emails of a crashed execution again failed, next try in ${RETRY_MS / 1000} s: ${message}`);
			setTimeout(() => emitAgain(emission, attempt + 1), RETRY_MS).unref?.();
		};
		current.emitAgain(emission).then((count) => context.logger.info(`Gmail Push Trigger: emitted the ${count} email(s) of a crashed execution again`), failed);
	};

	const settle = (run: IRun | undefined, emission: Emission): void => {
		const decision = redeliveryDecision(outcomeOf(run), emission.number);
		if (decision === 'settled') return;
		const count = emission.events.length;
		if (decision === 'emit-again') {
			context.logger.warn(
				`Gmail Push Trigger: the execution with ${count} email(s) crashed (its worker or n8n stopped during it); emitting them again (emission ${emission.number + 1} of at most ${MAX_EMISSIONS})`,
			);
			emitAgain(emission);
			return;
		}
		reportError(
			new NodeOperationError(context.getNode(), `${count} email(s) were in ${MAX_EMISSIONS} executions in a row that crashed; they are not emitted again`, {
				description:
					`Message ids: ${idsOf(emission).join(', ')}. The executions list shows the crashed executions: ` +
					'find out why n8n or its workers stop during them (memory, restarts), then retry one of them from there.',
			}),
		);
	};

	return (items: OutputItem[], emission: Emission): void => {
		const done = deferred<IRun>();
		context.emit([toExecutionData(items)], undefined, done);
		done.promise.then(
			(run) => settle(run, emission),
			// n8n could not say (the execution was cancelled, or it lost track of it): nothing to redo.
			(error: unknown) => context.logger.debug(`Gmail Push Trigger: no outcome for an emitted execution: ${(error as Error)?.message ?? String(error)}`),
		);
	};
}
