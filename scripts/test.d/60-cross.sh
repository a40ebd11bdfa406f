#!/usr/bin/env bash
# One training job across Rust, C and the browser (issue 17, item 4): wasm/tests/browser/cross.mjs
# runs the dealer and server 0 as `fixshare-party` processes, server 1 hosted by a C program
# through the C ABI (tests/c/test_hosts.c's `server1` mode), owner 0 in Rust, owner 1 as a page in
# headless Chromium, owner 2 as a C program and owner 3 as the Cortex-M4 device under QEMU, whose
# sealed messages `fixshare-party gateway` relays, all over TLS on 127.0.0.1, and checks the
# model against the plaintext SGD on all the owners' rows.
# Runs after the C ABI, WASM and embedded suites and uses what they installed and built (the C
# toolchain, Chromium, playwright-core, the WASM package, QEMU); builds the rest here,
# idempotently.
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

party=$target/release/fixshare-party netbin=$target/release/fixshare-net

echo "--- the device: owner 3's part in its firmware, sealed for each server, run under QEMU"
# The device's keys (one per server) and its gateway's; the [job] is cross.mjs's, so that the
# device's session id is the servers'.
dev=$work/device
mkdir -p "$dev"
"$netbin" device-keys --name device3 --out "$dev" >/dev/null
"$netbin" keygen --name gateway --out "$dev" >/dev/null
printf 'role = "device"\nsession = "cross-language-test"\nindex = 3\n[job]\nkind = "train_glm"\nmodel = "logistic"\nsigmoid = "piecewise"\nowners = 4\nepochs = 3\nbatch = 32\nlearning_rate = 0.1\n' \
    >"$dev/device3.toml"
"$party" device --config "$dev/device3.toml" --data examples/data/breast_cancer.csv --firmware "$dev/part.rs" >/dev/null
FIXSHARE_DEVICE_PART=$dev/part.rs FIXSHARE_DEVICE_KEY0=$(cat "$dev/device3.server0.key") \
    FIXSHARE_DEVICE_KEY1=$(cat "$dev/device3.server1.key") \
    FIXSHARE_DEVICE_SEED=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
    bash -c 'cd examples/embedded && cargo build -q --release --target-dir target/sealed --features sealed'
timeout 120 qemu-system-arm -cpu cortex-m4 -machine lm3s6965evb -nographic \
    -semihosting-config enable=on,target=native \
    -kernel examples/embedded/target/sealed/thumbv7em-none-eabihf/release/fixshare-sensor >"$dev/sealed.txt"
grep -c '^SEALED[01] ' "$dev/sealed.txt" | grep -qx 2 || { cat "$dev/sealed.txt"; exit 1; }

echo "--- Rust, C, a browser and a device in one job"
export FIXSHARE_PARTY_BIN=$party FIXSHARE_NET_BIN=$netbin
export FIXSHARE_C_HOSTS_BIN=$work/test_hosts FIXSHARE_CROSS_DEVICE=$dev
(cd wasm && node tests/browser/cross.mjs)
echo "--- cross-language suite passed"
