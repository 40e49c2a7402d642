#!/usr/bin/env bash
# Runs every Fuzz* target of the module for FUZZTIME (default 10s) each: a
# smoke test that the fuzzers run and find nothing quickly, not a campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
found=0
failed=()
for pkg in $($GO list ./...); do
  dir=$($GO list -f '{{.Dir}}' "$pkg")
  # Cheap pre-filter: only packages whose tests mention a fuzz target.
  grep -qs '^func Fuzz' "$dir"/*_test.go || continue
  for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    found=$((found + 1))
    echo "== $pkg $target ($FUZZTIME)"
    if ! $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"; then
      failed+=("$pkg $target")
    fi
  done
done
echo "fuzz smoke: $found targets run"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
