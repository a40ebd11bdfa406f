#!/usr/bin/env bash
# The bindings translate the session API and nothing else: every path into the core from ffi/src
# and wasm/src must go through `fixshare::session` (which also re-exports the plain data types a
# host needs). Fails, listing the offending lines, if any other core path is used.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(grep -rnE '\bfixshare::' ffi/src wasm/src | grep -vE '\bfixshare::session\b' || true)
# A grouped import that names anything beside `session` (`use fixshare::{session, Party}`).
grouped=$(grep -rnE '\bfixshare::\{|use fixshare( as |;)' ffi/src wasm/src || true)
if [[ -n "$bad$grouped" ]]; then
    echo "bindings must import the core through fixshare::session only:"
    printf '%s\n' "$bad" "$grouped" | sed '/^$/d'
    exit 1
fi
echo "bindings import fixshare::session only: ok"
