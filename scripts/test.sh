#!/usr/bin/env bash
# Body of `npm test` (package.json runs `npm run build` first).
# 1. makes sure the OS packages the netns tests need are installed;
# 2. runs vitest over test/unit and test/netns (default reporter on the
#    console, JSON report in results/vitest.json);
# 3. prints ONE closing line `N passed, N failed` counting test cases, where
#    skipped/todo tests count as failed, and exits non-zero if anything failed
#    or no test ran at all.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-os-packages.sh || { echo "ensure-os-packages failed"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p results
REPORT=results/vitest.json
rm -f "$REPORT"
./node_modules/.bin/vitest run test/unit test/sim test/netns \
  --reporter=default --reporter=json --outputFile.json="$REPORT" </dev/null
VITEST_RC=$?

node - "$REPORT" "$VITEST_RC" <<'JS'
const fs = require('node:fs');
const [report, rcText] = process.argv.slice(2);
const rc = Number(rcText);
let passed = 0;
let failed = 0;
const notes = [];
let data;
try {
  data = JSON.parse(fs.readFileSync(report, 'utf8'));
} catch (err) {
  notes.push(`no readable vitest report (${report}): ${err.message}`);
}
for (const file of data?.testResults ?? []) {
  let fileFailures = 0;
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else {
      failed++;
      fileFailures++;
      if (t.status !== 'failed') notes.push(`${t.status} (counted as failed): ${t.fullName ?? t.title}`);
    }
  }
  // a file that failed outside its tests (import error, failing hook) is one failure
  if (file.status === 'failed' && fileFailures === 0) {
    failed++;
    notes.push(`file failed outside its tests: ${file.name}`);
  }
}
if (rc !== 0 && failed === 0) {
  failed = 1;
  notes.push(`vitest exited with status ${rc}`);
}
if (passed + failed === 0) notes.push('no test ran');
for (const n of notes) console.log(`test.sh: ${n}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
JS
