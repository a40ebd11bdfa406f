#!/usr/bin/env bash
# One training job across Rust, C and the browser (issue 17, item 4): wasm/tests/browser/cross.mjs
# runs the dealer and server 0 as `fixshare-party` processes, server 1 hosted by a C program
# through the C ABI (tests/c/test_hosts.c's `server1` mode), owner 0 in Rust, owner 1 as a page in
# headless Chromium and owner 2 as a C program, all over TLS on 127.0.0.1, and checks the model
# against the plaintext SGD on all the owners' rows.
# Runs after the C ABI and WASM suites and uses what they installed and built (the C toolchain,
# Chromium, playwright-core, the WASM package); builds the rest here, idempotently.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
[ -f wasm/pkg/web/fixshare_wasm.js ] && [ -d wasm/node_modules/playwright-core ] || {
    echo "60-cross.sh: the WASM package or playwright-core is missing: run scripts/test.d/30-wasm.sh first" >&2
    exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "--- build: the daemons, the C library and the C hosts"
cargo build -q -p fixshare-net --release --bins
ffi/install.sh "$work/stage" >/dev/null
native=$(sed -n 's/^Libs: [^ ]*libfixshare.a //p' "$work/stage/lib/pkgconfig/fixshare-static.pc")
# shellcheck disable=SC2086 # the native libraries are separate words
gcc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -Iexamples/c -pthread tests/c/test_hosts.c \
    -o "$work/test_hosts" "$work/stage/lib/libfixshare.a" $native

echo "--- Rust, C and a browser in one job"
export FIXSHARE_PARTY_BIN=$target/release/fixshare-party FIXSHARE_NET_BIN=$target/release/fixshare-net
export FIXSHARE_C_HOSTS_BIN=$work/test_hosts
(cd wasm && node tests/browser/cross.mjs)
echo "--- cross-language suite passed"
