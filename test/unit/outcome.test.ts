import { MAX_EMISSIONS, outcomeOf, redeliveryDecision } from '../../nodes/GmailPushTrigger/core/outcome';

const stalledMessage =
	'This execution failed to be processed too many times and will no longer retry. To allow this execution to complete, please break down your workflow or scale up your workers or adjust your worker settings.';

describe('outcomeOf: how n8n says an execution ended', () => {
	it('a crashed run (its worker was killed) is crashed', () => {
		expect(outcomeOf({ status: 'crashed', finished: false })).toBe('crashed');
	});

	it("Bull giving up on a stalled job (n8n's MaxStalledCountError, stored as an error) is crashed", () => {
		expect(outcomeOf({ status: 'error', data: { resultData: { error: { message: stalledMessage } } } })).toBe('crashed');
	});

	it('success, an ordinary workflow error, a cancellation and a waiting run are finished', () => {
		expect(outcomeOf({ status: 'success', finished: true })).toBe('finished');
		expect(outcomeOf({ status: 'error', data: { resultData: { error: { message: 'Slack: channel_not_found' } } } })).toBe('finished');
		expect(outcomeOf({ status: 'canceled' })).toBe('finished');
		expect(outcomeOf({ status: 'waiting' })).toBe('finished');
	});

	it('no run at all (n8n skipped the execution) is finished: nothing to emit again', () => {
		expect(outcomeOf(undefined)).toBe('finished');
		expect(outcomeOf(null)).toBe('finished');
	});
});

describe('redeliveryDecision', () => {
	it(`emits a crashed emission again until the ${MAX_EMISSIONS}th, then gives up`, () => {
		expect(MAX_EMISSIONS).toBe(3);
		expect(redeliveryDecision('crashed', 1)).toBe('emit-again');
		expect(redeliveryDecision('crashed', 2)).toBe('emit-again');
		expect(redeliveryDecision('crashed', 3)).toBe('give-up');
	});

	it('a finished emission is settled whatever its number', () => {
		expect(redeliveryDecision('finished', 1)).toBe('settled');
		expect(redeliveryDecision('finished', 3)).toBe('settled');
	});
});
