//! Fuzzes the C ABI's argument decoding: a party (over transports that accept every send and
//! end every receive) gets a sequence of calls with arguments the fuzzer chose — shapes, shifts,
//! reshapes, products, pooling windows, layer lists, perceptron widths, configurations.
//!
//! The oracle is the header's contract: no call panics (`FXS_STATUS_PANIC`) or is unclassified;
//! a status in 100-199 comes with no transport call at all and leaves the party usable (a local
//! addition still succeeds); a status in 300-499 means the call communicated, and from then on
//! every call on the party returns `FXS_STATUS_POISONED`. Sizes are either tiny or beyond the
//! maximum of elements per operation, so that nothing within the limit but large is allocated.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::Bytes;
use ffi::fxs_status as S;
use ffi::ml::{fxs_image, fxs_layer, fxs_mlp_init, fxs_network, fxs_network_info};
use ffi::nonlinear::{fxs_party_max_pool, fxs_party_truncate_exact, fxs_pool2d};
use ffi::party::*;
use ffi::{fxs_status, fxs_transport};
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_int, c_void};
use std::ptr::{null, null_mut};

/// Transport calls, and the bytes a receive replays (the dealer's seed frame).
struct Io {
    calls: usize,
    replay: Vec<u8>,
}

unsafe extern "C" fn send(user: *mut c_void, _buf: *const u8, _len: usize) -> c_int {
    // SAFETY: `user` is the `Io` of this run.
    unsafe { (*(user as *mut Io)).calls += 1 };
    0
}

unsafe extern "C" fn recv(user: *mut c_void, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: `user` is the `Io` of this run; `buf` is writable for `len` bytes.
    let io = unsafe { &mut *(user as *mut Io) };
    io.calls += 1;
    if io.replay.len() < len {
        return 1; // FXS_IO_CLOSED
    }
    let rest = io.replay.split_off(len);
    // SAFETY: as above.
    unsafe { std::ptr::copy_nonoverlapping(io.replay.as_ptr(), buf, len) };
    io.replay = rest;
    0
}

fn transport(io: &mut Io) -> fxs_transport {
    fxs_transport {
        send: Some(send),
        recv: Some(recv),
        flush: None,
        user_data: (io as *mut Io).cast(),
    }
}

fn seed_frame() -> Vec<u8> {
    let mut f = vec![0x01, 0x02, 1, 0, 0, 0, 32, 0, 0, 0];
    f.extend_from_slice(&[9; 32]);
    f
}

/// A size: tiny (0..16) or beyond the maximum of 2^28 elements (2^29 and up, or near
/// `usize::MAX`), so that products are tiny or refused.
fn size(b: &mut Bytes<'_>) -> usize {
    match b.u8() % 4 {
        0 => 1usize << (29 + b.u8() % 35),
        1 => usize::MAX - (b.u8() as usize),
        _ => (b.u8() % 16) as usize,
    }
}

fn class(s: fxs_status) -> u32 {
    s as u32 / 100
}

struct Run {
    party: *mut fxs_party,
    peer: Box<Io>,
    dealer: Box<Io>,
    shares: Vec<*mut fxs_shares>,
    /// A 2 x 1 share for the usability probe.
    probe: *mut fxs_shares,
    poisoned: bool,
}

impl Run {
    fn calls(&self) -> usize {
        self.peer.calls + self.dealer.calls
    }

    fn pick(&self, b: &mut Bytes<'_>) -> *mut fxs_shares {
        match b.u8() as usize % (self.shares.len() + 2) {
            i if i < self.shares.len() => self.shares[i],
            i if i == self.shares.len() => self.probe,
            _ => null_mut(),
        }
    }

    /// Checks a party call's status against the contract, keeps a new share.
    fn after(&mut self, st: fxs_status, before: usize, out: *mut fxs_shares) {
        assert!(!matches!(st, S::Panic | S::Internal), "{st:?}");
        if self.poisoned {
            assert!(
                matches!(st, S::Poisoned | S::NullPointer),
                "{st:?} after poisoning"
            );
            assert!(out.is_null());
            return;
        }
        match class(st) {
            0 => {
                if !out.is_null() {
                    self.shares.push(out);
                }
            }
            1 => {
                assert_eq!(self.calls(), before, "{st:?} after communicating");
                assert!(out.is_null());
                let mut r = null_mut();
                // SAFETY: live party and probe share.
                let ok = unsafe { fxs_party_add(self.party, self.probe, self.probe, &mut r) };
                assert_eq!(ok, S::Ok, "the party is not usable after {st:?}");
                // SAFETY: a share from the library.
                unsafe { fxs_shares_free(r) };
            }
            3 | 4 => {
                assert!(self.calls() > before, "{st:?} without communicating");
                self.poisoned = true;
            }
            2 => panic!("{st:?} on a party that was not poisoned"),
            _ => panic!("unexpected status {st:?}"),
        }
    }
}

fn config(b: &mut Bytes<'_>, peer: &mut Io, dealer: &mut Io) -> fxs_party_config {
    let mut c = std::mem::MaybeUninit::<fxs_party_config>::uninit();
    // SAFETY: writable; initialised by the call.
    let mut c = unsafe {
        assert_eq!(fxs_party_config_init(c.as_mut_ptr()), S::Ok);
        c.assume_init()
    };
    c.peer = transport(peer);
    c.dealer = transport(dealer);
    if b.u8().is_multiple_of(4) {
        // Any configuration: it must be refused (1xx) or connect.
        c.role = b.u32() % 4;
        c.ring_bits = [32, 64, 128, b.u32()][(b.u8() % 4) as usize];
        c.frac_bits = [0, 16, 30, 62, b.u32(), u32::MAX][(b.u8() % 6) as usize];
        c.truncation = b.u32() % 4;
        c.offline = b.u32() % 3;
        c.max_frame = size(b);
    }
    c
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let mut peer = Box::new(Io {
        calls: 0,
        replay: Vec::new(),
    });
    let mut dealer = Box::new(Io {
        calls: 0,
        replay: seed_frame(),
    });
    let cfg = config(&mut b, &mut peer, &mut dealer);
    let mut party = null_mut();
    // SAFETY: a readable config whose transports outlive the party; writable out-pointer.
    let st = unsafe { fxs_party_new(&cfg, &mut party) };
    assert!(!matches!(st, S::Panic | S::Internal), "{st:?}");
    if st != S::Ok {
        assert!(party.is_null());
        return;
    }
    let mut run = Run {
        party,
        peer,
        dealer,
        shares: Vec::new(),
        probe: null_mut(),
        poisoned: false,
    };
    // The probe: party 0 shares, party 1 would receive; sharing only sends.
    let mut probe = null_mut();
    let values = [0.0, 0.0];
    // SAFETY: live party, 2 readable doubles, writable out.
    let st = unsafe { fxs_party_share_input(party, values.as_ptr(), 2, 1, &mut probe) };
    assert_eq!(st, S::Ok);
    run.probe = probe;

    for _ in 0..(b.u8() % 12 + 1) {
        let before = run.calls();
        let mut out = null_mut();
        // SAFETY: every pointer is NULL, a live object of this run, or a readable buffer of the
        // length passed with it (the caller's side of each contract).
        let st = unsafe {
            match b.u8() % 10 {
                0 => {
                    let (rows, cols) = (size(&mut b), size(&mut b));
                    let n = rows.checked_mul(cols).filter(|&n| n <= 256);
                    let v = vec![0.25; n.unwrap_or(0)];
                    let p = if n.is_some() { v.as_ptr() } else { null() };
                    fxs_party_share_input(party, p, rows, cols, &mut out)
                }
                1 => fxs_party_receive_input(party, size(&mut b), size(&mut b), &mut out),
                2 => {
                    let x = run.pick(&mut b);
                    let st = fxs_shares_reshape(x, size(&mut b), size(&mut b), &mut out);
                    // A local operation on shares alone: no party, never communicates.
                    assert!(!matches!(st, S::Panic | S::Internal), "{st:?}");
                    if st == S::Ok {
                        run.shares.push(out);
                    }
                    continue;
                }
                3 => fxs_party_matmul(party, run.pick(&mut b), run.pick(&mut b), &mut out),
                4 => fxs_party_mul(party, run.pick(&mut b), run.pick(&mut b), &mut out),
                5 => fxs_party_truncate(party, run.pick(&mut b), b.u32() % 300, &mut out),
                6 => fxs_party_truncate_exact(party, run.pick(&mut b), b.u32() % 300, &mut out),
                7 => {
                    let pool = fxs_pool2d {
                        channels: size(&mut b),
                        height: size(&mut b),
                        width: size(&mut b),
                        window: size(&mut b),
                        stride: size(&mut b),
                    };
                    fxs_party_max_pool(party, run.pick(&mut b), &pool, &mut out)
                }
                8 => {
                    let layers: Vec<fxs_layer> = (0..(b.u8() % 4))
                        .map(|_| fxs_layer {
                            kind: b.u32() % 7,
                            inputs: size(&mut b),
                            outputs: size(&mut b),
                            input: fxs_image {
                                channels: size(&mut b),
                                height: size(&mut b),
                                width: size(&mut b),
                            },
                            filters: size(&mut b),
                            kernel: size(&mut b),
                            stride: size(&mut b),
                            padding: size(&mut b),
                        })
                        .collect();
                    let net = fxs_network {
                        input: size(&mut b),
                        layers: if layers.is_empty() {
                            null()
                        } else {
                            layers.as_ptr()
                        },
                        n_layers: layers.len(),
                    };
                    let (mut w, mut n) = (0usize, 0usize);
                    let st = fxs_network_info(&net, &mut w, &mut n);
                    assert!(!matches!(st, S::Panic | S::Internal), "{st:?}");
                    continue;
                }
                _ => {
                    let sizes: Vec<usize> = (0..(b.u8() % 4)).map(|_| size(&mut b)).collect();
                    let mut buf = [0.0; 64];
                    let st = fxs_mlp_init(sizes.as_ptr(), sizes.len(), 1, buf.as_mut_ptr(), 64);
                    assert!(!matches!(st, S::Panic | S::Internal), "{st:?}");
                    continue;
                }
            }
        };
        run.after(st, before, out);
    }
    for s in run.shares.drain(..) {
        // SAFETY: shares from the library, freed once.
        unsafe { fxs_shares_free(s) };
    }
    // SAFETY: as above; then the party, freed once, before its transports.
    unsafe {
        fxs_shares_free(run.probe);
        fxs_party_free(run.party);
    }
    drop(run);
});
