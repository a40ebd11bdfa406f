#!/usr/bin/env bash
# Builds the C library (release) and installs it under PREFIX:
#   PREFIX/include/fixshare.h
#   PREFIX/lib/libfixshare.a, libfixshare.so.0 (SONAME), libfixshare.so -> libfixshare.so.0
#   PREFIX/lib/pkgconfig/fixshare.pc (shared), fixshare-static.pc (static)
#   PREFIX/lib/cmake/fixshare/fixshare-config.cmake (+ version file)
# Usage: ffi/install.sh PREFIX        (honours CARGO_TARGET_DIR; default: target/)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: ffi/install.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
target=${CARGO_TARGET_DIR:-target}

# The static library's system libraries, as rustc reports them.
native=$(cargo rustc -q -p fixshare-ffi --release --lib --crate-type staticlib -- \
    --print native-static-libs 2>&1 | sed -n 's/.*native-static-libs: //p' | tail -1)
[ -n "$native" ] || { echo "install.sh: rustc did not report native-static-libs" >&2; exit 1; }
cargo build -q -p fixshare-ffi --release

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
native_cmake=$(sed -e 's/-l//g' -e 's/ \+/;/g' <<<"$native")

install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/fixshare"
install -m 644 include/fixshare.h "$prefix/include/"
install -m 644 "$target/release/libfixshare.a" "$prefix/lib/"
install -m 755 "$target/release/libfixshare.so" "$prefix/lib/libfixshare.so.$major"
ln -sf "libfixshare.so.$major" "$prefix/lib/libfixshare.so"
subst() {
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" -e "s|@VERSION_MAJOR@|$major|g" \
        -e "s|@VERSION_MINOR@|$minor|g" -e "s|@NATIVE_STATIC_LIBS@|$native|g" \
        -e "s|@NATIVE_STATIC_LIBS_CMAKE@|$native_cmake|g" "$1" >"$2"
}
subst ffi/pkg/fixshare.pc.in "$prefix/lib/pkgconfig/fixshare.pc"
subst ffi/pkg/fixshare-static.pc.in "$prefix/lib/pkgconfig/fixshare-static.pc"
subst ffi/pkg/fixshare-config.cmake.in "$prefix/lib/cmake/fixshare/fixshare-config.cmake"
subst ffi/pkg/fixshare-config-version.cmake.in \
    "$prefix/lib/cmake/fixshare/fixshare-config-version.cmake"
echo "installed fixshare $version to $prefix (static link line: -lfixshare $native)"
