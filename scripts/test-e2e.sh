#!/usr/bin/env bash
# The end-to-end suites in real n8n: the 1.x and 2.x halves at once, each with E2E_WORKERS suites
# in parallel (default 3: CPU-bound, but most suites also wait on n8n or timers), longest first. Each suite starts its own n8n, fake Google and emulator
# on free ports, so they share nothing but the packed package, which is prepared once here.
#   scripts/test-e2e.sh [results-folder] [jest args...]   (E2E_N8N_VERSIONS=1 or 2: one half)
set -uo pipefail
cd "$(dirname "$0")/.."
results=${1:-$(mktemp -d)}; shift || true
mkdir -p "$results"
workers=${E2E_WORKERS:-3}
node_modules/.bin/ts-node --transpile-only -e 'require("./test/support/n8n/install").preparePackage().then((d) => console.log("package:", d))' || exit 1
jest() { node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js "$@"; }
pids=()
for major in ${E2E_N8N_VERSIONS:-1 2}; do
	# The fuzz suite runs on n8n 1 unless FUZZ_N8N_VERSIONS names this major (fuzz.test.ts).
	skip=()
	[[ ",${FUZZ_N8N_VERSIONS:-1}," == *",$major,"* ]] || skip=('--testPathIgnorePatterns=test/e2e/fuzz\.test\.ts')  # last: it takes the words after it
	E2E_N8N_VERSIONS=$major jest --selectProjects e2e --maxWorkers="$workers" --testSequencer=./test/support/e2e/sequencer.js \
		--json --outputFile="$results/e2e-$major.json" "$@" "${skip[@]}" > >(sed -u "s/^/[n8n $major.x] /") 2>&1 &
	pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
