//! Fuzzes the frame decoder: a `Channel` receiving arbitrary bytes.
//!
//! Mode 0 (round trip): a payload the fuzzer chose is sent as a frame and as ring elements
//! through one link and received through another; what arrives must be what was sent, and a
//! receiver expecting another tag, sub-channel or length must refuse it.
//!
//! Mode 1 (hostile peer): the fuzzer's bytes are the peer's stream; a short script of receive
//! steps runs over it. Every frame the decoder accepts must be canonical (its header is exactly
//! the tag, sub-channel, zero byte, sequence number and length the step expected), the values
//! must be the little-endian bytes of the stream, and every refusal must be one of the framing
//! errors, never a panic or an allocation the peer asked for.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{Bytes, Replay, Sink};
use fixshare::transport::HEADER_LEN;
use fixshare::{ErrorKind, Link, Sub, block_on};
use libfuzzer_sys::fuzz_target;

const SUBS: [Sub; 3] = [Sub::Online, Sub::Offline, Sub::Circuits];

fn framing_error(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Closed
            | ErrorKind::UnexpectedTag { .. }
            | ErrorKind::UnexpectedChannel { .. }
            | ErrorKind::BadSequence { .. }
            | ErrorKind::UnexpectedLength { .. }
            | ErrorKind::FrameTooLarge { .. }
            | ErrorKind::Malformed(_)
    )
}

fn round_trip(b: &mut Bytes<'_>) {
    let sub = SUBS[(b.u8() % 3) as usize];
    let tag = b.u16();
    let max_frame = 64 + (b.u16() as usize);
    let payload = b.rest().to_vec();
    let mut tx = Link::with_max_frame(Sink::new(1 << 24), max_frame);
    let sent = block_on(async {
        let mut ch = tx.channel(sub);
        ch.send_frame("fuzz", tag, &payload).await?;
        let ring: Vec<u64> = payload
            .iter()
            .map(|&x| u64::from(x) * 0x0101_0101)
            .collect();
        ch.send_ring("fuzz", tag, &ring).await?;
        ch.flush("fuzz").await?;
        Ok(ring)
    });
    let ring = match sent {
        Ok(r) => r,
        // A payload over the frame maximum is refused before anything is sent.
        Err(e) => {
            assert!(payload.len() > max_frame, "{e}");
            assert!(matches!(e.kind(), ErrorKind::FrameTooLarge { .. }), "{e}");
            assert_eq!(tx.stats().bytes_sent, 0);
            return;
        }
    };
    let wire = tx.into_inner().bytes;
    // The same link settings receive exactly what was sent.
    let mut rx = Link::with_max_frame(Replay::new(&wire), max_frame);
    let got = block_on(async {
        let mut ch = rx.channel(sub);
        let mut p = vec![0u8; payload.len()];
        ch.recv_frame("fuzz", tag, &mut p).await?;
        let mut r = vec![0u64; ring.len()];
        ch.recv_ring("fuzz", tag, &mut r).await?;
        Ok((p, r))
    })
    .expect("a frame the link sent is received");
    assert_eq!(got, (payload.clone(), ring));
    assert_eq!(rx.get_mut().pos, wire.len());
    // Another tag, sub-channel or length is refused (and nothing more is read than a header).
    let other_sub = SUBS[(sub as usize + 1) % 3];
    for (s, t, len) in [
        (sub, tag.wrapping_add(1), payload.len()),
        (other_sub, tag, payload.len()),
        (sub, tag, payload.len() + 1),
    ] {
        let mut rx = Link::with_max_frame(Replay::new(&wire), max_frame);
        let mut p = vec![0u8; len];
        let e = block_on(rx.channel(s).recv_frame("fuzz", t, &mut p)).unwrap_err();
        assert!(framing_error(e.kind()), "{e}");
        assert!(rx.get_mut().pos <= HEADER_LEN);
    }
}

fn hostile(b: &mut Bytes<'_>) {
    let sub = SUBS[(b.u8() % 3) as usize];
    let tag = b.u16();
    let max_frame = 64 + (b.u16() as usize % 4096);
    let steps: Vec<(u8, usize)> = (0..(b.u8() % 8 + 1))
        .map(|_| (b.u8(), (b.u16() as usize) % 1024))
        .collect();
    let stream = b.rest();
    let mut rx = Link::with_max_frame(Replay::new(stream), max_frame);
    let mut seq: u16 = 0;
    for (kind, n) in steps {
        let start = rx.get_mut().pos;
        let r = block_on(async {
            let mut ch = rx.channel(sub);
            match kind % 3 {
                0 => {
                    let mut p = vec![0u8; n.min(max_frame)];
                    ch.recv_frame("fuzz", tag, &mut p).await?;
                    Ok((p.len(), 1, p))
                }
                1 => {
                    let mut v = vec![0u64; n];
                    ch.recv_ring("fuzz", tag, &mut v).await?;
                    let frames = n.div_ceil(max_frame / 8).max(1);
                    let bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    Ok((n * 8, frames, bytes))
                }
                _ => {
                    let mut v = vec![0u128; n];
                    ch.recv_ring("fuzz", tag, &mut v).await?;
                    let frames = n.div_ceil(max_frame / 16).max(1);
                    let bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    Ok((n * 16, frames, bytes))
                }
            }
        });
        let end = rx.get_mut().pos;
        match r {
            Ok((len, frames, values)) => {
                // Exactly the payload and one canonical header per frame were read.
                assert_eq!(end - start, len + frames * HEADER_LEN);
                let consumed = &stream[start..end];
                let mut at = 0;
                let mut payload = Vec::with_capacity(len);
                let mut left = len;
                for _ in 0..frames {
                    let h = &consumed[at..at + HEADER_LEN];
                    let flen = if kind % 3 == 0 {
                        len
                    } else {
                        let unit = if kind % 3 == 1 { 8 } else { 16 };
                        ((max_frame / unit) * unit).min(left)
                    };
                    assert_eq!(u16::from_le_bytes([h[0], h[1]]), tag);
                    assert_eq!(h[2], sub as u8);
                    assert_eq!(h[3], 0);
                    assert_eq!(u16::from_le_bytes([h[4], h[5]]), seq);
                    assert_eq!(u32::from_le_bytes([h[6], h[7], h[8], h[9]]) as usize, flen);
                    seq = seq.wrapping_add(1);
                    payload.extend_from_slice(&consumed[at + HEADER_LEN..at + HEADER_LEN + flen]);
                    at += HEADER_LEN + flen;
                    left -= flen;
                }
                assert_eq!(payload, values);
            }
            Err(e) => {
                assert!(framing_error(e.kind()), "{e}");
                break;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    match b.u8() % 2 {
        0 => round_trip(&mut b),
        _ => hostile(&mut b),
    }
});
