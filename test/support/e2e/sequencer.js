/**
 * Starts the longest e2e suites first, so that with several workers the run ends when the
 * longest suite ends rather than when a long one started last does. Durations are from the
 * measured runs in README "Tests"; unknown suites go last, largest file first.
 */
const Sequencer = require('@jest/test-sequencer').default;
const fs = require('fs');
const path = require('path');

const LONGEST_FIRST = ['queueMode', 'pull', 'push', 'chaos', 'sideBySide', 'restart', 'fuzz', 'activationErrors', 'poll', 'manualTest', 'lifecycle', 'faults', 'burst', 'examples', 'pushAuth', 'credentialTest'];

class LongestFirst extends Sequencer {
	sort(tests) {
		const rank = (t) => {
			const i = LONGEST_FIRST.indexOf(path.basename(t.path, '.test.ts'));
			return i === -1 ? LONGEST_FIRST.length : i;
		};
		const size = (t) => fs.statSync(t.path).size;
		return [...tests].sort((a, b) => rank(a) - rank(b) || size(b) - size(a));
	}
}
module.exports = LongestFirst;
