#!/usr/bin/env bash
# Runs every test the repository has. Installs what the tests need, idempotently.
# Usage: ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain targets"
installed=$(rustup target list --installed)
for t in wasm32-unknown-unknown thumbv7em-none-eabihf; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "the bindings use the session API only"
bash scripts/check-bindings.sh

step "no_std builds of the core"
cargo build -p fixshare --no-default-features --target thumbv7em-none-eabihf
cargo build -p fixshare --no-default-features --target wasm32-unknown-unknown

step "the core with its default features alone (no std): unit and doc tests"
cargo test -p fixshare --release

step "the core's parallel matrix products (feature parallel)"
cargo test -p fixshare --release --features parallel --lib arith::matmul

step "workspace tests (release: some tests run 10^6 secure operations)"
cargo test --workspace --release

# Further suites (C ABI, WASM, embedded, ...) add a script here; each installs what it needs.
shopt -s nullglob
for suite in scripts/test.d/*.sh; do
    step "suite $(basename "$suite")"
    bash "$suite"
done
step "all suites passed"
