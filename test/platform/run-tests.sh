#!/usr/bin/env bash
# The platform's own test run, in order:
#   1. the fault tests (need the platform down: `up` must fail cleanly),
#   2. `up` (builds the binaries the first time),
#   3. the tests that need it up (clusters, RBAC, Prometheus, status, real nodes,
#      the git server and a BuildKit build Job: tests/builds.test.ts),
#   4. the destructive test last: kill a component, then `down` leaves nothing.
# Leaves the platform down.   usage: bash test/platform/run-tests.sh
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Node 22 (it runs the .ts files directly) from the project's toolchain.
source "$here/../../scripts/lib/toolchain.sh"
modelops_toolchain || exit 1
NODE="$(command -v node)"
echo "run-tests: using $NODE ($("$NODE" --version))"
rc=0
"$NODE" "$here/cli.ts" down >/dev/null 2>&1 || true
# Build first (no-op when cached) so the fault tests don't pay for it.
"$NODE" "$here/cli.ts" build || exit 1
MODELOPS_RUN_FAULT_TESTS=1 "$NODE" --test "$here/tests/faults.test.ts" || rc=1
"$NODE" "$here/cli.ts" up || exit 1
"$NODE" --test --test-concurrency=1 "$here"/tests/*.test.ts || rc=1
MODELOPS_RUN_DOWN_TEST=1 "$NODE" --test "$here/tests/down.test.ts" || rc=1
"$NODE" "$here/cli.ts" down >/dev/null 2>&1 || true
exit $rc
