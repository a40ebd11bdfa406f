//! The WebSocket listener for data owners, through the library: an owner that proves its key
//! exchanges bytes both ways in messages of every size; the idle read and write timeouts apply
//! as on TLS; a text message, and the owner's close, end the connection with their own errors.
//! (`tests/party.rs` runs the daemon's WebSocket owners and strays; `wasm/tests/browser/owner.mjs`
//! a page in Chromium.)

mod common;
mod ws_owner;

use common::{p, parties, within};
use fixshare::{PartyId, Transport, block_on_thread};
use fixshare_job::{Hello, PROTOCOL_VERSION};
use fixshare_net::{Listener, NetError, Pin, WsTransport};
use std::time::Duration;
use ws_owner::{OwnerKey, WsClient};

/// A listener for owner 16 (whose key is `key`) over WebSocket at party 0, an owner connected
/// to it, and the server's transport.
fn connected(
    session: &str,
    key: &OwnerKey,
) -> (Listener, Listener<WsTransport>, WsClient, WsTransport) {
    let (ends, _) = parties::<1>(session);
    let server = ends[0].clone();
    let owners = [(PartyId(16), key.pin())];
    let tls = server.listen("127.0.0.1:0", &owners).unwrap();
    let ws = tls.websocket("127.0.0.1:0", &owners, None).unwrap();
    let addr = ws.local_addr().to_string();
    let server_pin: Pin = server.identity().pin();
    let hello = Hello {
        version: PROTOCOL_VERSION,
        session: server.session(),
        from: PartyId(16),
        to: p(0),
    };
    let mut client = WsClient::owner(&addr, server_pin).unwrap();
    block_on_thread(fixshare_job::proof::owner_setup(
        &mut client,
        hello,
        &server_pin,
        key,
    ))
    .unwrap();
    let t = ws.accept(Duration::from_secs(10)).unwrap();
    assert_eq!(t.peer(), PartyId(16));
    assert_eq!(t.peer_pin(), key.pin());
    assert!(
        t.negotiated().starts_with("WebSocket over TLS13_"),
        "{}",
        t.negotiated()
    );
    (tls, ws, client, t)
}

fn bytes(n: usize, salt: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}

#[test]
fn an_owner_exchanges_bytes_both_ways_then_the_idle_timeout_ends_the_wait() {
    within(Duration::from_secs(60), || {
        let key = OwnerKey::generate();
        let (_tls, _ws, mut client, mut server) = connected("ws bytes", &key);
        // More than one message each way (the server sends 64 KiB messages).
        let down = bytes(300_000, 1);
        let up = bytes(200_001, 2);
        block_on_thread(async {
            server.send(&down).await.unwrap();
            server.flush().await.unwrap();
            let mut got = vec![0u8; down.len()];
            client.recv(&mut got).await.unwrap();
            assert_eq!(got, down);
            client.send(&up).await.unwrap();
            let mut got = vec![0u8; up.len()];
            server.recv(&mut got).await.unwrap();
            assert_eq!(got, up);
        });
        server.set_read_timeout(Duration::from_secs(1));
        let started = std::time::Instant::now();
        let r = block_on_thread(server.recv(&mut [0u8; 1]));
        assert!(r.is_err());
        assert!(started.elapsed() >= Duration::from_millis(900));
        let e = server.last_error().unwrap();
        assert!(e.is_timeout(), "{e}");
        assert!(
            e.to_string().contains("the peer sent nothing for 1s"),
            "{e}"
        );
        drop(client);
    });
}

#[test]
fn a_stalled_owner_ends_the_server_s_write_with_a_timeout() {
    within(Duration::from_secs(60), || {
        let key = OwnerKey::generate();
        let (_tls, _ws, client, mut server) = connected("ws stall", &key);
        server.set_write_timeout(Duration::from_secs(1));
        let chunk = bytes(1 << 20, 3);
        // The owner reads nothing: after the socket buffers fill, the write times out.
        let started = std::time::Instant::now();
        let r = block_on_thread(async {
            for _ in 0..256 {
                server.send(&chunk).await?;
            }
            server.flush().await
        });
        assert!(r.is_err(), "256 MiB went into a peer that reads nothing");
        // The socket takes a few MiB, then each wait ends after 1 s of nothing taken (the
        // kernel may take a little more once or twice before).
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let e = server.last_error().unwrap();
        assert!(e.is_timeout(), "{e}");
        assert!(e.to_string().contains("took nothing"), "{e}");
        drop(client);
    });
}

#[test]
fn a_text_message_and_the_owner_s_close_end_the_connection_with_their_errors() {
    within(Duration::from_secs(60), || {
        let key = OwnerKey::generate();
        let (_tls, _ws, mut client, mut server) = connected("ws text", &key);
        client.send_text("hello");
        assert!(block_on_thread(server.recv(&mut [0u8; 4])).is_err());
        let e = server.last_error().unwrap();
        assert!(matches!(e, NetError::WebSocket { .. }), "{e}");
        assert!(e.to_string().contains("a text message"), "{e}");
        // Every later call fails the same way.
        assert!(block_on_thread(server.send(&[1])).is_err());

        let (_tls, _ws, client, mut server) = connected("ws close", &key);
        client.close();
        assert!(block_on_thread(server.recv(&mut [0u8; 4])).is_err());
        let e = server.last_error().unwrap();
        assert!(e.is_orderly_close(), "{e}");
    });
}
