import { GmailApiError, type GmailPort } from '../../nodes/GmailPushTrigger/core/port';
import { DEFAULT_RETRY, retryingPort, whileGrantPropagates, withRetry, type RetryPolicy } from '../../nodes/GmailPushTrigger/transport/retry';

/** A clock that only moves when the code under test sleeps. */
function fakeTime(policy: Partial<RetryPolicy> = {}) {
	let clock = 1_000_000;
	const sleeps: number[] = [];
	const full: RetryPolicy = {
		budgetMs: 7000,
		baseDelayMs: 250,
		maxDelayMs: 4000,
		now: () => clock,
		sleep: async (ms) => {
			sleeps.push(ms);
			clock += ms;
		},
		random: () => 1, // backoff factor 0.5 + 1/2 = 1: delays are exactly base * 2^attempt
		...policy,
	};
	return { policy: full, sleeps, elapsed: () => clock - 1_000_000 };
}

/** fn failing with the given errors in turn, then returning 'ok'. */
function failing(...errors: unknown[]) {
	let calls = 0;
	const fn = async (): Promise<string> => {
		const error = errors[calls++];
		if (error !== undefined) throw error;
		return 'ok';
	};
	return { fn, calls: () => calls };
}

const gmail = (status: number, retryAfterMs?: number) => new GmailApiError(`status ${status}`, status, undefined, retryAfterMs);

describe('withRetry', () => {
	it('returns at once on success', async () => {
		const { policy, sleeps } = fakeTime();
		const { fn, calls } = failing();
		await expect(withRetry(fn, policy)).resolves.toBe('ok');
		expect(calls()).toBe(1);
		expect(sleeps).toEqual([]);
	});

	it.each([429, 500, 502, 503, 504, 0])('retries %i and returns the later success', async (status) => {
		const { policy, sleeps } = fakeTime();
		const { fn, calls } = failing(gmail(status));
		await expect(withRetry(fn, policy)).resolves.toBe('ok');
		expect(calls()).toBe(2);
		expect(sleeps).toEqual([250]);
	});

	it('backs off exponentially, capped at maxDelayMs', async () => {
		const { policy, sleeps } = fakeTime({ budgetMs: 60_000, maxDelayMs: 1000 });
		const { fn, calls } = failing(gmail(503), gmail(503), gmail(503), gmail(503), gmail(503));
		await expect(withRetry(fn, policy)).resolves.toBe('ok');
		expect(calls()).toBe(6);
		expect(sleeps).toEqual([250, 500, 1000, 1000, 1000]);
	});

	it('jitters within [50%, 100%] of the backoff', async () => {
		const { policy, sleeps } = fakeTime({ random: () => 0 });
		const { fn } = failing(gmail(503), gmail(503));
		await withRetry(fn, policy);
		expect(sleeps).toEqual([125, 250]);
	});

	it('waits at least Retry-After', async () => {
		const { policy, sleeps } = fakeTime();
		const { fn, calls } = failing(gmail(429, 3000));
		await expect(withRetry(fn, policy)).resolves.toBe('ok');
		expect(calls()).toBe(2);
		expect(sleeps).toEqual([3000]);
	});

	it('does not shorten the backoff for a small Retry-After', async () => {
		const { policy, sleeps } = fakeTime();
		const { fn } = failing(gmail(429, 10));
		await withRetry(fn, policy);
		expect(sleeps).toEqual([250]);
	});

	it('gives up with the last error once the next wait would pass the budget', async () => {
		const { policy, sleeps, elapsed } = fakeTime({ budgetMs: 1000 });
		const errors = Array.from({ length: 10 }, () => gmail(503));
		const { fn, calls } = failing(...errors);
		const thrown = await withRetry(fn, policy).catch((e: unknown) => e);
		expect(thrown).toBe(errors[2]);
		// 250 + 500 = 750 spent; the next wait (1000) would end past 1000.
		expect(sleeps).toEqual([250, 500]);
		expect(calls()).toBe(3);
		expect(elapsed()).toBeLessThanOrEqual(1000);
	});

	it('does not retry at all when Retry-After is beyond the budget', async () => {
		const { policy, sleeps } = fakeTime({ budgetMs: 5000 });
		const error = gmail(429, 30_000);
		const { fn, calls } = failing(error);
		await expect(withRetry(fn, policy)).rejects.toBe(error);
		expect(calls()).toBe(1);
		expect(sleeps).toEqual([]);
	});

	it('counts the time the calls themselves take against the budget', async () => {
		let clock = 0;
		const sleeps: number[] = [];
		const policy: RetryPolicy = {
			budgetMs: 2000,
			baseDelayMs: 100,
			maxDelayMs: 100,
			now: () => clock,
			sleep: async (ms) => {
				sleeps.push(ms);
				clock += ms;
			},
			random: () => 1,
		};
		let calls = 0;
		const slow = async (): Promise<string> => {
			calls++;
			clock += 600; // every call takes 600 ms before failing
			throw gmail(503);
		};
		await expect(withRetry(slow, policy)).rejects.toBeInstanceOf(GmailApiError);
		// call 600, wait 100, call (1300), wait 100, call (2000): the next wait would end past 2000.
		expect(calls).toBe(3);
		expect(sleeps).toEqual([100, 100]);
	});

	it.each([400, 401, 403, 404, 409, 412])('never retries %i', async (status) => {
		const { policy, sleeps } = fakeTime();
		const error = gmail(status);
		const { fn, calls } = failing(error, undefined);
		await expect(withRetry(fn, policy)).rejects.toBe(error);
		expect(calls()).toBe(1);
		expect(sleeps).toEqual([]);
	});

	it('never retries errors that are not Gmail API errors', async () => {
		const { policy } = fakeTime();
		const error = new TypeError('bug');
		const { fn, calls } = failing(error);
		await expect(withRetry(fn, policy)).rejects.toBe(error);
		expect(calls()).toBe(1);
	});

	it('has a default budget that fits a Pub/Sub push deadline', () => {
		expect(DEFAULT_RETRY.budgetMs).toBeLessThan(10_000);
		expect(DEFAULT_RETRY.baseDelayMs).toBeGreaterThan(0);
	});
});

describe('retryingPort', () => {
	it('retries each method with its own arguments and returns its result', async () => {
		const { policy, sleeps } = fakeTime();
		const seen: unknown[][] = [];
		let failuresLeft = 1;
		const flaky = async <T>(args: unknown[], value: T): Promise<T> => {
			seen.push(args);
			if (failuresLeft-- > 0) throw gmail(503);
			return value;
		};
		const port: GmailPort = {
			listHistory: async (...args) => await flaky(args, { history: [], historyId: '5' }),
			getMessage: async (...args) => await flaky(args, { id: args[0] }),
			listMessages: async (...args) => await flaky(args, { messages: [] }),
			listLabels: async (...args) => await flaky(args, [{ id: 'INBOX', name: 'INBOX' }]),
			getProfile: async (...args) => await flaky(args, { emailAddress: 'u@example.com', historyId: '5' }),
			watch: async (...args) => await flaky(args, { historyId: '5', expiration: '1' }),
			stop: async (...args) => {
				await flaky(args, undefined);
			},
		};
		const retrying = retryingPort(port, policy);

		await expect(retrying.getMessage('m1', 'full', ['From'])).resolves.toEqual({ id: 'm1' });
		expect(seen).toEqual([
			['m1', 'full', ['From']],
			['m1', 'full', ['From']],
		]);
		expect(sleeps).toHaveLength(1);

		for (const [call, expected] of [
			[() => retrying.listHistory({ startHistoryId: '1', historyTypes: ['messageAdded'] }), { history: [], historyId: '5' }],
			[() => retrying.listLabels(), [{ id: 'INBOX', name: 'INBOX' }]],
			[() => retrying.getProfile(), { emailAddress: 'u@example.com', historyId: '5' }],
			[() => retrying.watch({ topicName: 'projects/p-1234/topics/t12' }), { historyId: '5', expiration: '1' }],
			[() => retrying.listMessages({ q: 'x' }), { messages: [] }],
			[() => retrying.stop(), undefined],
		] as Array<[() => Promise<unknown>, unknown]>) {
			failuresLeft = 1;
			seen.length = 0;
			await expect(call()).resolves.toEqual(expected);
			expect(seen).toHaveLength(2);
		}
	});
});

describe('whileGrantPropagates', () => {
	const refused = () => new GmailApiError('Gmail users.watch failed (403): User not authorized to perform this action.', 403);

	it('right after a grant, a 403 from the watch is tried again until the grant applies', async () => {
		let calls = 0;
		const slept: number[] = [];
		const result = await whileGrantPropagates(
			true,
			async () => {
				calls += 1;
				if (calls < 3) throw refused();
				return 'watched';
			},
			{ everyMs: 5000, sleep: async (ms) => void slept.push(ms) },
		);
		expect(result).toBe('watched');
		expect(slept).toEqual([5000, 5000]);
	});

	it('without a fresh grant, or for another error, the first failure is the answer', async () => {
		const sleep = async () => undefined;
		await expect(whileGrantPropagates(false, async () => Promise.reject(refused()), { sleep })).rejects.toThrow('403');
		let calls = 0;
		await expect(
			whileGrantPropagates(true, async () => {
				calls += 1;
				throw new GmailApiError('Gmail users.watch failed (400): Invalid topicName', 400);
			}, { sleep }),
		).rejects.toThrow('400');
		expect(calls).toBe(1);
	});

	it('gives up when the time is over', async () => {
		let calls = 0;
		await expect(
			whileGrantPropagates(true, async () => {
				calls += 1;
				throw refused();
			}, { forMs: 0, sleep: async () => undefined }),
		).rejects.toThrow('403');
		expect(calls).toBe(1);
	});
});
