import { dropLedgerIfIdle, emissionLedgerFor, failureRecordFor, forgetFailures, forgetRecordedWatch, holdWatch, recordedWatch, watchBookFor, watchedByOthers } from '../../nodes/GmailPushTrigger/shell/runtime';
import { UNSETTLED_MAX_AGE_MS } from '../../nodes/GmailPushTrigger/core/unsettled';

describe('one Gmail watch per mailbox, shared by the triggers of this process', () => {
	it('names the triggers already watching a mailbox (case-insensitively) and forgets a released one', () => {
		const a = holdWatch('Shared@example.com', 'wf-a:node');
		expect(a.others).toEqual([]);
		expect(watchedByOthers('shared@example.com', 'wf-a:node')).toBe(false);
		const b = holdWatch('shared@EXAMPLE.com', 'wf-b:node');
		expect(b.others).toEqual(['wf-a:node']);
		expect(watchedByOthers('shared@example.com', 'wf-a:node')).toBe(true);
		expect(watchedByOthers('shared@example.com', 'wf-b:node')).toBe(true);
		b.release();
		expect(watchedByOthers('shared@example.com', 'wf-a:node')).toBe(false);
		a.release();
		expect(holdWatch('shared@example.com', 'wf-c:node').others).toEqual([]);
		expect(watchedByOthers(undefined, 'wf-c:node')).toBe(false);
	});

	it('a restarted trigger (same key) is not its own other', () => {
		holdWatch('solo@example.com', 'wf:node');
		expect(holdWatch('solo@example.com', 'wf:node').others).toEqual([]);
	});
});

describe('failure records', () => {
	it('outlive an engine of the same node and are dropped by a deliberate deactivation', () => {
		const record = failureRecordFor('wf:node');
		record.episode = { error: new Error('x'), failures: 1, until: 1 };
		expect(failureRecordFor('wf:node')).toBe(record);
		forgetFailures('wf:node');
		expect(failureRecordFor('wf:node')).toEqual({});
	});
});

describe('what the process keeps of a trigger that left', () => {
	it('its recorded watch goes when it is forgotten', () => {
		watchBookFor('wf:gone').recorded = { watch: { topicName: 't', labelIds: [], labelFilterBehavior: 'include', historyId: '1', expiration: 2, renewedAt: 1 } };
		expect(recordedWatch('wf:gone')).toBeDefined();
		forgetRecordedWatch('wf:gone');
		expect(recordedWatch('wf:gone')).toBeUndefined();
	});

	it('its emission ledger stays while a restart would still look at its last emission, then goes', () => {
		const now = 10 * UNSETTLED_MAX_AGE_MS;
		const ledger = emissionLedgerFor('wf:left', now);
		ledger.outcomes.set(now - 1000, 'settled');
		expect(emissionLedgerFor('wf:other', now)).not.toBe(ledger);
		expect(emissionLedgerFor('wf:left', now)).toBe(ledger); // a save starts the trigger again: kept
		const running = emissionLedgerFor('wf:running', now);
		running.current = { state: {}, emitAgain: () => undefined };
		const later = now + UNSETTLED_MAX_AGE_MS + 1000;
		emissionLedgerFor('wf:other', later);
		expect(emissionLedgerFor('wf:left', later)).not.toBe(ledger);
		expect(emissionLedgerFor('wf:running', later)).toBe(running);
	});

	it('an idle ledger goes with its trigger; one still waiting for an outcome stays', () => {
		const idle = emissionLedgerFor('wf:idle');
		dropLedgerIfIdle('wf:idle', idle);
		expect(emissionLedgerFor('wf:idle')).not.toBe(idle);
		const waiting = emissionLedgerFor('wf:waiting');
		waiting.outcomes.set(Date.now(), 'pending');
		dropLedgerIfIdle('wf:waiting', waiting);
		expect(emissionLedgerFor('wf:waiting')).toBe(waiting);
	});
});
