//! Sizes that reach the dealer or a window buffer are checked before anything is allocated: the
//! dealer refuses a matrix triple with an empty inner dimension and an enormous outer one (it
//! used to allocate a row of 2^40 elements), and max pooling refuses an image whose windows
//! would not fit, with an error instead of an abort.

mod common;

use common::seed;
use fixshare::nonlinear::Pool2d;
use fixshare::transport::tag;
use fixshare::{Config, Dealer, ErrorKind, Link, Shares, Sub, block_on_thread, duplex};
use std::thread;

/// A raw matrix-triple request as both parties would send it: kind 3, Z_2^64, m x k x n.
fn matrix_request(m: u64, k: u64, n: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0..4].copy_from_slice(&3u32.to_le_bytes());
    b[4..8].copy_from_slice(&64u32.to_le_bytes());
    for (i, d) in [m, k, n].iter().enumerate() {
        b[8 + 8 * i..16 + 8 * i].copy_from_slice(&d.to_le_bytes());
    }
    b
}

#[test]
fn the_dealer_refuses_a_matrix_triple_with_an_empty_inner_dimension() {
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(1), d0, d1).serve()));
    block_on_thread(async move {
        let mut links = [Link::new(c0), Link::new(c1)];
        for link in links.iter_mut() {
            let mut s = [0u8; 32];
            let mut ch = link.channel(Sub::Offline);
            ch.recv_frame("test", tag::DEALER_SEED, &mut s)
                .await
                .unwrap();
        }
        for link in links.iter_mut() {
            let mut ch = link.channel(Sub::Offline);
            let req = matrix_request(1, 0, 1 << 40);
            ch.send_frame("test", tag::DEALER_REQUEST, &req)
                .await
                .unwrap();
            ch.flush("test").await.unwrap();
        }
    });
    let err = dealer
        .join()
        .expect("the dealer does not abort")
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Malformed(_)), "{err}");
}

#[test]
fn max_pooling_refuses_windows_beyond_the_limit_before_allocating() {
    let config = Config {
        max_elements: 1 << 20,
        ..Config::default()
    };
    let (a, b) = common::run_pair(config, 2, |mut p| async move {
        // One 1x1024x1024 image (2^20 values, within the limit) with 512x512 windows at
        // stride 1: 513^2 windows of 2^18 values each, far beyond it.
        let x = Shares::<u64>::matrix(1, 1 << 20, vec![0; 1 << 20])?;
        let pool = Pool2d {
            channels: 1,
            height: 1024,
            width: 1024,
            window: 512,
            stride: 1,
        };
        let err = p.max_pool(&x, pool).await.unwrap_err();
        // Nothing was sent: the party goes on.
        let y = p.relu(&Shares::vector(vec![5u64; 4])).await?;
        Ok((err.kind().clone(), p.open(&y).await?))
    });
    for (kind, opened) in [a.unwrap(), b.unwrap()] {
        assert!(matches!(kind, ErrorKind::TooLarge { .. }), "{kind:?}");
        assert_eq!(opened, [10; 4]);
    }
}
