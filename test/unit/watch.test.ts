import {
	RENEW_AFTER_MS,
	projectOfTopic,
	sameWatchConfig,
	topicNameProblem,
	watchRequest,
	watchStateFrom,
	watchVerdict,
	type WatchConfig,
	type WatchState,
} from '../../nodes/GmailPushTrigger/core/watch';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const TOPIC = 'projects/my-project-123/topics/gmail-push';

function config(overrides: Partial<WatchConfig> = {}): WatchConfig {
	return { topicName: TOPIC, labelIds: [], labelFilterBehavior: 'include', ...overrides };
}

function state(overrides: Partial<WatchState> = {}): WatchState {
	return { ...config(), historyId: '4000000', expiration: NOW + 7 * DAY, renewedAt: NOW, ...overrides };
}

describe('topicNameProblem', () => {
	it.each([
		TOPIC,
		'projects/abcdef/topics/abc',
		'projects/a-b-c-d-e-f/topics/Topic.Name_with~chars+and%20',
		`projects/${'a'.repeat(30)}/topics/t${'x'.repeat(254)}`,
		`  ${TOPIC}  `,
	])('accepts %p', (name) => {
		expect(topicNameProblem(name)).toBeUndefined();
	});

	it('says an empty name is empty', () => {
		expect(topicNameProblem('')).toMatch(/empty/);
		expect(topicNameProblem('   ')).toMatch(/empty/);
	});

	it.each(['gmail-push', 'topics/gmail-push', 'my-project/gmail-push'])('asks for the full name instead of the short %p', (name) => {
		const problem = topicNameProblem(name);
		expect(problem).toMatch(/full name projects\/<project-id>\/topics\/<topic>/);
		expect(problem).toContain(`"${name}"`);
	});

	it.each([
		['a project id that is too short', 'projects/abc/topics/gmail-push'],
		['a project id that is too long', `projects/${'a'.repeat(31)}/topics/gmail-push`],
		['an uppercase project id', 'projects/My-Project/topics/gmail-push'],
		['a project id starting with a digit', 'projects/1project/topics/gmail-push'],
		['a project id ending with a hyphen', 'projects/my-project-/topics/gmail-push'],
		['a topic starting with a digit', 'projects/my-project/topics/1gmail'],
		['a topic that is too short', 'projects/my-project/topics/ab'],
		['a topic that is too long', `projects/my-project/topics/t${'x'.repeat(255)}`],
		['a subscription instead of a topic', 'projects/my-project/subscriptions/gmail-push'],
		['a trailing slash', `${TOPIC}/`],
		['a missing topic', 'projects/my-project/topics/'],
		['a URL', `https://pubsub.googleapis.com/v1/${TOPIC}`],
	])('explains the form for %s', (_name, name) => {
		const problem = topicNameProblem(name);
		expect(problem).toBeDefined();
		expect(problem).toMatch(/projects\/<project-id>\/topics\/<topic>/);
	});
});

describe('projectOfTopic', () => {
	it('returns the project id of a full topic name', () => {
		expect(projectOfTopic(TOPIC)).toBe('my-project-123');
		expect(projectOfTopic('gmail-push')).toBeUndefined();
	});
});

describe('watchRequest', () => {
	it('without labels sends only the topic (no labelFilterBehavior)', () => {
		const request = watchRequest(config({ labelFilterBehavior: 'exclude' }));
		expect(request).toEqual({ topicName: TOPIC });
		expect(request).not.toHaveProperty('labelIds');
		expect(request).not.toHaveProperty('labelFilterBehavior');
	});

	it('with labels sends them with INCLUDE or EXCLUDE', () => {
		expect(watchRequest(config({ labelIds: ['INBOX'] }))).toEqual({ topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'INCLUDE' });
		expect(watchRequest(config({ labelIds: ['SPAM', 'Label_3'], labelFilterBehavior: 'exclude' }))).toEqual({
			topicName: TOPIC,
			labelIds: ['SPAM', 'Label_3'],
			labelFilterBehavior: 'EXCLUDE',
		});
	});

	it('trims the topic name', () => {
		expect(watchRequest(config({ topicName: ` ${TOPIC}\n` })).topicName).toBe(TOPIC);
	});
});

describe('watchVerdict', () => {
	it('missing when there is no watch', () => {
		expect(watchVerdict(undefined, config(), NOW)).toBe('missing');
	});

	it('fresh right after a watch call', () => {
		expect(watchVerdict(state(), config(), NOW)).toBe('fresh');
		expect(watchVerdict(state(), config(), NOW + DAY - 1)).toBe('fresh');
	});

	it('changed when the topic differs', () => {
		expect(watchVerdict(state(), config({ topicName: 'projects/my-project-123/topics/other' }), NOW)).toBe('changed');
	});

	it('not changed by surrounding whitespace in the configured topic', () => {
		expect(watchVerdict(state(), config({ topicName: ` ${TOPIC} ` }), NOW)).toBe('fresh');
	});

	it('changed when the labels differ, but not when only their order does', () => {
		const watched = state({ labelIds: ['INBOX', 'Label_1'] });
		expect(watchVerdict(watched, config({ labelIds: ['INBOX'] }), NOW)).toBe('changed');
		expect(watchVerdict(watched, config({ labelIds: ['INBOX', 'Label_2'] }), NOW)).toBe('changed');
		expect(watchVerdict(watched, config({ labelIds: [] }), NOW)).toBe('changed');
		expect(watchVerdict(watched, config({ labelIds: ['Label_1', 'INBOX'] }), NOW)).toBe('fresh');
	});

	it('changed when the filter behaviour differs for a labelled watch, ignored without labels', () => {
		const labelled = state({ labelIds: ['INBOX'], labelFilterBehavior: 'include' });
		expect(watchVerdict(labelled, config({ labelIds: ['INBOX'], labelFilterBehavior: 'exclude' }), NOW)).toBe('changed');
		const unlabelled = state({ labelIds: [], labelFilterBehavior: 'include' });
		expect(watchVerdict(unlabelled, config({ labelFilterBehavior: 'exclude' }), NOW)).toBe('fresh');
	});

	it('old once a day has passed since the last watch call', () => {
		expect(watchVerdict(state(), config(), NOW + DAY)).toBe('old');
		expect(watchVerdict(state({ renewedAt: NOW - 3 * DAY }), config(), NOW)).toBe('old');
	});

	it('expiring when Gmail stops it within a day, even if renewed recently', () => {
		expect(watchVerdict(state({ expiration: NOW + DAY }), config(), NOW)).toBe('expiring');
		expect(watchVerdict(state({ expiration: NOW + 60_000 }), config(), NOW)).toBe('expiring');
		expect(watchVerdict(state({ expiration: NOW - 60_000 }), config(), NOW)).toBe('expiring');
		expect(watchVerdict(state({ expiration: NOW + DAY + 1 }), config(), NOW)).toBe('fresh');
	});

	it('uses the given renewal period', () => {
		expect(watchVerdict(state(), config(), NOW + 60_000, 60_000)).toBe('old');
		expect(RENEW_AFTER_MS).toBe(DAY);
	});

	it('sameWatchConfig agrees with the verdict', () => {
		expect(sameWatchConfig(state(), config())).toBe(true);
		expect(sameWatchConfig(state(), config({ labelIds: ['INBOX'] }))).toBe(false);
	});
});

describe('watchStateFrom', () => {
	it('records the config, Gmail answer and the time of the call', () => {
		const cfg = config({ topicName: ` ${TOPIC} `, labelIds: ['INBOX'] });
		const recorded = watchStateFrom(cfg, { historyId: '18446744073709551615', expiration: String(NOW + 7 * DAY) }, NOW);
		expect(recorded).toEqual({
			topicName: TOPIC,
			labelIds: ['INBOX'],
			labelFilterBehavior: 'include',
			historyId: '18446744073709551615',
			expiration: NOW + 7 * DAY,
			renewedAt: NOW,
		});
		// A copy: later edits of the config do not change the recorded watch.
		cfg.labelIds.push('SPAM');
		expect(recorded.labelIds).toEqual(['INBOX']);
		expect(watchVerdict(recorded, config({ labelIds: ['INBOX'] }), NOW)).toBe('fresh');
	});

	it('assumes Gmail’s 7 days when the expiration is unreadable', () => {
		expect(watchStateFrom(config(), { historyId: '1', expiration: 'soon' }, NOW).expiration).toBe(NOW + 7 * DAY);
	});
});
