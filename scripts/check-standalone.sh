#!/usr/bin/env bash
# Fails when a tracked file reaches outside the repository for the reference
# material that once lived in a directory beside the clone (the wire spec, the
# lab script, test vectors).
# The repository stands alone: its tests, demo and lab use only what it holds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# this script names the patterns, so it is the one file not searched
pattern='\.\./shared|shared/(lab|spec)'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  hits=$(git grep -nE "$pattern" -- . ':!scripts/check-standalone.sh' || true)
else
  hits=$(grep -rnE "$pattern" --exclude-dir=node_modules --exclude-dir=dist --exclude-dir=results --exclude=check-standalone.sh . || true)
fi
if [ -n "$hits" ]; then
  echo "check-standalone: these tracked files refer to reference material outside the clone;" >&2
  echo "check-standalone: the repository must stand alone (put test data under test/fixtures/):" >&2
  echo "$hits" >&2
  exit 1
fi
