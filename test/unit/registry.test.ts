import { failureRecordFor, forgetFailures, holdWatch, watchedByOthers } from '../../nodes/GmailPushTrigger/shell/registry';

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
