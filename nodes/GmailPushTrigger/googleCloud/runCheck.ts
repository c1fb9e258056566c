/**
 * The set-up check in n8n: on a test run in the editor (before the sample) and after a failed
 * activation, every prerequisite of the delivery (check.ts). Read-only.
 */
import type { NodeOperationError } from 'n8n-workflow';
import { authFor } from '../transport/auth';
import { createPubSubAdmin, pubSubAuthFor } from '../transport/pubsubAdmin';
import { createGmailPort } from '../transport/gmail';
import { redact, withoutSecrets } from '../core/redact';
import { checkSetUp, type SetUpCheckInput } from './check';
import type { CheckLine } from './findings';
import { addCheckTo, setUpCheckError } from './nodeErrors';
import { wantedSubscription, type CloudConfig, type NodeContext, type PushTarget } from './wanted';

/** A check that cannot finish in this time is left out rather than holding up the answer. */
const CHECK_TIMEOUT_MS = 20_000;

/** What activation learnt before the check: the grant or the set-up Google refused. */
export type CheckFindings = Pick<SetUpCheckInput, 'grantRefusal' | 'setUpRefusal'>;

export async function runSetUpCheck(context: NodeContext, config: CloudConfig, push?: PushTarget, findings: CheckFindings = {}): Promise<CheckLine[]> {
	const gmail = createGmailPort(await authFor(context, config.authentication));
	const admin = config.delivery === 'poll' ? undefined : createPubSubAdmin(await pubSubAuthFor(context, config.authentication));
	const subscription = config.delivery === 'poll' ? undefined : wantedSubscription(context, config, push);
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`the set-up check took longer than ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
	});
	try {
		return await Promise.race([
			checkSetUp(
				{ gmail, ...(admin && { admin }) },
				{ delivery: config.delivery, topic: config.watch.topicName, ...(subscription && { subscription }), setUpOn: config.setUpGoogleCloud, ...findings },
			),
			timeout,
		]);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * A test run's set-up check: an error naming what fails, or undefined when all holds or the
 * check cannot run (then the run goes on to its sample, and the log says why).
 */
export async function testRunSetUpProblem(
	context: NodeContext & { logger: { warn(message: string): void } },
	config: () => Promise<{ config: CloudConfig; push?: PushTarget }>,
): Promise<NodeOperationError | undefined> {
	try {
		const { config: read, push } = await config();
		return setUpCheckError(context.getNode(), await runSetUpCheck(context, read, push));
	} catch (error) {
		context.logger.warn(`Gmail Push Trigger: the set-up check could not run: ${redact((error as Error).message)}`);
		return undefined;
	}
}

/**
 * Google's refusals (403, 404, 400) and a subscriber that cannot start may come from the set-up.
 * A rejected credential (401), a rate limit or an outage do not: the check would only repeat
 * them, with more calls against a Google that is already refusing.
 */
function setUpMayBeTheCause(error: Error): boolean {
	const code = Number((error as { httpCode?: unknown }).httpCode);
	if (code === 401 || code === 429 || code >= 500) return false;
	return !/invalid_grant|expired or revoked|invalid jwt/i.test(error.message);
}

/**
 * An activation error with the set-up check added (nodeErrors.ts addCheckTo). The error is
 * returned unchanged when the check finds nothing or cannot run.
 */
export async function withSetUpCheck<E>(error: E, context: NodeContext, config: CloudConfig, push?: PushTarget, grantRefusal?: string): Promise<E> {
	if (!(error instanceof Error) || config.delivery === 'poll' || !setUpMayBeTheCause(error)) return error;
	let lines: CheckLine[];
	try {
		lines = await runSetUpCheck(context, config, push, grantRefusal ? { grantRefusal } : {});
	} catch {
		return error;
	}
	return addCheckTo(error, lines) ? withoutSecrets(error, [push?.pushEndpoint]) : error;
}
