//! Fuzzes the dealer's request handler (`Dealer::serve`) over in-memory transports.
//!
//! Mode 0 (oracle): the fuzzer picks a short list of small requests (triples, square pairs,
//! matrix triples, truncation pairs, random OTs, in Z_2^32, Z_2^64 or Z_2^128). The two parties'
//! `DealerClient`s make them (their request frames are recorded), the dealer serves exactly
//! those streams, and the clients are run again on the dealer's answers: every correlation must
//! hold on the combined shares (`c = a b`, `s = a a`, `C = A B`, `r >> d`, `msb(r)`, `m_c`).
//!
//! Mode 1 (hostile parties): the fuzzer's bytes are the two parties' request streams. The
//! dealer must end with `Ok` (both streams consumed at a request boundary) or a protocol,
//! size or argument error — never a panic, and never an allocation or an answer beyond its
//! limits (answers are capped; matrix factors bounded by `with_max_matrix`).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{Bytes, Duplex, Sink};
use fixshare::correlated::Correlations;
use fixshare::transport::tag;
use fixshare::{Dealer, DealerClient, ErrorKind, Links, PartyId, Ring, Role, Seed, block_on};
use libfuzzer_sys::fuzz_target;

/// The most bytes the dealer may send to a party in one run here.
const ANSWER_CAP: usize = 1 << 16;
/// The dealer's bound on a matrix triple's factor, in elements.
const MAX_MATRIX: usize = 1 << 14;

#[derive(Clone, Copy, Debug)]
enum Op {
    Triples(usize),
    Squares(usize),
    Matrix(usize, usize, usize),
    Truncation(usize, u32),
    /// Random OTs with `Role` as the sender.
    Ot(usize, Role),
}

/// A dealer's seed frame as a party receives it (header, then 32 bytes).
fn seed_frame() -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&tag::DEALER_SEED.to_le_bytes());
    f.push(1); // the offline sub-channel
    f.push(0);
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&32u32.to_le_bytes());
    f.extend_from_slice(&[7; 32]);
    f
}

/// What a party gets for one request: its shares, flattened per component.
type Shares = Vec<Vec<u128>>;

async fn request<R: Ring + Into<u128>>(
    c: &mut DealerClient<Duplex<'_>>,
    links: &mut Links<Sink>,
    role: Role,
    op: Op,
) -> Result<Shares, fixshare::Error> {
    let w = |v: &[R]| v.iter().map(|&x| x.into()).collect::<Vec<u128>>();
    Ok(match op {
        Op::Triples(n) => {
            let t = c.triples::<R>(links, n).await?;
            vec![w(&t.a), w(&t.b), w(&t.c)]
        }
        Op::Squares(n) => {
            let t = c.square_pairs::<R>(links, n).await?;
            vec![w(&t.a), w(&t.s)]
        }
        Op::Matrix(m, k, n) => {
            let t = c.matrix_triple::<R>(links, m, k, n).await?;
            vec![w(t.a.as_slice()), w(t.b.as_slice()), w(t.c.as_slice())]
        }
        Op::Truncation(n, d) => {
            let t = c.truncation_pairs::<R>(links, n, d).await?;
            vec![w(&t.r), w(&t.r_shifted), w(&t.r_msb)]
        }
        Op::Ot(n, sender) if sender == role => {
            let t = c.random_ot_sender(links, n).await?;
            vec![t.messages.iter().flat_map(|m| *m).collect()]
        }
        Op::Ot(n, _) => {
            let t = c.random_ot_receiver(links, n).await?;
            vec![
                t.choices.iter().map(|&b| u128::from(b)).collect(),
                t.messages,
            ]
        }
    })
}

/// Runs `ops` as party `role` over `incoming` (the dealer's bytes for it); returns what it sent
/// and each request's shares (`None` where the request failed).
fn client(role: Role, incoming: &[u8], ops: &[(Op, u32)]) -> (Vec<u8>, Vec<Option<Shares>>) {
    let (transport, log) = Duplex::logged(incoming, usize::MAX);
    let mut c = match block_on(DealerClient::connect(role, transport)) {
        Ok(c) => c,
        Err(e) => panic!("connect: {e}"),
    };
    let mut links: Links<Sink> = Links::new(PartyId::of(role));
    let mut out = Vec::new();
    for &(op, bits) in ops {
        let r = block_on(async {
            match bits {
                32 => request::<u32>(&mut c, &mut links, role, op).await,
                64 => request::<u64>(&mut c, &mut links, role, op).await,
                _ => request::<u128>(&mut c, &mut links, role, op).await,
            }
        });
        if let (Err(e), Some(_)) = (&r, std::env::var_os("FUZZ_DEBUG")) {
            eprintln!("{role:?} {op:?}: {e}");
        }
        out.push(r.ok());
    }
    drop(c);
    let sent = log.borrow().clone();
    (sent, out)
}

fn reduce(v: u128, bits: u32) -> u128 {
    if bits == 128 {
        v
    } else {
        v & ((1u128 << bits) - 1)
    }
}

fn check(op: Op, bits: u32, s0: &Shares, s1: &Shares) {
    let add = |a: &[u128], b: &[u128]| -> Vec<u128> {
        a.iter()
            .zip(b)
            .map(|(x, y)| reduce(x.wrapping_add(*y), bits))
            .collect()
    };
    let mul = |a: u128, b: u128| reduce(a.wrapping_mul(b), bits);
    match op {
        Op::Triples(_) => {
            let (a, b, c) = (
                add(&s0[0], &s1[0]),
                add(&s0[1], &s1[1]),
                add(&s0[2], &s1[2]),
            );
            for i in 0..a.len() {
                assert_eq!(c[i], mul(a[i], b[i]), "triple {i}");
            }
        }
        Op::Squares(_) => {
            let (a, s) = (add(&s0[0], &s1[0]), add(&s0[1], &s1[1]));
            for i in 0..a.len() {
                assert_eq!(s[i], mul(a[i], a[i]), "square {i}");
            }
        }
        Op::Matrix(m, k, n) => {
            let (a, b, c) = (
                add(&s0[0], &s1[0]),
                add(&s0[1], &s1[1]),
                add(&s0[2], &s1[2]),
            );
            assert_eq!((a.len(), b.len(), c.len()), (m * k, k * n, m * n));
            for i in 0..m {
                for j in 0..n {
                    let want = (0..k).fold(0u128, |acc, l| {
                        reduce(acc.wrapping_add(mul(a[i * k + l], b[l * n + j])), bits)
                    });
                    assert_eq!(c[i * n + j], want, "C[{i}][{j}]");
                }
            }
        }
        Op::Truncation(_, d) => {
            let (r, rs, rm) = (
                add(&s0[0], &s1[0]),
                add(&s0[1], &s1[1]),
                add(&s0[2], &s1[2]),
            );
            for i in 0..r.len() {
                assert_eq!(rs[i], r[i] >> d, "r >> d");
                assert_eq!(rm[i], r[i] >> (bits - 1), "msb(r)");
            }
        }
        Op::Ot(_, sender) => {
            let (snd, rcv) = if sender == Role::P0 {
                (s0, s1)
            } else {
                (s1, s0)
            };
            let (pairs, choices, chosen) = (&snd[0], &rcv[0], &rcv[1]);
            for i in 0..choices.len() {
                assert_eq!(chosen[i], pairs[2 * i + choices[i] as usize], "OT {i}");
            }
        }
    }
}

fn oracle(b: &mut Bytes<'_>) {
    let count = b.u8() % 6 + 1;
    let ops: Vec<(Op, u32)> = (0..count)
        .map(|_| {
            let bits = [32, 64, 128][(b.u8() % 3) as usize];
            let n = (b.u8() % 40) as usize;
            let op = match b.u8() % 5 {
                0 => Op::Triples(n),
                1 => Op::Squares(n),
                2 => Op::Matrix(
                    (b.u8() % 6) as usize,
                    (b.u8() % 6) as usize,
                    (b.u8() % 6) as usize,
                ),
                3 => Op::Truncation(n, u32::from(b.u8() % 140)),
                _ => Op::Ot(
                    n,
                    if b.u8().is_multiple_of(2) {
                        Role::P0
                    } else {
                        Role::P1
                    },
                ),
            };
            // OTs are over 128-bit messages whatever the ring.
            (op, if matches!(op, Op::Ot(..)) { 128 } else { bits })
        })
        .collect();
    if std::env::var_os("FUZZ_DEBUG").is_some() {
        eprintln!("ops: {ops:?}");
    }
    let seed = seed_frame();
    // The requests as the parties send them (party 1 cannot get its answers yet).
    let (req0, _) = client(Role::P0, &seed, &ops);
    let (req1, _) = client(Role::P1, &seed, &ops);
    let (d0, log0) = Duplex::logged(&req0, ANSWER_CAP);
    let (d1, log1) = Duplex::logged(&req1, ANSWER_CAP);
    let dealer = Dealer::new(Seed::from_bytes([5; 32]), d0, d1).with_max_matrix(MAX_MATRIX);
    if let Err(e) = block_on(dealer.serve()) {
        panic!("the dealer refused valid requests: {e}");
    }
    let (to0, to1) = (log0.borrow().clone(), log1.borrow().clone());
    let (_, got0) = client(Role::P0, &to0, &ops);
    let (_, got1) = client(Role::P1, &to1, &ops);
    for (i, &(op, bits)) in ops.iter().enumerate() {
        match (&got0[i], &got1[i]) {
            (Some(s0), Some(s1)) => check(op, bits, s0, s1),
            (None, None) => {
                // Refused by both before any request: only a shift too large for the ring.
                assert!(
                    matches!(op, Op::Truncation(_, d) if d >= bits - 1),
                    "{op:?}"
                );
            }
            _ => panic!("one party got {op:?} in Z_2^{bits}, the other did not"),
        }
    }
}

fn hostile(b: &mut Bytes<'_>) {
    let split = (b.u16() as usize).min(b.rest().len());
    let (s1, s0) = b.rest().split_at(split);
    let dealer = Dealer::new(
        Seed::from_bytes([5; 32]),
        Duplex::new(s0, ANSWER_CAP),
        Duplex::new(s1, ANSWER_CAP),
    )
    .with_max_matrix(MAX_MATRIX);
    match block_on(dealer.serve()) {
        Ok(_) => {}
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::Closed
                    | ErrorKind::UnexpectedTag { .. }
                    | ErrorKind::UnexpectedChannel { .. }
                    | ErrorKind::BadSequence { .. }
                    | ErrorKind::UnexpectedLength { .. }
                    | ErrorKind::FrameTooLarge { .. }
                    | ErrorKind::Malformed(_)
                    | ErrorKind::TooLarge { .. }
                    | ErrorKind::InvalidArgument(_)
                    | ErrorKind::Unsupported(_)
            ),
            "{e}"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    match b.u8() % 2 {
        0 => oracle(&mut b),
        _ => hostile(&mut b),
    }
});
