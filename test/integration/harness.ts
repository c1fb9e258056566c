/**
 * Shared set-up for the integration tests: the fake Google API on loopback, our GmailPort over
 * the real @googleapis/gmail client (authorised by a real google-auth-library OAuth2Client with
 * a token the fake issued), and a MailboxEngine whose deliveries are recorded.
 */
import { OAuth2Client } from 'google-auth-library';
import { SIMPLIFIED_HEADERS, type ItemJson, type OutputItem, type OutputMode, type RenderOptions } from '../../nodes/GmailPushTrigger/core/output';
import type { GmailPort } from '../../nodes/GmailPushTrigger/core/port';
import type { SyncOptions } from '../../nodes/GmailPushTrigger/core/syncOptions';
import type { WatchConfig } from '../../nodes/GmailPushTrigger/core/watch';
import { systemClock } from '../../nodes/GmailPushTrigger/engine/clock';
import type { EngineDeps, EngineLogger, Emission } from '../../nodes/GmailPushTrigger/engine/engineDeps';
import { MailboxEngine } from '../../nodes/GmailPushTrigger/engine/mailboxEngine';
import { watchBookFor } from '../../nodes/GmailPushTrigger/shell/runtime';
import type { TriggerState } from '../../nodes/GmailPushTrigger/engine/triggerState';
import type { RequestingAuth } from '../../nodes/GmailPushTrigger/transport/auth';
import { createGmailPort } from '../../nodes/GmailPushTrigger/transport/gmail';
import { SCOPES, startFakeGoogle, type FakeGoogle, type FakeGoogleOptions } from '../support/fakeGoogle';

export const EMAIL = 'user@example.com';
export const TOPIC = 'projects/my-project/topics/gmail-push';

export async function startFake(options: FakeGoogleOptions = {}): Promise<FakeGoogle> {
	return await startFakeGoogle({ emailAddress: EMAIL, ...options });
}

/**
 * The real OAuth2Client holding an access token the fake issued (gmail.readonly, the scope the
 * node asks for). Its transport uses the fake's fetch: inside jest gaxios cannot load its own.
 */
export function oauthClientFor(fake: FakeGoogle, scopes: string[] = [SCOPES.readonly]): OAuth2Client {
	const client = new OAuth2Client({ transporterOptions: { fetchImplementation: fake.fetch } });
	client.setCredentials({ access_token: fake.issueToken({ scopes }), expiry_date: Date.now() + 3_600_000 });
	return client;
}

/** Our production GmailPort, over the real generated client, pointed at the fake. */
export function portFor(fake: FakeGoogle, scopes?: string[]): GmailPort {
	return createGmailPort(oauthClientFor(fake, scopes) as unknown as RequestingAuth, { rootUrl: `${fake.baseUrl}/` });
}

export function syncOptions(overrides: Partial<SyncOptions> = {}): SyncOptions {
	return {
		events: ['messageAdded'],
		labelIds: [],
		labelFilterBehavior: 'include',
		includeDrafts: false,
		format: 'metadata',
		metadataHeaders: SIMPLIFIED_HEADERS,
		...overrides,
	};
}

export interface RecordingLogger extends EngineLogger {
	lines: Array<{ level: string; message: string }>;
}

export function recordingLogger(): RecordingLogger {
	const lines: Array<{ level: string; message: string }> = [];
	const log = (level: string) => (message: string) => {
		lines.push({ level, message });
	};
	return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export interface EngineHarness {
	engine: MailboxEngine;
	state: TriggerState;
	/** Every batch handed to deliver, in order. */
	batches: ItemJson[][];
	/** A copy of the state taken when each batch was delivered (n8n saves it at that moment). */
	stateAtDelivery: TriggerState[];
	/** The whole items (json, attachments, binary) as delivered. */
	delivered: OutputItem[];
	/** What each delivery named (for emitAgain), in order. */
	emissions: Emission[];
	/** All delivered items, flattened. */
	items(): ItemJson[];
	logger: RecordingLogger;
	port: GmailPort;
	/** The engine's clock: move it with `clock.now += ms`. */
	clock: { now: number };
}

export interface EngineSetup {
	sync?: Partial<SyncOptions>;
	output?: OutputMode;
	render?: RenderOptions;
	prepare?: (items: OutputItem[]) => Promise<OutputItem[]>;
	watch?: Partial<WatchConfig>;
	state?: TriggerState;
	port?: GmailPort;
	onLastingFailure?: EngineDeps['onLastingFailure'];
	/** Off unless set: most tests count the Gmail calls of one sync exactly. */
	followUpMs?: number;
	/** When Search is asked again about an email it missed (the engine's default unless set). */
	searchRecheckMs?: number;
	/** Called after the harness recorded a delivery (e.g. the shell's tracked delivery). */
	deliver?: EngineDeps['deliver'];
}

export function engineFor(fake: FakeGoogle, setup: EngineSetup = {}): EngineHarness {
	const state: TriggerState = setup.state ?? {};
	const batches: ItemJson[][] = [];
	const stateAtDelivery: TriggerState[] = [];
	/** The whole items (json, attachments, binary) as delivered. */
	const delivered: OutputItem[] = [];
	const emissions: Emission[] = [];
	const logger = recordingLogger();
	const port = setup.port ?? portFor(fake);
	const clock = { now: Date.now() };
	const engine = new MailboxEngine({
		port,
		state,
		sync: syncOptions(setup.sync),
		output: setup.output ?? 'simplified',
		render: setup.render,
		prepare: setup.prepare,
		watch: { topicName: TOPIC, labelIds: [], labelFilterBehavior: 'include', ...setup.watch },
		deliver: (items, emission) => {
			emissions.push(emission);
			// A copy, so later engine work cannot change what was "emitted".
			batches.push(structuredClone(items.map((item) => item.json)));
			delivered.push(...items);
			stateAtDelivery.push(structuredClone(state));
			return setup.deliver?.(items, emission);
		},
		logger,
		onLastingFailure: setup.onLastingFailure,
		followUpMs: setup.followUpMs,
		...(setup.searchRecheckMs !== undefined && { searchRecheckMs: setup.searchRecheckMs }),
		// Time is moved by hand; timers are real (the tests wait for them).
		clock: { ...systemClock, now: () => clock.now },
		// The process's record, as the trigger uses it: create() and the engine share it.
		watchBook: watchBookFor,
	});
	return { engine, state, batches, stateAtDelivery, delivered, emissions, items: () => batches.flat(), logger, port, clock };
}

let keys = 0;
/** A fresh engine key per call: ensureWatch shares in-flight watch calls per key, process-wide. */
export function uniqueKey(label = 'node'): string {
	keys += 1;
	return `integration-${label}-${keys}-${process.pid}`;
}

/** Item ids, for order/once assertions. */
export function ids(items: ItemJson[]): string[] {
	return items.map((item) => String(item.id));
}

/** An engine whose watch (and so its cursor) exists, with the fake's call log cleared. */
export async function activeEngine(fake: FakeGoogle, setup: EngineSetup = {}): Promise<EngineHarness> {
	const h = engineFor(fake, setup);
	await h.engine.ensureWatch(uniqueKey());
	fake.resetCalls();
	return h;
}
