#!/usr/bin/env bash
# Embedded data owner: builds the Cortex-M4 firmware, runs it under QEMU, checks the servers
# reconstruct what it shared, checks its failure paths, and prints its flash and RAM figures.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
fw=examples/embedded

need=()
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
command -v arm-none-eabi-size >/dev/null || need+=(binutils-arm-none-eabi)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && TMPDIR=$(mktemp -d) apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "ok   $what"; passed=$((passed + 1)); else echo "FAIL $what"; failed=$((failed + 1)); fi
}

# A fresh device seed for this run (a real device reads its hardware RNG at boot).
export FIXSHARE_DEVICE_SEED=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

build() { # build VARIANT [FEATURE]
    (cd "$fw" && cargo build -q --release --target-dir "target/$1" ${2:+--features "$2"}) || return 1
}
run() { # run VARIANT -> exit status of QEMU (semihosting exit), output in $out/VARIANT.txt
    timeout 60 qemu-system-arm -cpu cortex-m4 -machine lm3s6965evb -nographic \
        -semihosting-config enable=on,target=native \
        -kernel "$fw/target/$1/thumbv7em-none-eabihf/release/fixshare-sensor" >"$out/$1.txt" 2>&1
}

check "firmware builds for thumbv7em-none-eabihf" build share
check "baseline firmware (no sharing path) builds" build baseline baseline
check "firmware with an out-of-range reading builds" build bad bad-reading
check "firmware that panics builds" build panic panic-test

check "firmware runs under QEMU and exits with success" run share
cargo build -q --release --example embedded_check
check "servers reconstruct the readings and compute their mean" \
    "$root/target/release/examples/embedded_check" "$out/share.txt" 32
sed 's/^S0 01/S0 7f/' "$out/share.txt" >"$out/tampered.txt"
check "a tampered capture is rejected" \
    bash -c "! '$root/target/release/examples/embedded_check' '$out/tampered.txt' 32 >/dev/null 2>&1"

run bad; status=$?
check "an out-of-range reading exits with failure (status $status) and a message" \
    bash -c "[ $status -eq 1 ] && grep -q 'outside the fixed-point range' '$out/bad.txt'"
run panic; status=$?
check "a panic exits with failure (status $status) and a message" \
    bash -c "[ $status -eq 1 ] && grep -q '^panic: ' '$out/panic.txt'"

# Size report: flash beyond the runtime is the difference to the baseline firmware.
read -r text data bss _ < <(arm-none-eabi-size "$fw/target/share/thumbv7em-none-eabihf/release/fixshare-sensor" | tail -1)
read -r base_text _ _ _ < <(arm-none-eabi-size "$fw/target/baseline/thumbv7em-none-eabihf/release/fixshare-sensor" | tail -1)
stack=$(sed -n 's/^stack_peak_bytes: //p' "$out/share.txt")
flash=$((text - base_text))
ram=$((data + bss + ${stack:-99999}))
echo "embedded_flash_total_bytes: $text"
echo "embedded_flash_sharing_path_bytes: $flash (target <= 16384)"
echo "embedded_static_ram_bytes: $((data + bss))"
echo "embedded_peak_stack_bytes: ${stack:-unknown}"
echo "embedded_ram_bytes: $ram (target <= 4096, no heap)"
check "sharing path fits in 16 KB of flash" test "$flash" -le 16384
check "static RAM plus peak stack fit in 4 KB" test "$ram" -le 4096

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
