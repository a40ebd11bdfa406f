#!/usr/bin/env bash
# The C ABI suite (issue 5): builds libfixshare, checks the committed header is fresh, compiles
# the C/C++ examples and the C tests with gcc/g++ -Wall -Wextra -Werror -pedantic (C11, C++17),
# statically and dynamically linked, runs them (with the dealer and with the OT-based offline
# phase; AES-128 as a Bristol circuit between two processes; logistic/linear regression by SGD
# and oblivious inference against plaintext references), runs the C tests and the example
# under ASan/UBSan and valgrind, checks pkg-config and CMake consumption and the no_std
# data-owner build for Cortex-M. Weight sharing (issue 16): tests/c/test_weights.c is one trainer
# of FNT rings and SNT rounds with Rust trainer processes and the Rust server (fixshare-snt), its
# final weights and theirs checked bit for bit against centralized training, and the error paths
# of sealing and opening (static, dynamic, ASan/UBSan, valgrind). SecureNN's three servers
# (issue 13): tests/c/test_three.c runs P0 and P1 as parties with FXS_TOPOLOGY_THREE_SERVERS and
# the helper as fxs_dealer_serve (threads over socket pairs, and three processes over TCP): ReLU,
# DReLU, max pooling and its derivative, division and the rest against plaintext in every ring, a
# helper that leaves half-way (FXS_STATUS_CLOSED at both parties, nothing hangs), and the refused
# configurations (static, dynamic, C++, ASan/UBSan, valgrind). PrivPy's four servers (issue 15):
# tests/c/test_four.c runs the primaries S1 and S2 (fxs_party_new_with_assistants) and the
# assistants Sa and Sb (fxs_assistant_serve) as threads over socket pairs and as four processes
# over TCP: products, matrix product, ReLU, comparison, argmax and the numerical functions
# (reciprocal, division, exp, log, sqrt, inverse sqrt, logistic by exp and by Euler, tanh, select,
# equality, min/argmin, sum/mean/variance along each axis, broadcasting) against plaintext within
# their documented bounds, the same numerical functions with a dealer and with three servers, the
# precision guard (FXS_STATUS_PRECISION_GUARD), an assistant that leaves (FXS_STATUS_CLOSED at both
# primaries), refused configurations (static, dynamic, C++, ASan/UBSan; valgrind with --quick).
# TLS hosts (issue 17): tests/c/test_hosts.c runs a dealer, two parties and a data owner in C over
# fixshare-net's TLS connections (fxs_tls_*), then a deployment of `fixshare-party` processes (the
# dealer, server 0, owner 0) with server 1 hosted by a C process (fxs_daemon_run) and owner 1 a C
# data owner (fxs_owner_data_prepare, fxs_data_owner_share_part): logistic regression on
# breast_cancer.csv, owner 0's weights and accuracy against the plaintext SGD; wrong pins and
# sessions, unreachable and silent peers, a peer cut or stalled half-way and server 0 killed
# during training give their status and message, never a hang (static, dynamic, ASan/UBSan;
# valgrind without the two daemon jobs, whose timing it would distort 20-50 fold).
# Installs what it needs, idempotently. Ends with "N passed, 0 failed"; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
export CARGO_TARGET_DIR=$target
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
log() { printf '    %s\n' "$*"; }
# check NAME CMD...: runs CMD, output to a log shown on failure.
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
# expect_output NAME PATTERN CMD...: CMD succeeds and its output matches PATTERN (grep -E).
expect_output() {
    local name=$1 pattern=$2
    shift 2
    check "$name" run_and_match "$pattern" "$@"
}
run_and_match() {
    local pattern=$1 rc
    shift
    "$@" >"$work/run.out" 2>&1
    rc=$?
    cat "$work/run.out"
    [ $rc -eq 0 ] && grep -Eq "$pattern" "$work/run.out"
}

# ----- tools -----
need_pkgs=()
for tool in gcc:gcc g++:g++ valgrind:valgrind pkg-config:pkg-config cmake:cmake \
    readelf:binutils arm-none-eabi-ld:binutils-arm-none-eabi; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need_pkgs+=("${tool#*:}")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "installing: ${need_pkgs[*]}"
    apt-get update -qq || true
    TMPDIR=$(mktemp -d) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends -o DPkg::Lock::Timeout=300 "${need_pkgs[@]}" >/dev/null
fi
rustup target list --installed | grep -qx thumbv7em-none-eabihf ||
    rustup target add thumbv7em-none-eabihf

# ----- the library -----
echo "build"
stage=$work/stage
check "install.sh: release build, static + shared library, pkg-config and CMake files" \
    ffi/install.sh "$stage"
check "fixshare-snt (the Rust trainers and server the weight-sharing C tests run beside)" \
    cargo build -q -p fixshare-snt --release
export FIXSHARE_SNT_BIN=$target/release/fixshare-snt
check "fixshare-party and fixshare-net (the daemons and the key tool the TLS host tests run beside)" \
    cargo build -q -p fixshare-net --release
export FIXSHARE_PARTY_BIN=$target/release/fixshare-party FIXSHARE_NET_BIN=$target/release/fixshare-net
export FIXSHARE_CSV=$root/examples/data/breast_cancer.csv
check "shared library has SONAME libfixshare.so.0" \
    bash -c "readelf -d '$stage/lib/libfixshare.so.0' | grep -q 'SONAME.*\[libfixshare.so.0\]'"
native=$(sed -n 's/^Libs: [^ ]*libfixshare.a //p' "$stage/lib/pkgconfig/fixshare-static.pc")
log "static link line: -lfixshare $native"

echo "header"
check "include/fixshare.h is what cbindgen generates (tests/header.rs)" \
    cargo test -q -p fixshare-ffi --release --test header
printf '#include "fixshare.h"\nint main(void) { return fxs_version() == 0; }\n' >"$work/h.c"
check "header compiles as C11" \
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c "$work/h.c" -o "$work/h.o"
check "header compiles as C++17" \
    g++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -c "$work/h.c" -o "$work/hpp.o"

# ----- compile -----
echo "compile"
cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude -Iexamples/c)
cxxflags=(-std=c++17 -Wall -Wextra -Werror -pedantic -g -Iinclude -Iexamples/c -Iexamples/cpp)
static=("$stage/lib/libfixshare.a" $native)
dynamic=(-L"$stage/lib" -Wl,-rpath,"$stage/lib" -lfixshare -lm)
bin=$work/bin
mkdir -p "$bin"
check "gcc C11: C example, static" gcc "${cflags[@]}" examples/c/dot_product.c -o "$bin/dot_c_static" "${static[@]}"
check "gcc C11: C example, dynamic" gcc "${cflags[@]}" examples/c/dot_product.c -o "$bin/dot_c_dynamic" "${dynamic[@]}"
check "g++ C++17: C++ example, static" g++ "${cxxflags[@]}" examples/cpp/dot_product.cpp -o "$bin/dot_cpp_static" "${static[@]}"
check "g++ C++17: C++ example, dynamic" g++ "${cxxflags[@]}" examples/cpp/dot_product.cpp -o "$bin/dot_cpp_dynamic" "${dynamic[@]}"
check "gcc C11: C tests, static" gcc "${cflags[@]}" -pthread tests/c/test_ffi.c -o "$bin/test_static" "${static[@]}"
check "gcc C11: C tests, dynamic" gcc "${cflags[@]}" -pthread tests/c/test_ffi.c -o "$bin/test_dynamic" "${dynamic[@]}"
check "g++ C++17: C tests compiled as C++, static" g++ "${cxxflags[@]}" -pthread -x c++ tests/c/test_ffi.c -x none -o "$bin/test_cxx" "${static[@]}"
check "gcc C11 -fsanitize=address,undefined: C tests" gcc "${cflags[@]}" -pthread -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/test_ffi.c -o "$bin/test_asan" "${static[@]}"
check "gcc C11: weight-sharing C tests, static" gcc "${cflags[@]}" -pthread tests/c/test_weights.c -o "$bin/weights_static" "${static[@]}"
check "gcc C11: weight-sharing C tests, dynamic" gcc "${cflags[@]}" -pthread tests/c/test_weights.c -o "$bin/weights_dynamic" "${dynamic[@]}"
check "gcc C11 -fsanitize=address,undefined: weight-sharing C tests" gcc "${cflags[@]}" -pthread -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/test_weights.c -o "$bin/weights_asan" "${static[@]}"
check "gcc C11: three-server C tests, static" gcc "${cflags[@]}" -pthread tests/c/test_three.c -o "$bin/three_static" "${static[@]}"
check "gcc C11: three-server C tests, dynamic" gcc "${cflags[@]}" -pthread tests/c/test_three.c -o "$bin/three_dynamic" "${dynamic[@]}"
check "g++ C++17: three-server C tests compiled as C++, static" g++ "${cxxflags[@]}" -pthread -x c++ tests/c/test_three.c -x none -o "$bin/three_cxx" "${static[@]}"
check "gcc C11 -fsanitize=address,undefined: three-server C tests" gcc "${cflags[@]}" -pthread -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/test_three.c -o "$bin/three_asan" "${static[@]}"
check "gcc C11: four-server C tests, static" gcc "${cflags[@]}" -pthread tests/c/test_four.c -o "$bin/four_static" "${static[@]}"
check "gcc C11: four-server C tests, dynamic" gcc "${cflags[@]}" -pthread tests/c/test_four.c -o "$bin/four_dynamic" "${dynamic[@]}"
check "g++ C++17: four-server C tests compiled as C++, static" g++ "${cxxflags[@]}" -pthread -x c++ tests/c/test_four.c -x none -o "$bin/four_cxx" "${static[@]}"
check "gcc C11 -fsanitize=address,undefined: four-server C tests" gcc "${cflags[@]}" -pthread -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/test_four.c -o "$bin/four_asan" "${static[@]}"
check "gcc C11: TLS host C tests, static" gcc "${cflags[@]}" -pthread tests/c/test_hosts.c -o "$bin/hosts_static" "${static[@]}"
check "gcc C11: TLS host C tests, dynamic" gcc "${cflags[@]}" -pthread tests/c/test_hosts.c -o "$bin/hosts_dynamic" "${dynamic[@]}"
check "gcc C11 -fsanitize=address,undefined: TLS host C tests" gcc "${cflags[@]}" -pthread -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/test_hosts.c -o "$bin/hosts_asan" "${static[@]}"
check "g++ C++17: C++ wrapper tests, dynamic" g++ "${cxxflags[@]}" -pthread tests/c/test_wrapper.cpp -o "$bin/wrapper" "${dynamic[@]}"
check "g++ C++17 -fsanitize=address,undefined: C++ wrapper tests" g++ "${cxxflags[@]}" -pthread -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/test_wrapper.cpp -o "$bin/wrapper_asan" "${static[@]}"
check "dynamic binaries need libfixshare.so.0" \
    bash -c "readelf -d '$bin/dot_c_dynamic' | grep -q 'NEEDED.*\[libfixshare.so.0\]'"

# ----- run -----
echo "run"
result='secure dot product = -7\.2787[0-9]*, plaintext = -7\.278750'
relu='secure ReLU\(x\*w\) = \[0\.300 0\.000 0\.000 1\.000 0\.000 0\.071\], plaintext = \[0\.300 0\.000 0\.000 1\.000 0\.000 0\.071\]'
for b in dot_c_static dot_c_dynamic dot_cpp_static dot_cpp_dynamic; do
    expect_output "$b: three processes over TCP, dot product and ReLU beside the plaintext" \
        "party 0.*$result" timeout 60 "$bin/$b"
    check "$b: both parties print the correct dot product and ReLU" \
        bash -c "[ \$(grep -cE '$result' '$work/run.out') -eq 2 ] && [ \$(grep -cE '$relu' '$work/run.out') -eq 2 ] && grep -qx ok '$work/run.out'"
done
for b in dot_c_static dot_c_dynamic; do
    expect_output "$b --ot: two processes over TCP, OT offline phase (no dealer)" \
        "party 0.*$result.*offline phase: OT" timeout 60 "$bin/$b" --ot
    check "$b --ot: both parties print the correct dot product and ReLU" \
        bash -c "[ \$(grep -cE '$result.*offline phase: OT' '$work/run.out') -eq 2 ] && [ \$(grep -cE '$relu' '$work/run.out') -eq 2 ] && grep -qx ok '$work/run.out'"
done
for b in test_static test_dynamic test_cxx; do
    expect_output "$b: results and error paths" '^[0-9]+ passed, 0 failed$' timeout 120 "$bin/$b"
done
for b in three_static three_dynamic three_cxx; do
    expect_output "$b: three servers (helper = fxs_dealer_serve): SecureNN ops against plaintext, a helper that leaves, bad configurations" \
        '^[0-9]+ passed, 0 failed$' timeout 120 "$bin/$b"
done
expect_output "three-server C tests under AddressSanitizer + UBSan" '^[0-9]+ passed, 0 failed$' \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout 300 "$bin/three_asan"
expect_output "three-server C tests under valgrind (no leaks, no invalid accesses; all three processes)" \
    '^[0-9]+ passed, 0 failed$' \
    timeout 600 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin/three_dynamic"
for b in four_static four_dynamic four_cxx; do
    expect_output "$b: four servers (assistants = fxs_assistant_serve) and the numerical functions against plaintext, the guard, an assistant that leaves, bad configurations" \
        '^[0-9]+ passed, 0 failed$' timeout 300 "$bin/$b"
done
expect_output "four-server C tests under AddressSanitizer + UBSan" '^[0-9]+ passed, 0 failed$' \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout 300 "$bin/four_asan"
expect_output "four-server C tests --quick under valgrind (no leaks, no invalid accesses; all four processes)" \
    '^[0-9]+ passed, 0 failed$' \
    timeout 1200 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin/four_dynamic" --quick
for b in weights_static weights_dynamic; do
    expect_output "$b: a C trainer in FNT rings and SNT rounds with Rust trainers equals centralized training; bad arguments" \
        '^[0-9]+ passed, 0 failed$' timeout 300 "$bin/$b"
done
expect_output "weight-sharing C tests under AddressSanitizer + UBSan" '^[0-9]+ passed, 0 failed$' \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout 300 "$bin/weights_asan"
expect_output "weight-sharing C tests under valgrind (no leaks, no invalid accesses)" '^[0-9]+ passed, 0 failed$' \
    timeout 600 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin/weights_dynamic"
for b in hosts_static hosts_dynamic; do
    expect_output "$b: C parties, dealer and owner over TLS; server 1 (fxs_daemon_run) and owner 1 in C beside fixshare-party processes train against plaintext; refusals, cuts, a killed server" \
        '^[0-9]+ passed, 0 failed$' timeout 600 "$bin/$b"
done
expect_output "TLS host C tests under AddressSanitizer + UBSan (the C processes too)" '^[0-9]+ passed, 0 failed$' \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout 600 "$bin/hosts_asan"
expect_output "TLS host C tests --no-jobs under valgrind (no leaks, no invalid accesses)" '^[0-9]+ passed, 0 failed$' \
    timeout 900 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin/hosts_dynamic" --no-jobs
expect_output "C tests under AddressSanitizer + UBSan" '^[0-9]+ passed, 0 failed$' \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout 300 "$bin/test_asan"
expect_output "C++ wrapper tests (OT, non-linear layer, AES-128 circuit, exceptions)" \
    '^[0-9]+ passed, 0 failed$' timeout 120 "$bin/wrapper"
expect_output "C++ wrapper tests under AddressSanitizer + UBSan" '^[0-9]+ passed, 0 failed$' \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout 300 "$bin/wrapper_asan"
expect_output "C tests under valgrind (no leaks, no invalid accesses)" '^[0-9]+ passed, 0 failed$' \
    timeout 600 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin/test_dynamic"
expect_output "C example under valgrind (all three processes)" "$result" \
    timeout 300 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin/dot_c_dynamic"
expect_output "C example with --ot under valgrind (both processes)" "$result.*offline phase: OT" \
    timeout 300 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin/dot_c_dynamic" --ot
check "C example with --ot under valgrind: both parties print the correct ReLU" \
    bash -c "[ \$(grep -cE '$relu' '$work/run.out') -eq 2 ]"

# ----- pkg-config and CMake -----
echo "packaging"
export PKG_CONFIG_PATH=$stage/lib/pkgconfig
check "pkg-config: C example against fixshare.pc (shared)" \
    bash -c "gcc -std=c11 -Wall -Wextra -Werror -pedantic -Iexamples/c examples/c/dot_product.c -o '$bin/pc_dyn' \$(pkg-config --cflags --libs fixshare) -Wl,-rpath,'$stage/lib' -lm && '$bin/pc_dyn'"
check "pkg-config: C example against fixshare-static.pc" \
    bash -c "gcc -std=c11 -Wall -Wextra -Werror -pedantic -Iexamples/c examples/c/dot_product.c -o '$bin/pc_static' \$(pkg-config --cflags --libs fixshare-static) && '$bin/pc_static'"
check "CMake: find_package(fixshare CONFIG), shared and static targets build and run" \
    bash -c "cmake -S tests/c/cmake -B '$work/cmake' -DCMAKE_PREFIX_PATH='$stage' && cmake --build '$work/cmake' && '$work/cmake/dot_shared' && '$work/cmake/dot_static'"

# ----- no_std: the data-owner part for Cortex-M -----
echo "no_std (thumbv7em-none-eabihf)"
check "static library without std (data-owner functions, panic handler)" \
    cargo rustc -q -p fixshare-ffi --release --lib --crate-type staticlib --no-default-features \
    --features panic-handler --target thumbv7em-none-eabihf
mcu=$target/thumbv7em-none-eabihf/release/libfixshare.a
check "no_std library exports the data-owner functions and no party, TLS or daemon functions" \
    bash -c "syms=\$(arm-none-eabi-nm --defined-only '$mcu' 2>/dev/null | awk '\$2==\"T\"{print \$3}');
             for f in fxs_data_owner_init fxs_data_owner_share fxs_data_owner_reconstruct fxs_data_owner_clear; do
               grep -qx \$f <<<\"\$syms\" || exit 1; done; ! grep -qE '^fxs_(party|tls|daemon|owner_data)_' <<<\"\$syms\""
check "no_std library links alone (no libc, no allocator)" \
    bash -c "arm-none-eabi-ld -o '$work/owner.elf' -e fxs_data_owner_share --gc-sections \
             -u fxs_data_owner_init -u fxs_data_owner_reconstruct -u fxs_data_owner_clear \
             -u fxs_data_owner_last_error '$mcu' && ! arm-none-eabi-nm '$work/owner.elf' | grep -qiE 'rust_alloc|malloc'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
