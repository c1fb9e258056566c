/**
 * Set-up shared by the chaos suite and scripts/bench-latency.ts: the fake Google over HTTPS on a
 * free port (seeded mailbox; n8n's preload redirects Google's 443 there via FAKE_GOOGLE_PORT,
 * since 127.0.0.1:443 is shared), a real n8n of one major with the packed package, a
 * service-account credential with a real RSA key, and workflows activated the way push.test.ts
 * does it. Execution bookkeeping reads n8n's sqlite DB directly (cheap enough to poll).
 */
import type { FakeGoogle } from '../../support/fakeGoogle';
import { startStack, withLogTail } from '../../support/stack';
import { sqlite, staticDataFromDb, waitFor, type CredentialRef, type N8nMajor, type N8nSession, type WorkflowJson } from '../../support/n8n';
import { TRIGGER, type TriggerState } from '../helpers/pushRig';

export interface ChaosRig {
	major: N8nMajor;
	fake: FakeGoogle;
	session: N8nSession;
	credential: CredentialRef;
	/** The service account's private key (PEM), e.g. for another credential of the same account. */
	privateKey: string;
	close(): Promise<void>;
	/** Imports and activates a workflow; waits for its webhook (push), its watch (push, pull) and its first sync. */
	deploy(workflow: WorkflowJson): Promise<{ id: string; webhookPath?: string }>;
	/** Executions of the workflow by status, from n8n's DB. */
	executionStatuses(workflowId: string): Promise<Record<string, number>>;
	/** The trigger's static data as stored in n8n's DB. */
	storedState(workflowId: string): Promise<TriggerState>;
	/** Runs `fn`; on failure adds the tail of n8n's log to the error. */
	step<T>(fn: () => Promise<T>): Promise<T>;
}

export async function startChaosRig(major: N8nMajor, options: { seed?: number; env?: Record<string, string> } = {}): Promise<ChaosRig> {
	const { fake, session, credential, privateKey, close } = await startStack(major, { env: options.env, fake: { seed: options.seed } });

	const rig: ChaosRig = {
		major,
		fake,
		session,
		credential,
		privateKey,
		close,
		async deploy(workflow) {
			const id = await session.api.importWorkflow(workflow, [credential]);
			const trigger = workflow.nodes.find((n) => n.name === TRIGGER)!;
			const delivery = String(trigger.parameters.delivery ?? 'push');
			const webhookPath = delivery === 'push' ? `${trigger.webhookId}/webhook` : undefined;
			const watches = fake.count('users.watch');
			const histories = fake.count('history.list');
			const activation = await session.api.activate(id);
			if (activation.status !== 200) throw new Error(`activation of ${workflow.name}: ${activation.status} ${activation.text.slice(0, 500)}`);
			if (webhookPath) await session.api.waitForWebhookRegistered(webhookPath, 120_000);
			if (delivery !== 'poll') await waitFor(`users.watch for ${workflow.name}`, () => fake.count('users.watch') > watches, 120_000);
			// The trigger's first tick syncs once (mail that arrived while n8n was down).
			await waitFor(`the first sync of ${workflow.name}`, () => fake.count('history.list') > histories, 120_000);
			await waitFor(`the cursor of ${workflow.name} in the DB`, async () => (await rig.storedState(id)).cursor !== undefined, 120_000, 250);
			return { id, webhookPath };
		},
		async executionStatuses(workflowId) {
			const out = await sqlite(session.userFolder, `SELECT status, COUNT(*) AS n FROM execution_entity WHERE workflowId = '${workflowId.replace(/'/g, "''")}' GROUP BY status`);
			const rows = (out.trim() ? JSON.parse(out) : []) as Array<{ status: string; n: number }>;
			return Object.fromEntries(rows.map((r) => [r.status, r.n]));
		},
		async storedState(workflowId) {
			return ((await staticDataFromDb(session.userFolder, workflowId))[`node:${TRIGGER}`] ?? {}) as TriggerState;
		},
		step: async (fn) => await withLogTail(session, fn),
	};
	return rig;
}
