//! Unit tests: the C ABI's contract under hostile arguments (issue 18), driven from Rust through the exported
//! functions: argument errors return codes 100-199 and leave the party usable, no argument can
//! reach an integer overflow (run this file in a debug build too: `scripts/test.d/50-hardening.sh`
//! does), oversized shapes are refused before anything is allocated (peak RSS of a child
//! process), and messages name the sizes.

use std::prelude::rust_2024::*;
use std::println;

use crate::data_owner::{fxs_data_owner, fxs_data_owner_config, fxs_data_owner_init};
use crate::party::{
    FXS_OFFLINE_DEALER, fxs_dealer_serve, fxs_party, fxs_party_config, fxs_party_config_init,
    fxs_party_free, fxs_party_matmul, fxs_party_mul, fxs_party_new, fxs_party_receive_input,
    fxs_party_reveal, fxs_party_share_input, fxs_party_stats, fxs_party_truncate, fxs_shares,
    fxs_shares_free, fxs_shares_reshape, fxs_shares_transpose, fxs_stats,
};
use crate::{fxs_last_error_message, fxs_status, fxs_transport};
use std::ffi::{CStr, c_int, c_void};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::ptr::{null, null_mut};
use std::thread;

const CHILD: &str = "FIXSHARE_FFI_HARDENING_CHILD";

unsafe extern "C" fn send(user: *mut c_void, buf: *const u8, len: usize) -> c_int {
    // SAFETY: `user` is the `UnixStream` this test handed over; `buf` is readable for `len`.
    let (s, b) = unsafe {
        (
            &mut *(user as *mut UnixStream),
            std::slice::from_raw_parts(buf, len),
        )
    };
    if s.write_all(b).is_ok() { 0 } else { 1 }
}

unsafe extern "C" fn recv(user: *mut c_void, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: as for `send`; `buf` is writable for `len`.
    let (s, b) = unsafe {
        (
            &mut *(user as *mut UnixStream),
            std::slice::from_raw_parts_mut(buf, len),
        )
    };
    if s.read_exact(b).is_ok() { 0 } else { 1 }
}

/// A transport over a boxed stream; give it back to [`close`] when its object is freed.
fn transport(s: UnixStream) -> fxs_transport {
    fxs_transport {
        send: Some(send),
        recv: Some(recv),
        flush: None,
        user_data: Box::into_raw(Box::new(s)).cast(),
    }
}

/// Shuts down and frees the stream of a transport made by [`transport`].
fn close(t: fxs_transport) {
    // SAFETY: the box made by `transport`, freed once, after the object using it.
    let s = unsafe { Box::from_raw(t.user_data as *mut UnixStream) };
    let _ = s.shutdown(std::net::Shutdown::Both);
}

fn message() -> String {
    // SAFETY: a NUL-terminated string owned by this thread's slot, never NULL.
    unsafe { CStr::from_ptr(fxs_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// A raw pointer that may cross to the party's thread (each party is used by one thread).
struct Send_<T>(T);
// SAFETY: the wrapped pointers are used by one thread at a time.
unsafe impl<T> Send for Send_<T> {}

/// Runs `body(role, party)` on two parties with a dealer, over UNIX socket pairs.
fn two_parties(body: fn(u32, *mut fxs_party)) {
    let (p0, p1) = UnixStream::pair().unwrap();
    let (d0, c0) = UnixStream::pair().unwrap();
    let (d1, c1) = UnixStream::pair().unwrap();
    let dealer = {
        let (t0, t1) = (Send_(transport(d0)), Send_(transport(d1)));
        thread::spawn(move || {
            let (t0, t1) = (t0, t1);
            // SAFETY: valid seed and transports for the call.
            let st = unsafe {
                fxs_dealer_serve([3u8; 32].as_ptr(), &t0.0, &t1.0, null_mut(), null_mut())
            };
            close(t0.0);
            close(t1.0);
            st
        })
    };
    let party = |role: u32, peer: UnixStream, dealer: UnixStream| {
        let (peer, dealer) = (Send_(transport(peer)), Send_(transport(dealer)));
        thread::spawn(move || {
            let (peer, dealer) = (peer, dealer);
            let mut cfg = std::mem::MaybeUninit::<fxs_party_config>::uninit();
            // SAFETY: writable config; then initialised.
            let mut cfg = unsafe {
                assert_eq!(fxs_party_config_init(cfg.as_mut_ptr()), fxs_status::Ok);
                cfg.assume_init()
            };
            cfg.role = role;
            cfg.offline = FXS_OFFLINE_DEALER;
            cfg.seed = [role as u8 + 1; 32];
            cfg.peer = peer.0;
            cfg.dealer = dealer.0;
            let mut p = null_mut();
            // SAFETY: valid config and out-pointer.
            assert_eq!(unsafe { fxs_party_new(&cfg, &mut p) }, fxs_status::Ok);
            body(role, p);
            // SAFETY: a live party, freed once.
            unsafe { fxs_party_free(p) };
            // Closing the connections ends the dealer and the peer.
            close(cfg.peer);
            close(cfg.dealer);
        })
    };
    let a = party(0, p0, c0);
    let b = party(1, p1, c1);
    a.join().expect("party 0");
    b.join().expect("party 1");
    assert_eq!(dealer.join().expect("dealer"), fxs_status::Ok);
}

/// Party 0's input of `values` as a `rows x cols` matrix (party 1 receives it).
fn input(
    role: u32,
    p: *mut fxs_party,
    values: &[f64],
    rows: usize,
    cols: usize,
) -> *mut fxs_shares {
    let mut out = null_mut();
    // SAFETY: live party; `values` readable for rows * cols doubles on party 0.
    let st = unsafe {
        if role == 0 {
            fxs_party_share_input(p, values.as_ptr(), rows, cols, &mut out)
        } else {
            fxs_party_receive_input(p, rows, cols, &mut out)
        }
    };
    assert_eq!(st, fxs_status::Ok, "{}", message());
    out
}

fn stats(p: *mut fxs_party) -> fxs_stats {
    let mut s = fxs_stats::default();
    // SAFETY: live party, writable stats.
    let st = unsafe { fxs_party_stats(p, &mut s, null_mut()) };
    assert_eq!(st, fxs_status::Ok);
    s
}

/// A product and a reveal after the errors: the party is usable.
fn still_usable(role: u32, p: *mut fxs_party) {
    let x = input(role, p, &[1.5, -2.0], 2, 1);
    let mut z = null_mut();
    let mut out = [0.0; 2];
    // SAFETY: live party and shares, writable buffers.
    unsafe {
        assert_eq!(
            fxs_party_mul(p, x, x, &mut z),
            fxs_status::Ok,
            "{}",
            message()
        );
        assert_eq!(fxs_party_reveal(p, z, out.as_mut_ptr(), 2), fxs_status::Ok);
        fxs_shares_free(z);
        fxs_shares_free(x);
    }
    assert_eq!(out, [2.25, 4.0]);
}

fn argument_errors(role: u32, p: *mut fxs_party) {
    let x = input(role, p, &[1.0, 2.0], 2, 1);
    let y = input(role, p, &[1.0, 2.0, 3.0], 3, 1);
    let image = input(role, p, &vec![0.5; 1 << 16], 1, 1 << 16);
    let none = input(role, p, &[], 0, 0);
    let before = stats(p);
    // Max pooling of a 256 x 256 image by 128 x 128 windows at stride 1: 129^2 windows of 2^14
    // values, over the maximum: refused before the window buffer is allocated.
    let pool = crate::nonlinear::fxs_pool2d {
        channels: 1,
        height: 256,
        width: 256,
        window: 128,
        stride: 1,
    };
    let mut r = null_mut();
    // SAFETY: live party and shares, readable pool, writable `r`.
    let st = unsafe { crate::nonlinear::fxs_party_max_pool(p, image, &pool, &mut r) };
    assert_eq!(st, fxs_status::Capacity, "{}", message());
    assert!(
        message().contains("max_pool: 1 x 272646144"),
        "{}",
        message()
    );
    // No images, no channels, but windows whose count overflows (found by the c_args fuzz
    // target: the core's `oh * ow` overflowed in debug builds).
    let pool = crate::nonlinear::fxs_pool2d {
        channels: 0,
        height: 1 << 40,
        width: 1 << 40,
        window: 1,
        stride: 1,
    };
    // SAFETY: as above.
    let st = unsafe { crate::nonlinear::fxs_party_max_pool(p, none, &pool, &mut r) };
    assert_eq!(st, fxs_status::Capacity, "{}", message());
    // SAFETY: shares from `input`, freed once.
    unsafe {
        fxs_shares_free(image);
        fxs_shares_free(none);
    }
    let mut r = null_mut();
    // SAFETY: live party and shares; `r` writable.
    unsafe {
        assert_eq!(
            fxs_party_mul(p, x, y, &mut r),
            fxs_status::DimensionMismatch
        );
        assert_eq!(
            fxs_party_truncate(p, x, 200, &mut r),
            fxs_status::InvalidArgument
        );
        let st = fxs_party_receive_input(p, usize::MAX, 2, &mut r);
        assert_eq!(st, fxs_status::Capacity);
        let m = message();
        assert!(
            m.starts_with("fxs_party_receive_input: receive_input: 18446744073709551615 x 2"),
            "{m}"
        );
        assert!(!m.contains("expected"), "{m}");
        assert_eq!(
            fxs_party_receive_input(p, 1 << 20, 1 << 20, &mut r),
            fxs_status::Capacity
        );
        assert!(r.is_null());
        fxs_shares_free(x);
        fxs_shares_free(y);
    }
    let after = stats(p);
    assert_eq!(
        (before.bytes_sent, before.bytes_received),
        (after.bytes_sent, after.bytes_received)
    );
    still_usable(role, p);
}

#[test]
fn argument_errors_return_100_to_199_and_leave_the_party_usable() {
    two_parties(argument_errors);
}

fn oversized(role: u32, p: *mut fxs_party) {
    let n = 1usize << 17;
    let empty = input(role, p, &[], 1, 0);
    let v: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
    let col = input(role, p, &v, n, 1);
    let (mut wide, mut row, mut r) = (null_mut(), null_mut(), null_mut());
    // SAFETY: live party and shares; out-pointers writable.
    unsafe {
        assert_eq!(
            fxs_shares_reshape(empty, 0, 1 << 40, &mut wide),
            fxs_status::Ok
        );
        assert_eq!(fxs_shares_transpose(col, &mut row), fxs_status::Ok);
        assert_eq!(
            fxs_party_matmul(p, empty, wide, &mut r),
            fxs_status::Capacity
        );
        assert!(
            message().contains("matmul: 1 x 1099511627776"),
            "{}",
            message()
        );
        assert_eq!(fxs_party_matmul(p, col, row, &mut r), fxs_status::Capacity);
        assert!(message().contains("131072 x 131072"), "{}", message());
        for s in [empty, wide, col, row] {
            fxs_shares_free(s);
        }
    }
    still_usable(role, p);
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn oversized_matmuls_are_refused_before_allocating() {
    if std::env::var_os(CHILD).is_some() {
        two_parties(oversized);
        println!("peak_rss_kb: {}", peak_rss_kb());
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hardening_tests::oversized_matmuls_are_refused_before_allocating",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let peak: u64 = stdout
        .lines()
        .find_map(|l| l.split("peak_rss_kb: ").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .expect("peak_rss_kb line");
    assert!(peak < 128 * 1024, "peak RSS {peak} kB");
}

#[test]
fn fractional_bits_near_uint32_max_are_argument_errors() {
    let (a, b) = UnixStream::pair().unwrap();
    let (peer, dealer) = (transport(a), transport(b));
    for (ring_bits, frac_bits) in [(32, 31), (32, 40), (64, u32::MAX), (128, u32::MAX - 1)] {
        let mut cfg = std::mem::MaybeUninit::<fxs_party_config>::uninit();
        // SAFETY: writable config, then initialised; out-pointer writable.
        let st = unsafe {
            assert_eq!(fxs_party_config_init(cfg.as_mut_ptr()), fxs_status::Ok);
            let mut cfg = cfg.assume_init();
            cfg.ring_bits = ring_bits;
            cfg.frac_bits = frac_bits;
            cfg.peer = peer;
            cfg.dealer = dealer;
            let mut p = null_mut();
            let st = fxs_party_new(&cfg, &mut p);
            assert!(p.is_null());
            st
        };
        assert_eq!(st, fxs_status::InvalidArgument, "{}", message());
    }
    for frac_bits in [u32::MAX, u32::MAX - 1, 63] {
        let cfg = fxs_data_owner_config {
            ring_bits: 64,
            frac_bits,
            seed: [1; 32],
            max_frame: 0,
            server0: peer,
            server1: dealer,
        };
        let mut owner = fxs_data_owner {
            _opaque: [0; crate::data_owner::FXS_DATA_OWNER_WORDS],
        };
        // SAFETY: writable storage, readable config.
        let st = unsafe { fxs_data_owner_init(&mut owner, &cfg) };
        assert_eq!(st, fxs_status::InvalidArgument, "{}", message());
    }
    // SAFETY: a NULL party is an argument error too.
    let st = unsafe { fxs_party_matmul(null_mut(), null(), null(), null_mut()) };
    assert_eq!(st, fxs_status::NullPointer);
    close(peer);
    close(dealer);
}

#[test]
fn networks_and_perceptrons_over_the_maximum_are_refused_before_allocating() {
    use crate::ml::{
        FXS_LAYER_DENSE, FXS_LAYER_MAX_POOL, fxs_image, fxs_layer, fxs_mlp_init, fxs_network,
        fxs_network_info,
    };
    let layer = |kind, inputs, outputs, side, kernel, stride| fxs_layer {
        kind,
        inputs,
        outputs,
        input: fxs_image {
            channels: 1,
            height: side,
            width: side,
        },
        filters: 0,
        kernel,
        stride,
        padding: 0,
    };
    let info = |input, l: &fxs_layer| {
        let net = fxs_network {
            input,
            layers: l,
            n_layers: 1,
        };
        let (mut width, mut weights) = (0usize, 0usize);
        // SAFETY: a readable network of one layer; writable outputs.
        unsafe { fxs_network_info(&net, &mut width, &mut weights) }
    };
    // 2^20 x 2^20 weights in one dense layer (8 TiB as doubles).
    let dense = layer(FXS_LAYER_DENSE, 1 << 20, 1 << 20, 0, 0, 0);
    assert_eq!(info(1 << 20, &dense), fxs_status::Capacity, "{}", message());
    assert!(
        message().contains("weights: 1099512676352 x 1"),
        "{}",
        message()
    );
    // Max pooling of a 2^14 x 2^14 image by 2^12 x 2^12 windows at stride 1: 2^50 values.
    let pool = layer(FXS_LAYER_MAX_POOL, 0, 0, 1 << 14, 1 << 12, 1);
    assert_eq!(info(1 << 28, &pool), fxs_status::Capacity, "{}", message());
    // A reasonable network passes.
    let small = layer(FXS_LAYER_DENSE, 4, 3, 0, 0, 0);
    assert_eq!(info(4, &small), fxs_status::Ok, "{}", message());
    // An MLP of 2^15 + 1 by 2^15 weights: refused before the weights are drawn.
    let sizes = [1usize << 15, 1 << 15];
    let mut out = [0.0; 4];
    // SAFETY: readable sizes, writable output of 4 doubles.
    let st = unsafe { fxs_mlp_init(sizes.as_ptr(), 2, 1, out.as_mut_ptr(), out.len()) };
    assert_eq!(st, fxs_status::Capacity, "{}", message());
}
