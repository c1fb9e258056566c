/**
 * The wait before deactivation removes what the set-up made (shell/removal.ts): a save re-adds
 * the trigger at once and keeps everything; n8n stopping keeps everything; a trigger that stays
 * away has its subscription removed once.
 */
import { once } from 'node:events';

type RemovalModule = typeof import('../../nodes/GmailPushTrigger/shell/removal');

function freshModule(): RemovalModule {
	let loaded: RemovalModule | undefined;
	jest.isolateModules(() => {
		loaded = jest.requireActual<RemovalModule>('../../nodes/GmailPushTrigger/shell/removal');
	});
	return loaded!;
}

const logger = () => ({ lines: [] as string[], info(m: string) { this.lines.push(`info ${m}`); }, warn(m: string) { this.lines.push(`warn ${m}`); } });

// The module listens for n8n's stop signals: take its listeners away again after each test, so
// that this test process still ends on a signal.
let listeners: Map<string, Array<(...args: unknown[]) => void>>;
beforeEach(() => {
	jest.useFakeTimers();
	listeners = new Map(['SIGTERM', 'SIGINT'].map((s) => [s, process.listeners(s as NodeJS.Signals) as Array<(...args: unknown[]) => void>]));
});
afterEach(() => {
	jest.useRealTimers();
	for (const [signal, kept] of listeners) {
		for (const listener of process.listeners(signal as NodeJS.Signals)) if (!kept.includes(listener as (...args: unknown[]) => void)) process.removeListener(signal, listener);
	}
});

describe('removing what the set-up made, after a trigger is removed', () => {
	it('runs once the trigger stayed away for REMOVAL_DELAY_MS, and says what it did', async () => {
		const { scheduleRemoval, REMOVAL_DELAY_MS } = freshModule();
		const log = logger();
		const remove = jest.fn(async () => 'deleted it');
		scheduleRemoval('wf:node', 'subscription S', remove, log);

		jest.advanceTimersByTime(REMOVAL_DELAY_MS - 1);
		expect(remove).not.toHaveBeenCalled();
		jest.advanceTimersByTime(1);
		await Promise.resolve();
		await Promise.resolve();
		expect(remove).toHaveBeenCalledTimes(1);
		expect(log.lines).toEqual(['info Gmail Push Trigger: the workflow stayed deactivated; subscription S: deleted it']);
	});

	it('a re-add of the same trigger (a save) cancels it; another trigger\'s removal goes on', () => {
		const { scheduleRemoval, cancelRemoval, REMOVAL_DELAY_MS } = freshModule();
		const saved = jest.fn(async () => 'deleted it');
		const other = jest.fn(async () => 'deleted it');
		scheduleRemoval('wf:saved', 'subscription A', saved, logger());
		scheduleRemoval('wf:other', 'subscription B', other, logger());

		expect(cancelRemoval('wf:saved')).toBe(true);
		expect(cancelRemoval('wf:saved')).toBe(false);
		jest.advanceTimersByTime(REMOVAL_DELAY_MS);
		expect(saved).not.toHaveBeenCalled();
		expect(other).toHaveBeenCalledTimes(1);
	});

	it('does nothing when its time comes while a trigger reads the subscription (the re-add finished before the old close scheduled it)', () => {
		const { scheduleRemoval, readSubscription, REMOVAL_DELAY_MS } = freshModule();
		const removeSaved = jest.fn(async () => 'deleted it');
		const releaseNewer = readSubscription('sub-a', 'wf:saved');
		const releaseOlder = readSubscription('sub-a', 'wf:saved');
		releaseOlder();
		scheduleRemoval('sub-a', 'subscription A', removeSaved, logger());
		jest.advanceTimersByTime(REMOVAL_DELAY_MS);
		expect(removeSaved).not.toHaveBeenCalled();

		// Once the new one closes too (a deactivation), and a close counted twice counts once.
		releaseOlder();
		releaseNewer();
		const removeLater = jest.fn(async () => 'deleted it');
		scheduleRemoval('sub-a', 'subscription A', removeLater, logger());
		jest.advanceTimersByTime(REMOVAL_DELAY_MS);
		expect(removeLater).toHaveBeenCalledTimes(1);
	});

	it('a subscription another active trigger reads is never removed; a reader starting cancels a pending removal', () => {
		const { scheduleRemoval, readSubscription, readersOf, REMOVAL_DELAY_MS } = freshModule();
		const releaseOriginal = readSubscription('sub-shared', 'wf-original:node');
		const releaseCopy = readSubscription('sub-shared', 'wf-copy:node');
		expect(readersOf('sub-shared')).toEqual(['wf-original:node', 'wf-copy:node']);
		releaseOriginal();
		const remove = jest.fn(async () => 'deleted it');
		scheduleRemoval('sub-shared', 'subscription S', remove, logger());
		jest.advanceTimersByTime(REMOVAL_DELAY_MS);
		expect(remove).not.toHaveBeenCalled();
		releaseCopy();
		expect(readersOf('sub-shared')).toEqual([]);

		scheduleRemoval('sub-shared', 'subscription S', remove, logger());
		jest.advanceTimersByTime(REMOVAL_DELAY_MS / 2);
		readSubscription('sub-shared', 'wf-original:node');
		jest.advanceTimersByTime(REMOVAL_DELAY_MS);
		expect(remove).not.toHaveBeenCalled();
	});

	it('n8n told to stop (SIGTERM) cancels what is pending, and what its closing triggers schedule after', async () => {
		const { scheduleRemoval, REMOVAL_DELAY_MS } = freshModule();
		const before = jest.fn(async () => 'deleted it');
		scheduleRemoval('wf:a', 'subscription A', before, logger());
		// A listener of our own, so that the signal does not end the test process.
		const signalled = once(process, 'SIGTERM');
		process.emit('SIGTERM', 'SIGTERM');
		await signalled;
		const after = jest.fn(async () => 'deleted it');
		scheduleRemoval('wf:b', 'subscription B', after, logger());

		jest.advanceTimersByTime(REMOVAL_DELAY_MS * 2);
		expect(before).not.toHaveBeenCalled();
		expect(after).not.toHaveBeenCalled();
	});

	it('a failed removal is logged with what to do, not thrown', async () => {
		const { scheduleRemoval, REMOVAL_DELAY_MS } = freshModule();
		const log = logger();
		scheduleRemoval('wf:node', 'subscription S', async () => await Promise.reject(new Error('403 PERMISSION_DENIED')), log);
		jest.advanceTimersByTime(REMOVAL_DELAY_MS);
		await Promise.resolve();
		await Promise.resolve();
		expect(log.lines).toEqual([expect.stringMatching(/^warn .*could not remove subscription S after the deactivation \(delete it in the console if nothing uses it\): 403 PERMISSION_DENIED$/)]);
	});

	it('with several mains nothing is removed: the trigger may have moved to another main', () => {
		const { removalAllowed } = freshModule();
		const saved = process.env.N8N_MULTI_MAIN_SETUP_ENABLED;
		try {
			process.env.N8N_MULTI_MAIN_SETUP_ENABLED = 'true';
			expect(removalAllowed()).toBe(false);
			delete process.env.N8N_MULTI_MAIN_SETUP_ENABLED;
			expect(removalAllowed()).toBe(true);
		} finally {
			if (saved === undefined) delete process.env.N8N_MULTI_MAIN_SETUP_ENABLED;
			else process.env.N8N_MULTI_MAIN_SETUP_ENABLED = saved;
		}
	});
});
