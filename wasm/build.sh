#!/usr/bin/env bash
# Builds the npm package: the size-optimized wasm (profile `wasm-release`), then wasm-bindgen
# for browsers (pkg/web, ES module) and Node (pkg/node, CommonJS), and reports the .wasm size.
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli 0.2.130 (scripts/test.d/30-wasm.sh
# installs both).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}

cargo build -p fixshare-wasm --profile wasm-release --target wasm32-unknown-unknown
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/fixshare_wasm.wasm"

rm -rf pkg/web pkg/node
# Without the name section (function names for stack traces: about 200 KB raw); set
# FIXSHARE_WASM_NAMES=1 to keep it.
strip=(--remove-name-section --remove-producers-section)
[ "${FIXSHARE_WASM_NAMES:-0}" = 1 ] && strip=()
wasm-bindgen --target web "${strip[@]}" --out-dir pkg/web "$wasm"
wasm-bindgen --target nodejs "${strip[@]}" --out-dir pkg/node "$wasm"
# The web build is ES modules; tell Node so too, should anyone import it there.
printf '{ "type": "module" }\n' > pkg/web/package.json
printf '{ "type": "commonjs" }\n' > pkg/node/package.json

raw=$(wc -c < pkg/web/fixshare_wasm_bg.wasm)
gz=$(gzip -9 -c pkg/web/fixshare_wasm_bg.wasm | wc -c)
echo "fixshare_wasm_bg.wasm: $raw bytes raw, $gz bytes gzipped (gzip -9), profile wasm-release"
