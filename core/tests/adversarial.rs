//! Bad input: each failure has its own error variant, arrives as an error (never a panic or a
//! hang), and poisons the session.

mod common;

use common::{TestParty, input_from_p0, run_pair, seed};
use fixshare::transport::{HEADER_LEN, tag};
use fixshare::{
    Config, Correlations, Dealer, DealerClient, ErrorKind, Links, MemoryTransport, Party, PartyId,
    Role, Transport, block_on_thread, duplex,
};
use std::thread;

/// An honest party 0 (with a real dealer) against a scripted party 1 that writes raw bytes.
/// The adversary also holds party 1's dealer connection so the dealer stays in step.
fn against<H, A>(config: Config, honest: H, adversary: A) -> ErrorKind
where
    H: AsyncFnOnce(&mut TestParty) -> Result<(), fixshare::Error> + Send + 'static,
    A: AsyncFnOnce(MemoryTransport, DealerClient<MemoryTransport>) + Send + 'static,
{
    let (p0, p1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(5), d0, d1).serve()));
    let adv = thread::spawn(move || {
        block_on_thread(async move {
            let src = DealerClient::connect(Role::P1, c1).await.unwrap();
            adversary(p1, src).await
        })
    });
    let result = thread::spawn(move || {
        block_on_thread(async move {
            let src = DealerClient::connect(Role::P0, c0).await?;
            let mut p = Party::new(Role::P0, p0, src, seed(6), config);
            let err = honest(&mut p)
                .await
                .expect_err("the honest party must see an error");
            // The session is poisoned: any later call fails without touching the transport.
            let again = p
                .reveal(&fixshare::Shares::vector(vec![0u64]))
                .await
                .unwrap_err();
            assert_eq!(*again.kind(), ErrorKind::Poisoned);
            assert!(p.failure().is_some());
            Ok::<_, fixshare::Error>(err)
        })
    })
    .join()
    .expect("honest party panicked")
    .unwrap();
    adv.join().expect("adversary panicked");
    let _ = dealer.join().expect("dealer panicked");
    println!("{result}");
    result.kind().clone()
}

fn header(tag: u16, seq: u16, len: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..2].copy_from_slice(&tag.to_le_bytes());
    // h[2]: the online sub-channel (0); h[3]: reserved, zero.
    h[4..6].copy_from_slice(&seq.to_le_bytes());
    h[6..].copy_from_slice(&len.to_le_bytes());
    h
}

/// The honest party multiplies two 4-vectors it owns (after sharing them: frames 0 and 1).
async fn honest_mul(p: &mut TestParty) -> Result<(), fixshare::Error> {
    let x = p.share_input(&[1.0, 2.0, 3.0, 4.0], 4, 1).await?;
    let y = p.share_input(&[1.0, 2.0, 3.0, 4.0], 4, 1).await?;
    p.mul(&x, &y).await.map(drop)
}

/// The adversary's mul step from the point where it answers: keeps the dealer in step.
async fn adversary_sends(
    mut t: MemoryTransport,
    mut src: DealerClient<MemoryTransport>,
    bytes: Vec<u8>,
    close: bool,
) {
    let _ = src
        .triples::<u64>(&mut Links::<MemoryTransport>::new(PartyId(1)), 4)
        .await;
    t.send(&bytes).await.unwrap();
    if close {
        t.close();
    } else {
        // Keep the connection open until the honest party gives up on it.
        let mut sink = [0u8; 1];
        while t.recv(&mut sink).await.is_ok() {}
    }
}

#[test]
fn garbled_frame_tag() {
    let kind = against(Config::default(), honest_mul, async |t, src| {
        adversary_sends(t, src, header(0x7777, 0, 64).to_vec(), false).await
    });
    assert_eq!(
        kind,
        ErrorKind::UnexpectedTag {
            expected: tag::BEAVER,
            got: 0x7777
        }
    );
}

#[test]
fn garbled_frame_sequence() {
    let kind = against(Config::default(), honest_mul, async |t, src| {
        adversary_sends(t, src, header(tag::BEAVER, 9, 64).to_vec(), false).await
    });
    assert_eq!(
        kind,
        ErrorKind::BadSequence {
            expected: 0,
            got: 9
        }
    );
}

#[test]
fn truncated_frame() {
    // A frame announcing 3 of the 8 elements the step requires.
    let kind = against(Config::default(), honest_mul, async |t, src| {
        let mut bytes = header(tag::BEAVER, 0, 24).to_vec();
        bytes.extend([0u8; 24]);
        adversary_sends(t, src, bytes, false).await
    });
    assert_eq!(
        kind,
        ErrorKind::UnexpectedLength {
            expected: 64,
            got: 24
        }
    );
}

#[test]
fn frame_longer_than_limit() {
    let config = Config {
        max_frame: 4096,
        ..Config::default()
    };
    let kind = against(config, honest_mul, async |t, src| {
        adversary_sends(t, src, header(tag::BEAVER, 0, 1 << 31).to_vec(), false).await
    });
    assert_eq!(
        kind,
        ErrorKind::FrameTooLarge {
            len: 1 << 31,
            max: 4096
        }
    );
}

#[test]
fn peer_closes_mid_protocol() {
    // A correct header and half the payload, then the peer is gone.
    let kind = against(Config::default(), honest_mul, async |t, src| {
        let mut bytes = header(tag::BEAVER, 0, 64).to_vec();
        bytes.extend([0u8; 32]);
        adversary_sends(t, src, bytes, true).await
    });
    assert_eq!(kind, ErrorKind::Closed);
}

#[test]
fn peer_closes_before_answering() {
    let kind = against(Config::default(), honest_mul, async |t, _src| drop(t));
    assert_eq!(kind, ErrorKind::Closed);
}

/// An argument error found before anything is sent returns its error and leaves the session
/// usable: the parties are still in step, and the next operations give the plaintext results.
#[test]
fn dimension_mismatch_leaves_the_session_usable() {
    let (r0, r1) = run_pair(Config::default(), 31, |mut p| async move {
        let x = input_from_p0(&mut p, &[1.5; 6], 2, 3).await?;
        let y = input_from_p0(&mut p, &[2.0; 4], 4, 1).await?;
        let e1 = p.mul(&x, &y).await.unwrap_err();
        let e2 = p.truncate(&x, 200).await.unwrap_err();
        assert!(p.failure().is_none());
        let xy = p.matmul(&x, &x.transpose()).await?;
        Ok((e1, e2, p.reveal(&xy).await?))
    });
    for r in [r0, r1] {
        let (e, shift, after) = r.unwrap();
        assert!(
            matches!(e.kind(), ErrorKind::DimensionMismatch { .. }),
            "{e}"
        );
        assert_eq!(e.op(), "mul");
        assert!(
            matches!(shift.kind(), ErrorKind::InvalidArgument(_)),
            "{shift}"
        );
        assert_eq!(after, [6.75, 6.75, 6.75, 6.75]);
    }
    let (r0, _) = run_pair(Config::default(), 32, |mut p| async move {
        let x = input_from_p0(&mut p, &[1.0; 6], 2, 3).await?;
        Ok(p.matmul(&x, &x).await.unwrap_err())
    });
    assert_eq!(
        *r0.unwrap().kind(),
        ErrorKind::DimensionMismatch {
            expected: 3,
            got: 2
        }
    );
}

#[test]
fn value_outside_fixed_point_range_sends_nothing() {
    let (a, mut b) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(8), d0, d1).serve()));
    let c1_holder =
        thread::spawn(move || block_on_thread(DealerClient::connect(Role::P1, c1)).map(drop));
    let (err, mut a) = block_on_thread(async {
        let src = DealerClient::connect(Role::P0, c0).await?;
        let mut p: TestParty = Party::new(Role::P0, a, src, seed(9), Config::default());
        let e = p.share_input(&[1.0, 1e300, 2.0], 3, 1).await.unwrap_err();
        let (links, _) = p.into_context().into_parts();
        let peer = links.into_links().next().map(|(_, l)| l.into_inner());
        Ok::<_, fixshare::Error>((e, peer.expect("the link to the peer")))
    })
    .unwrap();
    assert_eq!(*err.kind(), ErrorKind::OutOfRange { value: 1e300 });
    assert_eq!(err.op(), "share_input");
    // Nothing reached the peer: after party 0 closes, the peer reads end-of-stream at once.
    a.close();
    let mut byte = [0u8; 1];
    assert_eq!(
        block_on_thread(b.recv(&mut byte)),
        Err(fixshare::TransportError::Closed)
    );
    c1_holder.join().unwrap().unwrap();
    dealer.join().unwrap().unwrap();
}

#[test]
fn non_finite_and_huge_values_are_out_of_range() {
    let fp = fixshare::FixedPoint::default();
    for v in [
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
        2f64.powi(47),
        -2f64.powi(47) - 1.0,
    ] {
        assert!(
            matches!(
                fp.encode::<u64>(v).unwrap_err().kind(),
                ErrorKind::OutOfRange { .. }
            ),
            "{v}"
        );
    }
    assert!(fp.encode::<u64>(2f64.powi(47) - 1.0).is_ok());
}
