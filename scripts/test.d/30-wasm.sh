#!/usr/bin/env bash
# The WASM suite (issue 6): builds the npm package (wasm/build.sh: size-optimized wasm, then
# wasm-bindgen for --target web and --target nodejs, and the .wasm size raw and gzipped), runs
# the Node tests (two parties over MessageChannels, and in two worker threads, with a dealer or
# with OT over the one peer connection: products, matrix products, ReLU and the rest of the
# non-linear layer, data owners, Bristol circuits, bad input and failing transports — an
# argument error leaves a party usable, a failure after communicating poisons it — each against
# plaintext; rings 32 and 128; the signBits option of the FSS sign tests; linear and logistic
# regression and perceptron training, and inference over dense, convolution, ReLU, square and
# pooling layers) and the browser example in
# headless Chromium (a data-owner page and two parties in Web Workers; results read from the DOM
# and compared with plaintext; screenshots in target/wasm-browser/). Honours CARGO_TARGET_DIR
# (wasm/build.sh finds the .wasm there).
#
# The must-show of the bindings' parity: first the Rust example
# `cargo run --release --example train -- --seed 1` (logistic regression on breast_cancer with
# its defaults) runs, and its `secure_accuracy` and `plaintext_accuracy` go to
# $target/wasm-train/rust.json, named to the tests by FIXSHARE_RUST_TRAIN; the Node test
# (two worker threads) and the Chromium check (two Web Workers) train the same model with the
# WASM package on the same rows and assert that their secure test accuracy equals the Rust
# run's.
# Weight sharing (issue 16): tests/node/weights.test.mjs runs the package's FloatModel and
# WeightLink as one trainer of FNT rings and SNT rounds beside Rust trainer processes and the Rust
# server (fixshare-snt, built here and named by FIXSHARE_SNT_BIN), and tests/browser/weights.mjs
# does the same from a page in headless Chromium (its transports relayed to TCP); every
# trainer's final weights must equal centralized training in the same run.
# SecureNN's three servers (issue 13): tests/node/helper.test.mjs runs P0 and P1
# (`Party.withHelper`) and the helper P2 (`Dealer.serve`) over MessageChannels — ReLU, DReLU,
# comparisons, max/argmax, max pooling and its derivative, division and the softmax replacement
# against plaintext in every ring, a helper that leaves half-way through a ReLU, refused options
# — and tests/browser/helper.mjs runs the three roles in three Web Workers of a page in headless
# Chromium, checked against plaintext, then terminates the helper's worker.
# PrivPy's four servers and the numerical library (issue 15): tests/node/four.test.mjs runs the
# primaries S1 and S2 (`Party.withAssistants`) and the assistants Sa and Sb (`Assistant.serve`)
# in four worker threads — products, matrix products, ReLU, comparison, argmax and every
# numerical function against plaintext in Z_2^128 and Z_2^64, the precision guard firing, an
# assistant cut half-way through a ReLU and an assistant's worker terminated (both primaries end
# with a "closed" error), refused settings; tests/node/numeric.test.mjs checks every numerical
# function against JS Math within its documented bound with a dealer, their argument errors and
# the guard; tests/browser/four.mjs runs the four servers in four Web Workers in Chromium.
# Data owners in web pages (issue 17 part 3): tests/browser/owner.mjs runs a dealer and two
# `fixshare-party run` servers over TLS on 127.0.0.1 (built here, named by FIXSHARE_PARTY_BIN and
# FIXSHARE_NET_BIN), owner 0 as `fixshare-party owner` and owner 1 as a page in headless Chromium
# (`JobOwner` over wss:// with a WebCrypto key, the servers' certificates trusted by their pins
# through --ignore-certificate-errors-spki-list); the job completes, owner 0's model matches the
# plaintext SGD, and the page's strays (an unpinned key, another session) are refused meanwhile.
# Installs what it needs, idempotently: the wasm32 target, wasm-bindgen-cli 0.2.130 (the
# crate's pinned version), node/npm and chromium via apt if missing, and playwright-core into
# wasm/node_modules (gitignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

need_pkgs=()
command -v node >/dev/null 2>&1 || need_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "installing: ${need_pkgs[*]}"
    apt-get update -qq || true
    TMPDIR=$(mktemp -d) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends -o DPkg::Lock::Timeout=300 "${need_pkgs[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "Node $node_major is too old: the tests need Node 20 or later (globalThis.crypto, node --test)" >&2
    exit 1
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown
want=0.2.130
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    # No --locked: one locked dependency of this release is missing from the registry.
    cargo install wasm-bindgen-cli --version "$want"
fi

cd wasm
if [ "$(node -p 'try { require("playwright-core/package.json").version } catch { "" }')" != 1.65.1 ]; then
    npm install --no-audit --no-fund
fi

echo "--- build"
./build.sh

echo "--- the Rust run to compare with: cargo run --release --example train -- --seed 1"
target_dir=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$target_dir/wasm-train"
rust_log="$target_dir/wasm-train/rust.log"
(cd "$root" && cargo run --release -q -p fixshare-examples --example train -- --seed 1) | tee "$rust_log"
secure=$(awk '$1 == "secure_accuracy:" { print $2 }' "$rust_log")
plain=$(awk '$1 == "plaintext_accuracy:" { print $2 }' "$rust_log")
if [[ -z "$secure" || -z "$plain" ]]; then
    echo "the Rust example printed no secure_accuracy / plaintext_accuracy" >&2
    exit 1
fi
export FIXSHARE_RUST_TRAIN="$target_dir/wasm-train/rust.json"
printf '{ "secure_accuracy": "%s", "plaintext_accuracy": "%s", "seed": 1 }\n' "$secure" "$plain" \
    > "$FIXSHARE_RUST_TRAIN"
echo "Rust run: secure_accuracy $secure, plaintext_accuracy $plain ($FIXSHARE_RUST_TRAIN)"

echo "--- fixshare-snt (the Rust trainers and server of the weight-sharing tests)"
(cd "$root" && cargo build --release -q -p fixshare-snt)
export FIXSHARE_SNT_BIN="$target_dir/release/fixshare-snt"

echo "--- fixshare-party and fixshare-net (the servers, dealer and Rust owner of the browser owner's job)"
(cd "$root" && cargo build --release -q -p fixshare-net --bins)
export FIXSHARE_PARTY_BIN="$target_dir/release/fixshare-party"
export FIXSHARE_NET_BIN="$target_dir/release/fixshare-net"

echo "--- Node tests"
node --test tests/node/*.test.mjs
echo "--- headless Chromium (/usr/bin/chromium)"
node tests/browser/example.mjs
node tests/browser/weights.mjs
node tests/browser/helper.mjs
node tests/browser/four.mjs
node tests/browser/owner.mjs
echo "--- wasm suite passed"
