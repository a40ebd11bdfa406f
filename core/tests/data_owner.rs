//! A data owner secret-shares readings to two servers (seed to server 0, masked values to
//! server 1); the servers reconstruct exactly, compute the mean securely and send it back.

mod common;

use common::{TestRng, seed};
use fixshare::data_owner::{self, DataOwner};
use fixshare::{
    Config, Dealer, DealerClient, ErrorKind, FixedPoint, Link, Party, Role, Shares,
    block_on_thread, duplex,
};
use std::thread;

#[test]
fn servers_reconstruct_readings_and_return_their_mean() {
    let n = 1000;
    let readings = TestRng(3).vec(n, -40.0, 85.0);
    let fp = FixedPoint::default();
    let encoded: Vec<u64> = readings.iter().map(|&r| fp.encode(r).unwrap()).collect();

    let (o0, s0) = duplex();
    let (o1, s1) = duplex();
    let (p0, p1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(1), d0, d1).serve()));
    let readings_owner = readings.clone();
    let owner = thread::spawn(move || {
        block_on_thread(async move {
            let mut owner = DataOwner::new(seed(2), fp);
            let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
            owner
                .share::<u64, _, _>(&readings_owner, &mut to0, &mut to1)
                .await?;
            owner
                .reconstruct_vec::<u64, _, _, 4>(&mut to0, &mut to1, 1)
                .await
        })
    });
    let server = |role: Role, owner_link, peer, dealer_link| {
        thread::spawn(move || {
            block_on_thread(async move {
                let mut owner = Link::new(owner_link);
                let mut share = vec![0u64; n];
                data_owner::receive_shares(role, &mut owner, &mut share).await?;
                let src = DealerClient::connect(role, dealer_link).await?;
                let mut p: Party<_, _> = Party::new(
                    role,
                    peer,
                    src,
                    seed(10 + role.index() as u64),
                    Config::default(),
                );
                let x = Shares::vector(share);
                let opened = p.open(&x).await?;
                // The mean: a local sum (exact), then a public fixed-point factor.
                let sum: u64 = x.as_slice().iter().fold(0u64, |a, &b| a.wrapping_add(b));
                let mean = p
                    .mul_public(&Shares::vector(vec![sum]), 1.0 / n as f64)
                    .await?;
                data_owner::send_output(&mut owner, mean.as_slice()).await?;
                Ok::<_, fixshare::Error>(opened)
            })
        })
    };
    let h0 = server(Role::P0, s0, p0, c0);
    let h1 = server(Role::P1, s1, p1, c1);
    let opened0 = h0.join().unwrap().unwrap();
    let opened1 = h1.join().unwrap().unwrap();
    assert_eq!(
        opened0, encoded,
        "the servers reconstruct exactly the readings shared"
    );
    assert_eq!(opened1, encoded);
    let mean = owner.join().unwrap().unwrap();
    // The plaintext fixed-point reference: the exact ring sum times the encoding of 1/n, truncated.
    let sum = encoded.iter().fold(0u64, |a, &b| a.wrapping_add(b));
    let reference = fp.decode(fp.mul_reference(sum, fp.encode::<u64>(1.0 / n as f64).unwrap()));
    assert!(
        (mean[0] - reference).abs() <= fp.ulp(),
        "{} vs {reference}",
        mean[0]
    );
    let plain = readings.iter().sum::<f64>() / n as f64;
    // 1/1000 encodes with a relative error below 2^-16 * 1000 / 2.
    assert!(
        (mean[0] - plain).abs() < plain.abs() * 0.008,
        "{} vs {plain}",
        mean[0]
    );
    dealer.join().unwrap().unwrap();
}

#[test]
fn each_server_alone_sees_nothing_of_the_readings() {
    // Server 0 receives a 40-byte seed frame whatever the readings; server 1's bytes differ
    // between two different batches of identical readings (fresh masks).
    let capture = |values: Vec<f64>, owner_seed: u64| {
        let (o0, mut s0) = duplex();
        let (o1, mut s1) = duplex();
        block_on_thread(async move {
            let mut owner = DataOwner::new(seed(owner_seed), FixedPoint::default());
            let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
            owner
                .share::<u64, _, _>(&values, &mut to0, &mut to1)
                .await
                .unwrap();
            drop((to0, to1));
            let h = fixshare::transport::HEADER_LEN;
            let (mut b0, mut b1) = (vec![0u8; h + 40], vec![0u8; h + 8 * values.len()]);
            use fixshare::Transport;
            s0.recv(&mut b0).await.unwrap();
            s1.recv(&mut b1).await.unwrap();
            (b0, b1)
        })
    };
    let (a0, a1) = capture(vec![5.0; 64], 1);
    let (b0, b1) = capture(vec![5.0; 64], 2);
    let h = fixshare::transport::HEADER_LEN;
    assert_ne!(a0[h..h + 32], b0[h..h + 32], "fresh seed per owner");
    assert_ne!(a1[h..], b1[h..], "fresh mask per owner");
    // Identical readings never appear as identical masked words within a batch.
    let words: std::collections::HashSet<&[u8]> = a1[h..].chunks(8).collect();
    assert_eq!(words.len(), 64);
}

#[test]
fn bad_owner_input_is_rejected_before_sending() {
    let (o0, mut s0) = duplex();
    let (o1, mut s1) = duplex();
    let err = block_on_thread(async move {
        let mut owner = DataOwner::new(seed(4), FixedPoint::default());
        let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
        let e = owner
            .share::<u32, _, _>(&[1.0, 70000.0], &mut to0, &mut to1)
            .await
            .unwrap_err();
        // Nothing was sent: the owner stays ready.
        assert_eq!(*owner.state(), fixshare::State::Ready);
        e
    });
    assert_eq!(*err.kind(), ErrorKind::OutOfRange { value: 70000.0 });
    use fixshare::Transport;
    let mut byte = [0u8; 1];
    assert!(
        block_on_thread(s0.recv(&mut byte)).is_err(),
        "server 0 received nothing"
    );
    assert!(
        block_on_thread(s1.recv(&mut byte)).is_err(),
        "server 1 received nothing"
    );
}

#[test]
fn server_rejects_a_batch_of_the_wrong_size() {
    let (o0, s0) = duplex();
    let (o1, _s1) = duplex();
    let err = block_on_thread(async move {
        let mut owner = DataOwner::new(seed(4), FixedPoint::default());
        let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
        owner
            .share::<u64, _, _>(&[1.0, 2.0, 3.0], &mut to0, &mut to1)
            .await
            .unwrap();
        let mut share = vec![0u64; 2];
        data_owner::receive_shares(Role::P0, &mut Link::new(s0), &mut share)
            .await
            .unwrap_err()
    });
    assert_eq!(
        *err.kind(),
        ErrorKind::UnexpectedLength {
            expected: 2,
            got: 3
        }
    );
}

#[test]
fn reconstruct_capacity_is_checked() {
    let (o0, _s0) = duplex();
    let (o1, _s1) = duplex();
    let err = block_on_thread(async move {
        let mut owner = DataOwner::new(seed(4), FixedPoint::default());
        let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
        owner
            .reconstruct_vec::<u64, _, _, 2>(&mut to0, &mut to1, 3)
            .await
            .unwrap_err()
    });
    assert_eq!(
        *err.kind(),
        ErrorKind::Capacity {
            needed: 3,
            capacity: 2
        }
    );
}

#[test]
fn a_server_that_leaves_poisons_the_owner() {
    let (o0, _s0) = duplex();
    let (o1, s1) = duplex();
    drop(s1);
    let (first, second) = block_on_thread(async move {
        let mut owner = DataOwner::new(seed(4), FixedPoint::default());
        let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
        let first = owner
            .share::<u64, _, _>(&[1.0, 2.0], &mut to0, &mut to1)
            .await
            .unwrap_err();
        let second = owner
            .share::<u64, _, _>(&[1.0], &mut to0, &mut to1)
            .await
            .unwrap_err();
        (first, second)
    });
    assert_eq!(*first.kind(), ErrorKind::Closed);
    assert_eq!(*second.kind(), ErrorKind::Poisoned);
}
