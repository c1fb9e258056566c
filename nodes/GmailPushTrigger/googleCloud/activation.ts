/**
 * Set Up Google Cloud at activation (pull: trigger(); push: create(), which knows the Production
 * URL): make what is missing, check what exists. A credential that may not manage Pub/Sub passes
 * when a read-only check finds everything in place; otherwise activation says what to grant.
 */
import { NodeOperationError } from 'n8n-workflow';
import { PubSubAdminError } from '../transport/pubsubAdminPort';
import { createPubSubAdmin, pubSubAuthFor, pubSubServiceAccount } from '../transport/pubsubAdmin';
import { projectOfName } from '../core/names';
import { redact } from '../core/redact';
import { failureOf, isApiDisabled, isOrganisationPolicy } from './googleFailure';
import { refusedSetUpError, setUpError } from './nodeErrors';
import { problemText } from './renderText';
import { runSetUpCheck, withSetUpCheck } from './runCheck';
import { ensureGoogleCloud, type SetUpReport } from './setUp';
import { wantedSubscription, type CloudConfig, type NodeContext, type PushTarget } from './wanted';

interface Logger {
	info(message: string): void;
	warn(message: string): void;
}

export type SetUpContext = NodeContext & { logger: Logger };

/**
 * Runs the set-up when the node asks for it. `push` is given for push delivery (and only then);
 * the push subscription is named as the user named it, or after the workflow and node.
 */
export async function setUpGoogleCloud(context: SetUpContext, config: CloudConfig, push?: PushTarget): Promise<SetUpReport | undefined> {
	if (!config.setUpGoogleCloud || (config.delivery === 'push') !== (push !== undefined)) return undefined;
	const topic = config.watch.topicName;
	const wanted = wantedSubscription(context, config, push);
	const admin = createPubSubAdmin(await pubSubAuthFor(context, config.authentication));
	const started = Date.now();
	try {
		const report = await ensureGoogleCloud(admin, topic, wanted);
		context.logger.info(
			`Gmail Push Trigger: Google Cloud set up: topic ${topic} ${report.topic}, Gmail's publisher grant ${report.grant}, ` +
				`${wanted?.kind} subscription ${wanted?.name} ${report.subscription} (${report.calls} Pub/Sub calls, ${Date.now() - started} ms)`,
		);
		for (const warning of report.warnings ?? []) context.logger.warn(`Gmail Push Trigger: ${redact(problemText(warning), [push?.pushEndpoint])}`);
		return report;
	} catch (error) {
		if (error instanceof PubSubAdminError && (error.status === 401 || error.status === 403) && !isApiDisabled(failureOf(error))) {
			await verifyAfterRefusal(context, config, push, error);
			return undefined;
		}
		const refusal = error instanceof PubSubAdminError && isOrganisationPolicy(error) ? error.message : undefined;
		throw await withSetUpCheck(setUpError(context.getNode(), error, projectOfName(topic) ?? '', push?.pushEndpoint), context, config, push, refusal);
	}
}

/**
 * Google refused part of the set-up (a credential that may only read Pub/Sub, a signed push
 * subscription without actAs on its signer, a token without the Pub/Sub scope). Going on would
 * watch a mailbox whose notifications reach no subscription, so what the delivery needs is
 * checked read-only: all in place, activation goes on with a warning; otherwise it fails.
 */
async function verifyAfterRefusal(context: SetUpContext, config: CloudConfig, push: PushTarget | undefined, error: PubSubAdminError): Promise<void> {
	const serviceAccount = await pubSubServiceAccount(context, config.authentication);
	const message = redact(error.message, [push?.pushEndpoint]);
	const setUpRefusal = { message, ...(error.call && { call: error.call }), ...(serviceAccount && { serviceAccount }) };
	const lines = await runSetUpCheck(context, config, push, { setUpRefusal }).catch((checkError: Error) => {
		throw new NodeOperationError(context.getNode(), `Setting up Google Cloud was refused (${message}), and what exists could not be checked: ${redact(checkError.message, [push?.pushEndpoint])}`);
	});
	const problem = refusedSetUpError(context.getNode(), message, lines);
	if (problem) throw problem;
	context.logger.warn(
		`Gmail Push Trigger: Set Up Google Cloud may not manage Pub/Sub in project ${projectOfName(config.watch.topicName) ?? ''} (${message}); ` +
			'the topic and the subscription are in place, so the node uses them as they are. Give the credential Pub/Sub Admin (IAM & Admin > IAM), or turn off Set Up Google Cloud.',
	);
}
