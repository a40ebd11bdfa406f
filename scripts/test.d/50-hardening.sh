#!/usr/bin/env bash
# Hardening suite (issue 18): short fuzz runs of every cargo-fuzz target, the Rust side of the C
# ABI (its unit tests, which drive two parties through the exported functions) under
# AddressSanitizer in a debug build (overflow checks on), and Miri on the unit tests it applies
# to (the size rule, the CSV reader, fixed point, the C ABI's status codes).
#
# Installs what it needs, idempotently: a nightly toolchain with the miri and rust-src
# components, cargo-fuzz 0.13.2. Ends with "N passed, 0 failed"; exits non-zero on failure.
# FUZZ_SECONDS (default 5) sets the run time per fuzz target; the long runs are in fuzz/README.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
seconds=${FUZZ_SECONDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
log() { printf '    %s\n' "$*"; }
check() {
    local name=$1
    shift
    if "$@" >"$work/out.log" 2>&1; then
        passed=$((passed + 1))
        log "ok   $name"
    else
        failed=$((failed + 1))
        log "FAIL $name"
        sed 's/^/        | /' "$work/out.log" | tail -40
    fi
}

# ----- tools -----
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
components=$(rustup component list --toolchain nightly --installed)
for c in miri rust-src; do
    grep -q "^$c" <<<"$components" || rustup component add --toolchain nightly "$c"
done
if ! cargo fuzz --version 2>/dev/null | grep -q '0.13.2'; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

# ----- fuzz smoke runs -----
echo "fuzz (${seconds}s per target)"
fuzz_target_dir=$target/fuzz
export CARGO_TARGET_DIR=$fuzz_target_dir
check "cargo fuzz build (AddressSanitizer, debug assertions)" \
    bash -c "cd fuzz && cargo +nightly fuzz build"
bin=$fuzz_target_dir/x86_64-unknown-linux-gnu/release
for t in bristol frame csv dealer c_args; do
    corpus=$work/corpus-$t
    mkdir -p "$corpus"
    seeds=()
    [ "$t" = bristol ] && seeds=(core/circuits)
    [ "$t" = csv ] && seeds=(examples/data)
    check "fuzz $t: ${seconds}s without a finding" \
        "$bin/$t" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$t-" "$corpus" "${seeds[@]}"
    grep -h 'Done [0-9]* runs' "$work/out.log" | sed "s/^/        $t: /"
done

# ----- the C ABI's Rust side under AddressSanitizer -----
echo "AddressSanitizer"
export CARGO_TARGET_DIR=$target/asan
check "fixshare-ffi unit tests under -Zsanitizer=address (debug: overflow checks on)" \
    env RUSTFLAGS="-Zsanitizer=address" RUSTDOCFLAGS="-Zsanitizer=address" \
    cargo +nightly test -p fixshare-ffi --lib --target x86_64-unknown-linux-gnu

# ----- Miri -----
echo "Miri"
export CARGO_TARGET_DIR=$target/miri
# Tests without threads, sockets or processes: pure functions where undefined behaviour or an
# overflow would show. (The ffi tests that run two parties over sockets are out of Miri's reach.)
check "miri: core size rule, fixed point, CSV reader (endings, BOM, UTF-8)" \
    cargo +nightly miri test -p fixshare --lib -- limits:: fixed:: \
    ml::data::tests::line_endings ml::data::tests::parses ml::data::tests::split
# The C ABI's pure tests and the hardening tests that need no peer: configurations with bad
# fractional bits (fxs_party_new, fxs_data_owner_init in caller storage), networks and
# perceptrons over the maximum (raw layer arrays). The two-party tests talk over UNIX sockets,
# which Miri does not run.
check "miri: the C ABI's status codes, panic boundary, bad configurations and layer lists" \
    cargo +nightly miri test -p fixshare-ffi --lib -- \
    --skip hardening_tests::argument --skip hardening_tests::oversized

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
