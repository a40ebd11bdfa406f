#!/usr/bin/env bash
# Embedded data owner: builds the Cortex-M4 firmware, runs it under QEMU, checks the servers
# reconstruct what it shared, checks its failure paths, and prints its flash and RAM figures.
# Then the device as a data owner of a training job behind an untrusted gateway: the `sealed`
# firmware seals its part of breast_cancer.csv for each server, fixshare-party gateway relays
# its QEMU output to two fixshare-party servers, which train with a dealer and a Rust owner 0
# (whose report compares the model with the plaintext SGD on the same rows).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
fw=examples/embedded
tgt=${CARGO_TARGET_DIR:-$root/target}

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
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$out"
}
trap cleanup EXIT

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
    "$tgt/release/examples/embedded_check" "$out/share.txt" 32
sed 's/^S0 01/S0 7f/' "$out/share.txt" >"$out/tampered.txt"
check "a tampered capture is rejected" \
    bash -c "! '$tgt/release/examples/embedded_check' '$out/tampered.txt' 32 >/dev/null 2>&1"

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

# ---- The device as data owner 1 of a training job, through an untrusted gateway ----
cargo build -q --release -p fixshare-net --bins || { echo "FAIL fixshare-net builds"; exit 1; }
party=$tgt/release/fixshare-party
netbin=$tgt/release/fixshare-net
job=$out/job
mkdir -p "$job/keys"
for name in server0 server1 dealer owner0 gateway; do
    "$netbin" keygen --name "$name" --out "$job/keys" >/dev/null
done
# The device's keys, one per server: server 0 gets the first, server 1 the second, the
# firmware both (a real device is provisioned with them), the gateway neither.
"$netbin" device-keys --name device1 --out "$job/keys" >/dev/null
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
p_dealer=127.0.0.1:$(free_port) p0=127.0.0.1:$(free_port) p1=127.0.0.1:$(free_port)
jobsec='[job]
kind = "train_glm"
model = "logistic"
sigmoid = "piecewise"
owners = 2
epochs = 3
batch = 32
learning_rate = 0.1'
common='session = "embedded-gateway"
[keys]
dir = "keys"'
timeouts='[timeouts]
wait_seconds = 120
read_seconds = 120'
printf 'role = "dealer"\nlisten = "%s"\n%s\n%s\n' "$p_dealer" "$common" "$timeouts" >"$job/dealer.toml"
for s in 0 1; do
    listen=$p0 peer0=""
    if [ "$s" = 1 ]; then listen=$p1 peer0=$(printf '[peers.server0]\naddress = "%s"' "$p0"); fi
    printf 'role = "server%s"\nlisten = "%s"\n%s\n%s\n[peers.dealer]\naddress = "%s"\n%s\n%s\n' \
        "$s" "$listen" "$common" "$peer0" "$p_dealer" "$timeouts" "$jobsec" >"$job/server$s.toml"
    printf '[[devices]]\nindex = 1\ngateway_certificate = "keys/gateway.crt"\nkey = "keys/device1.server%s.key"\n' \
        "$s" >>"$job/server$s.toml"
done
for who in owner gateway; do
    index=0
    [ "$who" = gateway ] && index=1
    printf 'role = "%s"\nindex = %s\n%s\n[peers.server0]\naddress = "%s"\n[peers.server1]\naddress = "%s"\n%s\n%s\n' \
        "$who" "$index" "$common" "$p0" "$p1" "$timeouts" "$jobsec" >"$job/$who.toml"
done
printf 'role = "device"\nsession = "embedded-gateway"\nindex = 1\n%s\n' "$jobsec" >"$job/device1.toml"

# The firmware's data: owner 1's part of the table, as fixshare-party owner would share it.
check "fixshare-party device writes the firmware's part of the job" \
    "$party" device --config "$job/device1.toml" --data "$root/examples/data/breast_cancer.csv" \
    --firmware "$job/part.rs"
export FIXSHARE_DEVICE_PART=$job/part.rs
FIXSHARE_DEVICE_KEY0=$(cat "$job/keys/device1.server0.key")
FIXSHARE_DEVICE_KEY1=$(cat "$job/keys/device1.server1.key")
export FIXSHARE_DEVICE_KEY0 FIXSHARE_DEVICE_KEY1
check "sealed firmware (owner 1 of a job, behind a gateway) builds" build sealed sealed
check "sealed firmware runs under QEMU and exits with success" run sealed
check "it prints one sealed message per server" \
    test "$(grep -c '^SEALED0 ' "$out/sealed.txt")$(grep -c '^SEALED1 ' "$out/sealed.txt")" = 11
check "the gateway refuses a capture without sealed messages" \
    bash -c "! '$party' gateway --config '$job/gateway.toml' --sealed '$out/share.txt' 2>/dev/null | grep -q '^status: ok'"

start() { # start NAME ARGS...: a daemon in the background, output in $job/NAME.out and .err
    local name=$1
    shift
    timeout 300 "$party" "$@" >"$job/$name.out" 2>"$job/$name.err" &
    pids+=($!)
}
start dealer run --config "$job/dealer.toml"
start server0 run --config "$job/server0.toml"
start server1 run --config "$job/server1.toml"
start owner0 owner --config "$job/owner.toml" --data "$root/examples/data/breast_cancer.csv"
start gateway gateway --config "$job/gateway.toml" --sealed "$out/sealed.txt"
names=(dealer server0 server1 owner0 gateway)
for i in "${!names[@]}"; do
    wait "${pids[$i]}"
    status=$?
    check "${names[$i]} ends with success (status $status)" \
        bash -c "[ $status -eq 0 ] && grep -q '^status: ok' '$job/${names[$i]}.out'"
done
# All reaped: nothing left for the exit trap to stop.
pids=()
value() { sed -n "s/^$2: //p" "$job/$1.out"; }
secure=$(value owner0 secure_accuracy)
plain=$(value owner0 plaintext_accuracy)
rmse=$(value owner0 weights_rel_rmse)
echo "embedded_gateway_secure_accuracy: ${secure:-none} (plaintext ${plain:-none})"
echo "embedded_gateway_weights_rel_rmse: ${rmse:-none}"
check "both servers trained on 456 rows, the device's relayed by the gateway" \
    bash -c "for s in server0 server1; do grep -q '^rows: 456' '$job/'\$s.out && grep -q 'owner 1: a sealed message of .* relayed by the gateway' '$job/'\$s.err || exit 1; done"
check "the model matches the plaintext SGD (accuracy within a point, weights_rel_rmse < 1e-2)" \
    awk -v s="${secure:-0}" -v p="${plain:-1}" -v r="${rmse:-1}" \
    'BEGIN { d = s - p; if (d < 0) d = -d; exit !(d <= 0.01 && r < 0.01 && s > 0.9) }'

read -r s_text s_data s_bss _ < <(arm-none-eabi-size "$fw/target/sealed/thumbv7em-none-eabihf/release/fixshare-sensor" | tail -1)
s_stack=$(sed -n 's/^stack_peak_bytes: //p' "$out/sealed.txt")
s_ram=$((s_data + s_bss + ${s_stack:-99999}))
part_bytes=$(($(grep -o 'f64::from_bits' "$job/part.rs" | wc -l) * 8))
echo "embedded_sealed_flash_total_bytes: $s_text (over baseline: $((s_text - base_text)), of which the part's values: $part_bytes)"
echo "embedded_sealed_ram_bytes: $s_ram (static $((s_data + s_bss)), peak stack ${s_stack:-unknown} with both capture buffers; no heap)"
check "sealed variant fits the LM3S6965's 256 KB of flash and 64 KB of RAM" \
    test "$s_text" -le 262144 -a "$s_ram" -le 65536

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
