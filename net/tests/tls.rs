//! Authentication, the hello, the listener's refusals and the timeouts, over real sockets on
//! 127.0.0.1 and real TLS.

mod common;

use common::{p, parties, recorder, wait_for_log, within};
use fixshare::{ErrorKind, Link, Sub, Transport, block_on_thread};
use fixshare_net::{
    Endpoint, Identity, NetError, Reason, RefusedBy, SessionId, TlsTransport, code,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TAG: u16 = 0x0101;

/// Sends `v` from `a` and checks that `b` receives it: the connection works end to end.
fn ping(a: TlsTransport, b: TlsTransport, v: u64) -> (TlsTransport, TlsTransport) {
    let (mut la, mut lb) = (Link::new(a), Link::new(b));
    block_on_thread(async {
        la.channel(Sub::Online)
            .send_ring("ping", TAG, &[v])
            .await
            .unwrap();
        la.flush_pending("ping").await.unwrap();
        let mut got = [0u64];
        lb.channel(Sub::Online)
            .recv_ring("ping", TAG, &mut got)
            .await
            .unwrap();
        assert_eq!(got[0], v);
    });
    (la.into_inner(), lb.into_inner())
}

fn hello_refusal(e: &NetError) -> (RefusedBy, Reason) {
    match e {
        NetError::Hello(r) => (r.by, r.reason),
        other => panic!("not a hello refusal: {other}"),
    }
}

#[test]
fn pinned_parties_connect_and_exchange() {
    let (ends, pins) = parties::<2>("connect");
    let listener = ends[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    let addr = listener.local_addr().to_string();
    let e1 = ends[1].clone();
    let client = std::thread::spawn(move || e1.connect(&addr, p(0), pins[0]));
    let server = listener.accept(Duration::from_secs(10)).unwrap();
    let client = client.join().unwrap().unwrap();
    assert_eq!((server.peer(), client.peer()), (p(1), p(0)));
    assert_eq!((server.peer_pin(), client.peer_pin()), (pins[1], pins[0]));
    let (server, client) = ping(server, client, 7);
    ping(client, server, u64::MAX);
}

#[test]
fn a_key_that_is_not_pinned_is_refused_on_both_ends() {
    let (ends, pins) = parties::<2>("keys");
    let (logger, log) = recorder();
    let listener = ends[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    listener.set_logger(logger);
    let addr = listener.local_addr().to_string();

    // A client with a key the listener does not pin, claiming to be party 1.
    let impostor = Endpoint::new(
        Arc::new(Identity::generate("impostor").unwrap()),
        p(1),
        ends[1].session(),
    )
    .with_timeouts(common::timeouts());
    let a = addr.clone();
    let stray = std::thread::spawn(move || impostor.connect(&a, p(0), pins[0]));
    // The listener refuses it and still accepts the right party.
    let e1 = ends[1].clone();
    let a = addr.clone();
    let good = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        e1.connect(&a, p(0), pins[0])
    });
    let accepted = listener.accept(Duration::from_secs(10)).unwrap();
    assert_eq!(accepted.peer(), p(1));
    let good = good.join().unwrap().unwrap();
    assert_eq!(accepted.peer_pin(), pins[1]);
    let e = stray.join().unwrap().unwrap_err();
    assert!(
        matches!(e, NetError::PeerRefusedTls { .. }),
        "impostor got: {e}"
    );
    let line = wait_for_log(
        &log,
        &["rejected", "is not pinned here"],
        Duration::from_secs(5),
    );
    assert!(line.contains("TLS handshake failed"), "{line}");
    ping(accepted, good, 1);

    // A server whose key is not the one the client pins: the client refuses it.
    let (other, _) = parties::<1>("keys");
    let wrong_pin = Identity::generate("someone").unwrap().pin();
    let listener = other[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    let (logger, log) = recorder();
    listener.set_logger(logger);
    let a = listener.local_addr().to_string();
    let e1 = ends[1].clone();
    let client = std::thread::spawn(move || e1.connect(&a, p(0), wrong_pin));
    let accept = listener.accept(Duration::from_secs(2));
    assert!(accept.is_err());
    let e = client.join().unwrap().unwrap_err();
    match &e {
        NetError::Tls { source, .. } => {
            assert!(e.to_string().contains("is not pinned here"), "{e}");
            assert!(
                matches!(source, rustls::Error::InvalidCertificate(_)),
                "{e}"
            );
        }
        other => panic!("client got: {other}"),
    }
    wait_for_log(&log, &["rejected", "alert"], Duration::from_secs(5));
}

#[test]
fn stray_connections_are_rejected_while_the_right_peers_get_through() {
    let (ends, pins) = parties::<3>("strays");
    let (logger, log) = recorder();
    let listener = ends[0]
        .listen("127.0.0.1:0", &[(p(1), pins[1]), (p(2), pins[2])])
        .unwrap();
    listener.set_logger(logger);
    let addr = listener.local_addr().to_string();
    let handshake = common::timeouts().handshake;

    // 1. A TCP connection that never speaks, opened first.
    let idle = TcpStream::connect(&addr).unwrap();
    // 2. Something that is not TLS at all.
    let mut junk = TcpStream::connect(&addr).unwrap();
    junk.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // 3. Party 1's key with another session's hello.
    let wrong_session = Endpoint::new(
        ends[1].identity().clone(),
        p(1),
        SessionId::derive("another session"),
    )
    .with_timeouts(common::timeouts());
    let a = addr.clone();
    let wrong = std::thread::spawn(move || wrong_session.connect(&a, p(0), pins[0]));

    // The expected parties, one of them twice: the duplicate is refused.
    let (e1, e2) = (ends[1].clone(), ends[2].clone());
    let (a1, a2) = (addr.clone(), addr.clone());
    let first = std::thread::spawn(move || e1.connect(&a1, p(0), pins[0]));
    let second = std::thread::spawn(move || e2.connect(&a2, p(0), pins[0]));

    let start = Instant::now();
    let got = listener.accept_all(Duration::from_secs(20)).unwrap();
    let waited = start.elapsed();
    assert_eq!(
        got.iter().map(|t| t.peer()).collect::<Vec<_>>(),
        [p(1), p(2)]
    );
    assert!(
        waited < handshake,
        "the idle connection held the others up: {waited:?}"
    );
    let first = first.join().unwrap().unwrap();
    let second = second.join().unwrap().unwrap();

    // Strays are refused while nobody calls accept, too.
    wait_for_log(
        &log,
        &["rejected", "TLS handshake failed"],
        Duration::from_secs(5),
    );
    let mut late = TcpStream::connect(&addr).unwrap();
    late.write_all(b"SSH-2.0-OpenSSH_9.9\r\n").unwrap();
    common::wait_for_count(&log, "TLS handshake failed", 2, Duration::from_secs(5));

    // A duplicate of party 1 while the first connection lives.
    let e1 = ends[1].clone();
    let a = addr.clone();
    let dup = std::thread::spawn(move || e1.connect(&a, p(0), pins[0]));
    let none = listener.accept(Duration::from_secs(2));
    assert!(none.is_err());
    let e = dup.join().unwrap().unwrap_err();
    assert_eq!(
        hello_refusal(&e),
        (RefusedBy::Peer, Reason::Duplicate),
        "{e}"
    );

    let e = wrong.join().unwrap().unwrap_err();
    assert_eq!(hello_refusal(&e), (RefusedBy::Us, Reason::Session), "{e}");

    // The idle connection is dropped once the handshake time is up; keep the listener serving
    // until then.
    let _ = listener.accept(handshake + Duration::from_secs(1));
    let mut idle = idle;
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        idle.read(&mut buf).unwrap_or(0),
        0,
        "idle connection still open"
    );

    wait_for_log(&log, &["rejected", "handshake"], Duration::from_secs(1));
    wait_for_log(
        &log,
        &["rejected", "TLS handshake failed"],
        Duration::from_secs(1),
    );
    wait_for_log(
        &log,
        &["rejected", "session id mismatch"],
        Duration::from_secs(1),
    );
    wait_for_log(
        &log,
        &[
            "rejected",
            "duplicate connection",
            "party 1 with this key is connected already",
        ],
        Duration::from_secs(1),
    );
    wait_for_log(
        &log,
        &[
            "rejected",
            "timed out after 5s waiting to complete the handshake and hello",
        ],
        Duration::from_secs(1),
    );
    wait_for_log(&log, &["accepted party 1"], Duration::from_secs(1));
    wait_for_log(&log, &["accepted party 2"], Duration::from_secs(1));

    // After all that, the accepted connections work.
    let mut got = got.into_iter();
    let (g1, g2) = (got.next().unwrap(), got.next().unwrap());
    ping(g1, first, 11);
    ping(second, g2, 12);

    // Once party 1's connection is dropped, party 1 may connect again.
    let e1 = ends[1].clone();
    let again = std::thread::spawn(move || e1.connect(&addr, p(0), pins[0]));
    let back = listener.accept(Duration::from_secs(10)).unwrap();
    assert_eq!(back.peer(), p(1));
    again.join().unwrap().unwrap();
}

#[test]
fn hello_mismatches_are_refused_on_both_ends() {
    let (ends, pins) = parties::<3>("hello");

    // Each case: the client endpoint, whom it dials and pins, and the refusal each end must
    // report (the client's, and a phrase in the listener's log).
    struct Case {
        client: Endpoint,
        dial: u8,
        client_sees: (RefusedBy, Reason),
        server_logs: &'static str,
    }
    let cases = [
        Case {
            client: ends[1].clone().with_protocol_version_for_tests(2),
            dial: 0,
            client_sees: (RefusedBy::Us, Reason::Version),
            server_logs: "protocol version 1 here, 2 at the peer",
        },
        Case {
            client: Endpoint::new(ends[1].identity().clone(), p(1), SessionId::derive("other"))
                .with_timeouts(common::timeouts()),
            dial: 0,
            client_sees: (RefusedBy::Us, Reason::Session),
            server_logs: "session id mismatch",
        },
        // Party 1's key, claiming to be party 2.
        Case {
            client: Endpoint::new(ends[1].identity().clone(), p(2), ends[1].session())
                .with_timeouts(common::timeouts()),
            dial: 0,
            client_sees: (RefusedBy::Us, Reason::Addressee),
            server_logs: "the peer says it is party 2, but its key is pinned for party 1",
        },
        // The right key and claim, but dialing party 0 as if it were party 2.
        Case {
            client: ends[1].clone(),
            dial: 2,
            client_sees: (RefusedBy::Us, Reason::Party),
            server_logs: "the peer wants party 2, this is party 0",
        },
    ];
    for case in cases {
        let listener = ends[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
        let (logger, log) = recorder();
        listener.set_logger(logger);
        let addr = listener.local_addr().to_string();
        let (client, dial) = (case.client, case.dial);
        let pin0 = pins[0];
        let t = std::thread::spawn(move || client.connect(&addr, p(dial), pin0));
        assert!(listener.accept(Duration::from_secs(1)).is_err());
        let e = t.join().unwrap().unwrap_err();
        assert_eq!(hello_refusal(&e), case.client_sees, "{e}");
        let line = wait_for_log(
            &log,
            &["rejected", "hello refused", case.server_logs],
            Duration::from_secs(5),
        );
        assert!(line.contains("by this side"), "{line}");
    }

    // A refusal seen by one side only is still reported on the other: the peer's verdict.
    let listener = ends[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    let (logger, _log) = recorder();
    listener.set_logger(logger);
    let addr = listener.local_addr().to_string();
    let e1 = ends[1].clone();
    let first = std::thread::spawn({
        let addr = addr.clone();
        move || e1.connect(&addr, p(0), pins[0])
    });
    let held = listener.accept(Duration::from_secs(10)).unwrap();
    let _first = first.join().unwrap().unwrap();
    let e1 = ends[1].clone();
    let dup = std::thread::spawn(move || e1.connect(&addr, p(0), pins[0]));
    assert!(listener.accept(Duration::from_secs(2)).is_err());
    let e = dup.join().unwrap().unwrap_err();
    assert_eq!(hello_refusal(&e), (RefusedBy::Peer, Reason::Duplicate));
    assert!(e.to_string().contains("hello refused by the peer"), "{e}");
    drop(held);
}

/// A connected pair (server side, client side) with short read and write timeouts.
fn pair(session: &str, limit: Duration) -> (TlsTransport, TlsTransport) {
    let (ends, pins) = parties::<2>(session);
    let listener = ends[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    let addr = listener.local_addr().to_string();
    let e1 = ends[1].clone();
    let client = std::thread::spawn(move || e1.connect(&addr, p(0), pins[0]).unwrap());
    let mut server = listener.accept(Duration::from_secs(10)).unwrap();
    let mut client = client.join().unwrap();
    for t in [&mut server, &mut client] {
        t.set_read_timeout(limit);
        t.set_write_timeout(limit);
    }
    (server, client)
}

#[test]
fn a_peer_that_stops_sending_times_out() {
    let limit = Duration::from_millis(300);
    let (server, client) = pair("stall read", limit);
    let (err, waited, server) = within(Duration::from_secs(30), move || {
        let mut link = Link::new(server);
        let start = Instant::now();
        let mut x = [0u64; 4];
        let err = block_on_thread(link.channel(Sub::Online).recv_ring("stalled", TAG, &mut x))
            .unwrap_err();
        (err, start.elapsed(), link.into_inner())
    });
    assert_eq!(err.kind(), &ErrorKind::Transport(code::TIMEOUT), "{err}");
    assert!(waited >= limit, "{waited:?}");
    let detail = server.last_error().expect("the detail is kept");
    assert!(detail.is_timeout(), "{detail}");
    assert!(
        detail
            .to_string()
            .contains("the peer sent nothing for 300ms"),
        "{detail}"
    );
    assert!(detail.to_string().contains("300ms"), "{detail}");
    drop(client);
}

#[test]
fn a_peer_that_stops_reading_times_out() {
    let limit = Duration::from_millis(300);
    let (server, client) = pair("stall write", limit);
    // The client never reads; the server sends far more than the sockets can buffer.
    let (err, server) = within(Duration::from_secs(60), move || {
        let mut link = Link::new(server);
        let big = vec![5u64; 8 << 20]; // 64 MiB
        let err = block_on_thread(async {
            link.channel(Sub::Online)
                .send_ring("flood", TAG, &big)
                .await?;
            link.flush_pending("flood").await
        })
        .unwrap_err();
        (err, link.into_inner())
    });
    assert_eq!(err.kind(), &ErrorKind::Transport(code::TIMEOUT), "{err}");
    let detail = server.last_error().unwrap();
    assert!(
        detail.to_string().contains("the peer took nothing"),
        "{detail}"
    );
    drop(client);
}

#[test]
fn both_peers_send_a_long_message_before_reading_without_a_deadlock() {
    // 12 MiB each way, far more than the sockets buffer: with writes that wait for the peer to
    // read, both sides would wait on each other until the write timeout. The sending threads
    // take it, so an exchange can cost one latency (the transport's send window says so).
    let (server, client) = pair("both send", Duration::from_secs(20));
    assert!(server.send_window() >= 12 << 20);
    let run = |t: TlsTransport, v: u64| {
        std::thread::spawn(move || {
            let mut link = Link::new(t);
            let mine = vec![v; 3 << 19];
            let mut theirs = vec![0u64; 3 << 19];
            block_on_thread(async {
                let mut c = link.channel(Sub::Online);
                c.send_ring("both", TAG, &mine).await?;
                link.flush_pending("both").await?;
                link.channel(Sub::Online)
                    .recv_ring("both", TAG, &mut theirs)
                    .await
            })
            .unwrap();
            theirs
        })
    };
    let (a, b) = within(Duration::from_secs(60), move || {
        let (a, b) = (run(server, 7), run(client, 9));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.iter().all(|&x| x == 9) && b.iter().all(|&x| x == 7));
}

#[test]
fn a_closed_peer_is_closed_not_a_hang() {
    let (server, client) = pair("close", Duration::from_secs(10));
    drop(client);
    let err = within(Duration::from_secs(30), move || {
        let mut link = Link::new(server);
        let mut x = [0u64; 1];
        block_on_thread(link.channel(Sub::Online).recv_ring("closed", TAG, &mut x)).unwrap_err()
    });
    assert_eq!(err.kind(), &ErrorKind::Closed, "{err}");
}

#[test]
fn connecting_to_nobody_times_out() {
    let (ends, pins) = parties::<2>("nobody");
    // A port that was just free.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let e1 = ends[1].clone().with_timeouts(fixshare_net::Timeouts {
        connect: Duration::from_millis(300),
        ..common::timeouts()
    });
    let start = Instant::now();
    let e = e1.connect(&addr, p(0), pins[0]).unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(e.to_string().contains("connect"), "{e}");
    // A listener that accepts TCP but never answers TLS: the handshake times out.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let e1 = ends[1].clone().with_timeouts(fixshare_net::Timeouts {
        handshake: Duration::from_millis(300),
        ..common::timeouts()
    });
    let e = within(Duration::from_secs(30), move || {
        e1.connect(&addr, p(0), pins[0]).unwrap_err()
    });
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("handshake"), "{e}");
}

#[test]
fn configuration_errors_are_clear() {
    let (ends, pins) = parties::<2>("config");
    let err = |r: Result<fixshare_net::Listener, NetError>| r.unwrap_err().to_string();
    assert!(err(ends[0].listen("127.0.0.1:0", &[])).contains("at least one peer"));
    assert!(err(ends[0].listen("127.0.0.1:0", &[(p(0), pins[1])])).contains("its own peer"));
    assert!(
        err(ends[0].listen("127.0.0.1:0", &[(p(1), pins[1]), (p(1), pins[0])]))
            .contains("this party's own key")
    );
    let other = Identity::generate("x").unwrap().pin();
    assert!(
        err(ends[0].listen("127.0.0.1:0", &[(p(1), other), (p(2), other)]))
            .contains("the same key")
    );
    let e = ends[0].connect("127.0.0.1:1", p(0), pins[1]).unwrap_err();
    assert!(e.to_string().contains("itself"), "{e}");
    let e = ends[0].connect("127.0.0.1:1", p(1), pins[0]).unwrap_err();
    assert!(e.to_string().contains("own key"), "{e}");
}

#[test]
fn a_full_listener_holds_more_connections_back_until_a_handshake_ends() {
    // One handshake at a time: a connection that never speaks holds the place until the
    // handshake timeout refuses it; the expected party, which connected meanwhile, waited in
    // the backlog and then gets through.
    let (ends, pins) = parties::<2>("busy");
    let short = fixshare_net::Timeouts {
        handshake: Duration::from_millis(600),
        ..common::timeouts()
    };
    let listener = ends[0]
        .clone()
        .with_timeouts(short)
        .with_max_pending(1)
        .listen("127.0.0.1:0", &[(p(1), pins[1])])
        .unwrap();
    let (logger, log) = recorder();
    listener.set_logger(logger);
    let addr = listener.local_addr().to_string();
    let _idle = TcpStream::connect(&addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let e1 = ends[1].clone();
    let client = std::thread::spawn(move || e1.connect(&addr, p(0), pins[0]));
    let start = Instant::now();
    let server = listener.accept(Duration::from_secs(20)).unwrap();
    assert_eq!(server.peer(), p(1));
    assert!(client.join().unwrap().is_ok());
    // It waited for the idle connection's handshake time to run out.
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
    wait_for_log(&log, &["rejected", "handshake"], Duration::from_secs(5));
}

#[test]
fn several_keys_may_share_a_party_id_and_each_is_its_own_place() {
    // Data owners: one party id, told apart by their keys; a key connected twice is a
    // duplicate, while the other keys get through.
    let session = SessionId::derive("owners");
    let server = Identity::generate("server").unwrap();
    let server_pin = server.pin();
    let server = Endpoint::new(Arc::new(server), p(0), session).with_timeouts(common::timeouts());
    let owners: Vec<Endpoint> = (0..3)
        .map(|i| {
            let id = Identity::generate(&format!("owner{i}")).unwrap();
            Endpoint::new(Arc::new(id), p(16), session).with_timeouts(common::timeouts())
        })
        .collect();
    let expected: Vec<_> = owners.iter().map(|o| (p(16), o.identity().pin())).collect();
    let listener = server.listen("127.0.0.1:0", &expected).unwrap();
    let (logger, log) = recorder();
    listener.set_logger(logger);
    let addr = listener.local_addr().to_string();
    // Owner 2 first, then owner 0 twice, then owner 1: accept_all returns them in key order.
    let first = owners[2].connect(&addr, p(0), server_pin).unwrap();
    let zero = owners[0].connect(&addr, p(0), server_pin).unwrap();
    let again = owners[0].connect(&addr, p(0), server_pin).unwrap_err();
    assert_eq!(hello_refusal(&again).1, Reason::Duplicate, "{again}");
    let one = owners[1].connect(&addr, p(0), server_pin).unwrap();
    let all = listener.accept_all(Duration::from_secs(10)).unwrap();
    let pins: Vec<_> = all.iter().map(TlsTransport::peer_pin).collect();
    assert_eq!(pins, expected.iter().map(|e| e.1).collect::<Vec<_>>());
    wait_for_log(
        &log,
        &["rejected", "connected already"],
        Duration::from_secs(5),
    );
    drop((first, zero, one));
}

#[test]
fn keygen_writes_keys_that_connect() {
    let dir = std::env::temp_dir().join(format!("fixshare-net-keygen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bin = env!("CARGO_BIN_EXE_fixshare-net");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let d = dir.to_str().unwrap();
    let mut pins = Vec::new();
    for name in ["server0", "server1"] {
        let (ok, out, err) = run(&["keygen", "--name", name, "--out", d]);
        assert!(ok, "{err}");
        let pin = out
            .lines()
            .find_map(|l| l.strip_prefix("pin: "))
            .unwrap()
            .to_string();
        let crt = dir.join(format!("{name}.crt"));
        let (ok, again, _) = run(&["pin", crt.to_str().unwrap()]);
        assert!(ok);
        assert_eq!(again.trim(), pin);
        pins.push(pin.parse::<fixshare_net::Pin>().unwrap());
    }
    // No overwriting, and bad arguments are refused with a message.
    let (ok, _, err) = run(&["keygen", "--name", "server0", "--out", d]);
    assert!(!ok && err.contains("not overwriting"), "{err}");
    let (ok, _, err) = run(&["keygen"]);
    assert!(!ok && err.contains("--name"), "{err}");
    let (ok, _, err) = run(&["pin", "/nonexistent.crt"]);
    assert!(!ok && err.contains("no certificate"), "{err}");

    let load = |name: &str| {
        Arc::new(
            Identity::from_pem_files(
                dir.join(format!("{name}.crt")),
                dir.join(format!("{name}.key")),
            )
            .unwrap(),
        )
    };
    let session = SessionId::derive("from files");
    let e0 = Endpoint::new(load("server0"), p(0), session);
    let e1 = Endpoint::new(load("server1"), p(1), session);
    let listener = e0.listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    let addr = listener.local_addr().to_string();
    let pin0 = pins[0];
    let client = std::thread::spawn(move || e1.connect(&addr, p(0), pin0).unwrap());
    let server = listener.accept(Duration::from_secs(10)).unwrap();
    ping(server, client.join().unwrap(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tls_client_without_a_certificate_is_refused() {
    let (ends, pins) = parties::<2>("anonymous");
    let (logger, log) = recorder();
    let listener = ends[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    listener.set_logger(logger);
    let addr = listener.local_addr();
    let outcome = within(Duration::from_secs(30), move || {
        common::anonymous_tls_client(addr)
    });
    let e = outcome.unwrap_err();
    assert!(e.to_string().contains("alert"), "{e}");
    wait_for_log(
        &log,
        &["rejected", "TLS handshake failed", "no certificates"],
        Duration::from_secs(5),
    );
    assert!(listener.accept(Duration::from_millis(200)).is_err());
}
