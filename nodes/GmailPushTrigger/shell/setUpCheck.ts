/**
 * The set-up check in n8n: on a test run in the editor (before the sample) and after a failed
 * activation, every prerequisite of the delivery in one line (core/check.ts). Read-only.
 */
import { NodeOperationError, type INode } from 'n8n-workflow';
import { checkSetUp, failingLines, formatCheck, unverifiedLines, type CheckLine, type SetUpCheckInput } from '../core/check';
import { authFor, type N8nContext } from '../transport/auth';
import { createPubSubAdmin, pubSubAuthFor } from '../transport/pubsubAdmin';
import { createGmailPort } from '../transport/gmail';
import type { TriggerConfig } from './config';
import { wantedSubscription, type PushTarget } from './googleCloud';
import { withoutSecrets } from './errors';
import { redact } from '../core/redact';

type CheckContext = N8nContext & { getWorkflow(): { id?: string } };

/** A check that cannot finish in this time is left out rather than holding up the answer. */
const CHECK_TIMEOUT_MS = 20_000;

/** What activation learnt before the check: the grant or the set-up Google refused. */
export type CheckFindings = Pick<SetUpCheckInput, 'grantRefusal' | 'setUpRefusal'>;

export async function runSetUpCheck(context: CheckContext, config: TriggerConfig, push?: PushTarget, findings: CheckFindings = {}): Promise<CheckLine[]> {
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
	context: CheckContext & { logger: { warn(message: string): void } },
	config: () => Promise<{ config: TriggerConfig; push?: PushTarget }>,
): Promise<NodeOperationError | undefined> {
	try {
		const { config: read, push } = await config();
		return setUpCheckError(context.getNode(), await runSetUpCheck(context, read, push));
	} catch (error) {
		context.logger.warn(`Gmail Push Trigger: the set-up check could not run: ${redact((error as Error).message)}`);
		return undefined;
	}
}

/** The test run's answer when a prerequisite fails: the failing ones in the message, all of them below. */
export function setUpCheckError(node: INode, lines: CheckLine[]): NodeOperationError | undefined {
	const failing = failingLines(lines);
	if (failing.length === 0) return undefined;
	return new NodeOperationError(node, `Set-up check: ${failing.map((l) => `${l.prerequisite}: ${l.text}`).join(' | ')}`, {
		description: `${failing.length} of ${lines.length} prerequisites fail (✓ holds, ✗ fails, → made at activation, ? not checked, ! works but should change):\n${formatCheck(lines)}`,
	});
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
 * An activation error with the set-up check added: the failing lines after its message, every
 * line in its description. The error is returned unchanged when the check finds nothing or
 * cannot run.
 */
export async function withSetUpCheck<E>(error: E, context: CheckContext, config: TriggerConfig, push?: PushTarget, grantRefusal?: string): Promise<E> {
	if (!(error instanceof Error) || config.delivery === 'poll' || !setUpMayBeTheCause(error)) return error;
	let lines: CheckLine[];
	try {
		lines = await runSetUpCheck(context, config, push, grantRefusal ? { grantRefusal } : {});
	} catch {
		return error;
	}
	const failing = failingLines(lines);
	if (failing.length === 0) return error;
	const described = error as Error & { description?: string | null };
	error.message = `${error.message} — set-up check: ${failing.map((l) => `${l.prerequisite}: ${l.text}`).join(' | ')}`;
	described.description = [described.description, `Set-up check:\n${formatCheck(lines)}`].filter(Boolean).join('\n\n');
	return withoutSecrets(error, [push?.pushEndpoint]);
}

/**
 * After Google refused part of the set-up: the activation error when the read-only check cannot
 * confirm what the delivery needs (what is missing or unreadable, and what to grant), or
 * undefined when all of it is in place.
 */
export function refusedSetUpError(node: INode, refusal: string, lines: CheckLine[]): NodeOperationError | undefined {
	const unverified = unverifiedLines(lines);
	if (unverified.length === 0) return undefined;
	return new NodeOperationError(node, `Setting up Google Cloud was refused (${refusal}) — set-up check: ${unverified.map((l) => `${l.prerequisite}: ${l.text}`).join(' | ')}`, {
		description: `Activation stops here rather than watch a mailbox whose notifications reach no subscription. Set-up check:\n${formatCheck(lines)}`,
	});
}
