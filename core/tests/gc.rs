//! Garbled circuits: Bristol circuits under two-party evaluation against integer arithmetic and
//! FIPS-197, the builder against the plaintext evaluator, the evaluator's view against the
//! garbler's inputs, and the Bristol reader against bad input.
//!
//! Two parties run concurrently over `fixshare::duplex()`, with a real `Dealer` on a third thread
//! supplying the random OTs for the evaluator's inputs.

mod common;

use common::{TestRng, seed};
use fixshare::gc::{self, Builder, Circuit, Evaluator, Garbler, Job, Reveal, bristol};
use fixshare::hash::{ChaChaHash, FixedKeyAes};
use fixshare::{
    Dealer, DealerClient, Domain, Error, ErrorKind, Link, Links, Role, block_on_thread, duplex,
};
use std::thread;

fn load(name: &str) -> Circuit {
    let path = format!("{}/circuits/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("circuit file");
    bristol::parse(&text).expect("circuit parses")
}

/// One evaluation in a session: the owners of the inputs, each party's input bits, the reveal mode.
#[derive(Clone)]
struct Run {
    owners: Vec<Role>,
    p0_bits: Vec<bool>,
    p1_bits: Vec<bool>,
    reveal: Reveal,
}

/// Runs every `Run` on `circuit` in one two-party session (dealer on a third thread) and returns
/// each party's outputs per run. `tag` varies the seeds.
fn two_party(circuit: &Circuit, runs: Vec<Run>, tag: u64) -> Vec<(Vec<bool>, Vec<bool>)> {
    let (p0_peer, p1_peer) = duplex();
    let (d0, p0_dealer) = duplex();
    let (d1, p1_dealer) = duplex();
    let dealer =
        thread::spawn(move || block_on_thread(Dealer::new(seed(7000 + tag), d0, d1).serve()));
    let spawn = |role: Role, peer, dealer| {
        let circuit = circuit.clone();
        let runs = runs.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let mut dealer = DealerClient::connect(role, dealer).await?;
                let mut ch = Links::pair(role, Link::new(peer));
                let hash = FixedKeyAes::new();
                let s = seed(100 * tag + role.index() as u64);
                let mut outs = Vec::new();
                for (i, r) in runs.iter().enumerate() {
                    let mut rng = s.prg(Domain::GARBLING, i as u64);
                    let inputs = if role == Role::P0 {
                        &r.p0_bits
                    } else {
                        &r.p1_bits
                    };
                    let job = Job {
                        circuit: &circuit,
                        owners: &r.owners,
                        inputs,
                        reveal: r.reveal,
                    };
                    outs.push(gc::execute(role, &mut ch, &mut dealer, &hash, &mut rng, job).await?);
                }
                Ok::<_, Error>(outs)
            })
        })
    };
    let a = spawn(Role::P0, p0_peer, p0_dealer);
    let b = spawn(Role::P1, p1_peer, p1_dealer);
    let ra = a.join().expect("garbler panicked").expect("garbler failed");
    let rb = b
        .join()
        .expect("evaluator panicked")
        .expect("evaluator failed");
    let _ = dealer.join().expect("dealer panicked");
    ra.into_iter().zip(rb).collect()
}

fn hex_be(s: &str) -> u128 {
    u128::from_str_radix(s, 16).unwrap()
}

/// FIPS-197 Appendix C.1 under 2PC: the garbler holds the key, the evaluator the plaintext.
/// The circuit takes each byte string as a big-endian integer assigned least significant bit
/// first (see circuits/README.md).
#[test]
fn aes_128_matches_fips_197_c1() {
    let c = load("aes_128");
    assert_eq!(c.and_count(), 6400);
    let key = hex_be("000102030405060708090a0b0c0d0e0f");
    let pt = hex_be("00112233445566778899aabbccddeeff");
    let ct = hex_be("69c4e0d86a7b0430d8cdb78070b4c55a");
    // The plaintext reference first.
    let mut all = gc::to_bits(key, 128);
    all.extend(gc::to_bits(pt, 128));
    assert_eq!(gc::from_bits(&c.eval(&all).unwrap()), ct);
    let runs = vec![
        Run {
            owners: vec![Role::P0, Role::P1],
            p0_bits: gc::to_bits(key, 128),
            p1_bits: gc::to_bits(pt, 128),
            reveal: Reveal::Both,
        },
        // The other way round, and as XOR shares.
        Run {
            owners: vec![Role::P1, Role::P0],
            p0_bits: gc::to_bits(pt, 128),
            p1_bits: gc::to_bits(key, 128),
            reveal: Reveal::Shared,
        },
    ];
    let out = two_party(&c, runs, 1);
    assert_eq!(gc::from_bits(&out[0].0), ct);
    assert_eq!(gc::from_bits(&out[0].1), ct);
    let shared: Vec<bool> = out[1].0.iter().zip(&out[1].1).map(|(a, b)| a ^ b).collect();
    assert_eq!(gc::from_bits(&shared), ct);
    // Shares alone are not the ciphertext.
    assert_ne!(gc::from_bits(&out[1].1), ct);
}

fn arithmetic_case(name: &str, tag: u64, reference: impl Fn(u64, u64) -> u64, unary: bool) {
    let c = load(name);
    let mut rng = TestRng(0x1234 + tag);
    let mut cases: Vec<(u64, u64)> = vec![
        (0, 5),
        (1, u64::MAX),
        (u64::MAX, 1),
        (1 << 63, u64::MAX),
        (i64::MIN as u64, 3),
    ];
    for _ in 0..12 {
        let (a, b) = (rng.next_u64(), rng.next_u64());
        cases.push((a, b));
        cases.push((a >> (b % 64), b >> (a % 64) | 1));
    }
    let reveals = [
        Reveal::Both,
        Reveal::Garbler,
        Reveal::Evaluator,
        Reveal::Shared,
    ];
    let runs: Vec<Run> = cases
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let reveal = reveals[i % 4];
            if unary {
                // The single input from alternating parties.
                let owner = if i % 2 == 0 { Role::P0 } else { Role::P1 };
                let bits = gc::to_bits(a.into(), 64);
                let (p0, p1) = if owner == Role::P0 {
                    (bits, vec![])
                } else {
                    (vec![], bits)
                };
                Run {
                    owners: vec![owner],
                    p0_bits: p0,
                    p1_bits: p1,
                    reveal,
                }
            } else {
                Run {
                    owners: vec![Role::P0, Role::P1],
                    p0_bits: gc::to_bits(a.into(), 64),
                    p1_bits: gc::to_bits(b.into(), 64),
                    reveal,
                }
            }
        })
        .collect();
    let out = two_party(&c, runs.clone(), tag);
    for (i, ((o0, o1), &(a, b))) in out.iter().zip(&cases).enumerate() {
        let want = u128::from(reference(a, b));
        let got = match runs[i].reveal {
            Reveal::Both => {
                assert_eq!(o0, o1);
                gc::from_bits(o0)
            }
            Reveal::Garbler => {
                assert!(o1.is_empty());
                gc::from_bits(o0)
            }
            Reveal::Evaluator => {
                assert!(o0.is_empty());
                gc::from_bits(o1)
            }
            Reveal::Shared => gc::from_bits(o0) ^ gc::from_bits(o1),
        };
        assert_eq!(got, want, "{name}({a:#x}, {b:#x}) run {i}");
    }
}

#[test]
fn adder64_matches_integers() {
    arithmetic_case("adder64", 2, u64::wrapping_add, false);
}

#[test]
fn sub64_matches_integers() {
    arithmetic_case("sub64", 3, u64::wrapping_sub, false);
}

#[test]
fn mult64_matches_integers() {
    arithmetic_case("mult64", 4, u64::wrapping_mul, false);
}

#[test]
fn divide64_matches_signed_division() {
    // Signed, truncated toward zero; the cases never divide by zero (b is odd or 1 above, or a
    // fixed nonzero value), and i64::MIN / -1 wraps.
    arithmetic_case(
        "divide64",
        5,
        |a, b| (a as i64).wrapping_div(b as i64) as u64,
        false,
    );
}

#[test]
fn zero_equal_matches() {
    arithmetic_case("zero_equal", 6, |a, _| u64::from(a == 0), true);
}

/// The builder's gadgets against integer arithmetic, in the clear and once under 2PC.
#[test]
fn builder_gadgets_match_integers() {
    let n = 16;
    let mut b = Builder::new(&[n, n, 1]);
    let (x, y, s) = (
        b.input(0).unwrap(),
        b.input(1).unwrap(),
        b.input(2).unwrap(),
    );
    let outs = [
        b.add(&x, &y),
        b.sub(&x, &y),
        vec![b.lt_unsigned(&x, &y)],
        vec![b.lt_signed(&x, &y)],
        vec![b.eq(&x, &y)],
        vec![b.msb(&x)],
        b.mux(s[0], &x, &y),
        b.shl(&x, 3),
        b.shr(&x, 3),
        b.sar(&x, 3),
        b.neg(&x),
    ];
    for o in &outs {
        b.output(o);
    }
    let c = b.finish().unwrap();
    let reference = |x: u16, y: u16, s: bool| -> Vec<u128> {
        vec![
            x.wrapping_add(y).into(),
            x.wrapping_sub(y).into(),
            (x < y).into(),
            ((x as i16) < (y as i16)).into(),
            (x == y).into(),
            (x >> 15).into(),
            (if s { y } else { x }).into(),
            (x << 3).into(),
            (x >> 3).into(),
            (((x as i16) >> 3) as u16).into(),
            x.wrapping_neg().into(),
        ]
    };
    let split = |bits: &[bool]| -> Vec<u128> {
        let mut at = 0;
        c.output_widths()
            .iter()
            .map(|&w| {
                let v = gc::from_bits(&bits[at..at + w]);
                at += w;
                v
            })
            .collect()
    };
    let mut rng = TestRng(99);
    let mut cases = vec![(0u16, 0u16, false), (0x8000, 0x7fff, true), (5, 5, true)];
    for _ in 0..300 {
        let r = rng.next_u64();
        cases.push((r as u16, (r >> 16) as u16, r >> 63 == 1));
    }
    for &(x, y, s) in &cases {
        let mut bits = gc::to_bits(x.into(), n);
        bits.extend(gc::to_bits(y.into(), n));
        bits.push(s);
        assert_eq!(
            split(&c.eval(&bits).unwrap()),
            reference(x, y, s),
            "{x} {y} {s}"
        );
    }
    let runs: Vec<Run> = cases[..6]
        .iter()
        .map(|&(x, y, s)| {
            let mut p1 = gc::to_bits(y.into(), n);
            p1.push(s);
            Run {
                owners: vec![Role::P0, Role::P1, Role::P1],
                p0_bits: gc::to_bits(x.into(), n),
                p1_bits: p1,
                reveal: Reveal::Both,
            }
        })
        .collect();
    for ((o0, _), &(x, y, s)) in two_party(&c, runs, 7).iter().zip(&cases) {
        assert_eq!(split(o0), reference(x, y, s));
    }
}

/// The evaluator's view does not depend on the garbler's inputs: over many garblings, each
/// permute-masked bit the evaluator sees (the low bits of the labels of the garbler's inputs and of
/// the outputs, and of the first table blocks) is uniform, whether the garbler's input is all zeros
/// or all ones. Uses the pure garbling steps with the ChaCha hash too.
#[test]
fn evaluator_view_is_independent_of_garbler_inputs() {
    let c = load("adder64");
    let trials = 600u32;
    let evaluator_input = 0x0123_4567_89ab_cdefu128;
    let mut freq = Vec::new();
    for garbler_input in [0u128, u64::MAX.into()] {
        let mut ones = vec![0u32; 64 + 64 + 8];
        for t in 0..trials {
            let mut rng = seed(t.into()).prg(Domain::GARBLING, u64::from(t));
            let mut g = Garbler::new(&c, ChaChaHash::new(), &mut rng);
            let mut table = vec![0u128; 2 * c.and_count()];
            assert_eq!(g.garble(&mut table), table.len());
            let mut e = Evaluator::new(&c, ChaChaHash::new());
            let gbits = gc::to_bits(garbler_input, 64);
            let ebits = gc::to_bits(evaluator_input, 64);
            for (w, &bit) in gbits.iter().chain(&ebits).enumerate() {
                let label = g.input_label(w, bit).unwrap();
                assert!(e.set_input_label(w, label));
                if w < 64 {
                    ones[w] += (label & 1) as u32;
                }
            }
            assert_eq!(e.evaluate(&table), table.len());
            let out: Vec<bool> = (0..64).map(|k| e.output_masked_bit(k).unwrap()).collect();
            for (k, &m) in out.iter().enumerate() {
                ones[64 + k] += u32::from(m);
                // Decoding with the permute bits gives the sum.
                assert_eq!(m ^ g.output_permute_bit(k).unwrap(), {
                    let s = (garbler_input as u64).wrapping_add(evaluator_input as u64);
                    (s >> k) & 1 == 1
                });
            }
            for k in 0..8 {
                ones[128 + k] += (table[k] & 1) as u32;
            }
        }
        // Binomial(600, 1/2): mean 300, sd ~12.2; 5 sd either way.
        for (i, &o) in ones.iter().enumerate() {
            assert!(
                (240..=360).contains(&o),
                "bit {i} seen {o} of {trials} times with garbler input {garbler_input:#x}"
            );
        }
        freq.push(ones);
    }
    // And the two distributions agree bit by bit (difference of two binomials: sd ~17.3).
    for (i, (a, b)) in freq[0].iter().zip(&freq[1]).enumerate() {
        assert!(a.abs_diff(*b) <= 90, "bit {i}: {a} vs {b}");
    }
}

fn bad_line(text: &str) -> (usize, &'static str) {
    match bristol::parse(text).map_err(|e| e.kind().clone()) {
        Err(ErrorKind::BadCircuit { line, reason }) => (line, reason),
        Err(other) => panic!("expected a circuit error, got {other:?}"),
        Ok(_) => panic!("bad circuit accepted:\n{text}"),
    }
}

#[test]
fn reader_rejects_bad_input_with_line_numbers() {
    let ok = "2 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 4 XOR\n";
    assert!(bristol::parse(ok).is_ok());
    let cases: &[(&str, usize)] = &[
        // wrong counts
        ("3 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 4 XOR\n", 7),
        ("1 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 4 XOR\n", 6),
        ("2 5\n3 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 4 XOR\n", 2),
        ("2 5\n2 1 1\n2 1\n\n2 1 0 1 2 AND\n2 1 2 0 4 XOR\n", 3),
        ("2 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n3 1 2 0 4 XOR\n", 6),
        ("2 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 XOR\n", 6),
        ("2 5\n2 1 1\n1 1\n\n2 1 0 1 2 INV\n2 1 2 0 4 XOR\n", 5),
        // wire indices out of range
        ("2 5\n2 1 1\n1 1\n\n2 1 0 7 2 AND\n2 1 2 0 4 XOR\n", 5),
        ("2 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 5 XOR\n", 6),
        (
            "2 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 99999999999 XOR\n",
            6,
        ),
        // a wire read before it is written, and one written twice
        ("2 5\n2 1 1\n1 1\n\n2 1 0 3 2 AND\n2 1 2 0 4 XOR\n", 5),
        ("2 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n2 1 2 0 2 XOR\n", 6),
        ("2 5\n2 1 1\n1 1\n\n2 1 0 1 0 AND\n2 1 2 0 4 XOR\n", 5),
        // an output never written
        ("1 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n", 5),
        // unknown gates, bad numbers
        ("2 5\n2 1 1\n1 1\n\n2 1 0 1 2 NAND\n2 1 2 0 4 XOR\n", 5),
        ("2 5\n2 1 1\n1 1\n\n2 1 0 -1 2 AND\n2 1 2 0 4 XOR\n", 5),
        ("2 5\n2 1 1\n1 1\n\n1 1 2 2 EQ\n2 1 2 0 4 XOR\n", 5),
        ("2 x\n", 1),
        ("2\n", 1),
        ("", 1),
        ("0 1\n", 2),
        // absurd header sizes: no allocation by the claim, an error on line 1 or 2
        ("999999999999 5\n2 1 1\n1 1\n", 1),
        ("4000000000 4000000000\n2 1 1\n1 1\n", 1),
        ("1 100000\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n", 1),
        ("1 5\n2 4000000000 4000000000\n1 1\n", 2),
        ("1 5\n4000000000 1 1\n1 1\n", 2),
        ("1 5\n2 1 1\n1 99999999\n", 3),
    ];
    for &(text, line) in cases {
        let (got, reason) = bad_line(text);
        assert_eq!(got, line, "{reason}\n{text}");
        // The message names the line.
        let e = bristol::parse(text).unwrap_err();
        assert!(e.to_string().contains(&format!("line {line}")), "{e}");
    }
    assert!(bristol::parse_bytes(b"1 5\n2 1 1\n\xff\n").is_err());
}

/// Truncations and byte flips of a real circuit never panic, and every error names a line.
#[test]
fn reader_survives_mutations() {
    let text = std::fs::read(format!(
        "{}/circuits/zero_equal.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut rng = TestRng(5);
    for cut in (0..text.len()).step_by(7) {
        if let Err(e) = bristol::parse_bytes(&text[..cut]) {
            assert!(
                matches!(e.kind(), ErrorKind::BadCircuit { line, .. } if *line >= 1 && *line <= lines + 1)
            );
        }
    }
    let alphabet = b"0123456789 \nXORANDINVEQWM-";
    for _ in 0..3000 {
        let mut t = text.clone();
        for _ in 0..1 + rng.next_u64() % 3 {
            let i = (rng.next_u64() % t.len() as u64) as usize;
            t[i] = alphabet[(rng.next_u64() % alphabet.len() as u64) as usize];
        }
        if let Err(e) = bristol::parse_bytes(&t) {
            assert!(
                matches!(e.kind(), ErrorKind::BadCircuit { line, .. } if *line >= 1 && *line <= lines + 1)
            );
        }
    }
}

/// Mismatched inputs fail before anything is sent.
#[test]
fn wrong_input_lengths_are_rejected() {
    let c = load("adder64");
    let (a, _b) = duplex();
    let (d0, p0_dealer) = duplex();
    let (d1, _p1_dealer) = duplex();
    // Detached: it ends when the transports are dropped.
    thread::spawn(move || block_on_thread(Dealer::new(seed(5), d0, d1).serve()));
    let d = p0_dealer;
    let r = block_on_thread(async move {
        let mut ch = Links::pair(Role::P0, Link::new(a));
        let mut dealer = DealerClient::connect(Role::P0, d).await?;
        let mut rng = seed(1).prg(Domain::GARBLING, 0);
        let job = Job {
            circuit: &c,
            owners: &[Role::P0, Role::P1],
            inputs: &[true; 63],
            reveal: Reveal::Both,
        };
        gc::execute(
            Role::P0,
            &mut ch,
            &mut dealer,
            &FixedKeyAes::new(),
            &mut rng,
            job,
        )
        .await
    });
    assert!(matches!(
        r.unwrap_err().kind(),
        ErrorKind::DimensionMismatch { .. }
    ));
}

/// Replicated copies evaluate like the circuit on each copy's inputs.
#[test]
fn replicated_circuit_matches_each_copy() {
    let c = load("adder64");
    let r = c.replicate(3).unwrap();
    assert_eq!(r.and_count(), 3 * c.and_count());
    let vals = [(1u128, 2u128), (u64::MAX as u128, 5), (1 << 40, 1 << 41)];
    let mut bits = Vec::new();
    for (a, b) in vals {
        bits.extend(gc::to_bits(a, 64));
        bits.extend(gc::to_bits(b, 64));
    }
    let out = r.eval(&bits).unwrap();
    for (k, (a, b)) in vals.iter().enumerate() {
        let got = gc::from_bits(&out[64 * k..64 * (k + 1)]);
        assert_eq!(got, (a + b) & u64::MAX as u128);
    }
    assert!(c.replicate(usize::MAX).is_err());
}
