#!/usr/bin/env bash
# Runs the whole test suite (unit, integration and end-to-end), setting up first.
# Prints a closing "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
# Types of the sources AND the tests (vitest itself does not type-check).
npm run --silent typecheck
# The layer rule and no import circles (.dependency-cruiser.cjs).
npm run --silent depcruise
# eslint (typescript-eslint, type-aware) and prettier's formatting.
npm run --silent lint
# Every relative link and anchor of README.md and docs/.
npm run --silent lint:links
# The real Debian test guest: built once per machine, then cached.
test/fixtures/build-debian-guest.sh >/dev/null
report=$(mktemp /tmp/v2v-vitest-XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" || true
exit "$status"
