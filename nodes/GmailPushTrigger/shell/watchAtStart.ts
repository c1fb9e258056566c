import type { ITriggerFunctions } from 'n8n-workflow';
import type { MailboxEngine } from '../engine/mailboxEngine';
import type { TriggerConfig } from './config';
import { toNodeApiError } from './errors';
import { isRestart } from './context';
import { setUpGoogleCloud } from '../googleCloud/activation';
import { withSetUpCheck } from '../googleCloud/runCheck';
import { whileGrantPropagates } from '../transport/retry';

/** Each delivery's watch (or cursor) at the trigger's start; a failure names what to fix. */
export const WATCH_AT_START: Record<TriggerConfig['delivery'], (context: ITriggerFunctions, config: TriggerConfig, engine: MailboxEngine, key: string) => Promise<void>> = {
	pull: async (context, config, engine, key) => {
		// Before the watch: Gmail refuses to watch a topic it may not publish to.
		const setUp = await setUpGoogleCloud(context, config);
		// closeFunction stopped the watch at the last shutdown: always watch anew.
		await failingWithSetUpCheck(context, config, async () => await whileGrantPropagates(setUp?.grant === 'granted', async () => await engine.ensureWatch(key, { force: true })));
	},
	push: async (context, config, engine, key) => {
		// create() set up and watched just before (n8n: see docs/n8n-behaviour.md#activation-order): its
		// watch is taken over. On a restart create() may not have run: watch anyway, without failing the start.
		await failingWithSetUpCheck(context, config, async () => {
			if (isRestart(context.getActivationMode())) await engine.ensureWatchOnRestart(key);
			else await engine.ensureWatch(key, { force: true });
		});
	},
	poll: async (context, config, engine) => await failingWithSetUpCheck(context, config, async () => await engine.ensureCursor()),
};

async function failingWithSetUpCheck(context: ITriggerFunctions, config: TriggerConfig, watch: () => Promise<unknown>): Promise<void> {
	try {
		await watch();
	} catch (error) {
		throw await withSetUpCheck(toNodeApiError(context.getNode(), error, { topicName: config.watch.topicName, during: 'watch' }), context, config);
	}
}
