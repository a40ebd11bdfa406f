//! A connection's sending thread: sealed bytes queue up here and a thread of their own writes
//! them to the socket, so a party never waits for its peer to read while it still has bytes to
//! send, up to [`QUEUE`] of them. Both peers of an exchange can then send a whole message before
//! reading the other's: one latency per exchange instead of one per socket buffer
//! ([`fixshare::Transport::send_window`] is [`WINDOW`]).
//!
//! The queue is bounded in bytes: a sender that would pass [`QUEUE`] waits for the thread, up
//! to the write timeout. A socket write that fails or times out (a peer that stopped reading)
//! is recorded, the socket is shut down (which ends a read waiting on it at once), and every
//! later call reports the failure.

use crate::error::NetError;
use std::collections::VecDeque;
use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes queued at most before a sender waits for the socket.
pub(crate) const QUEUE: usize = 32 << 20;

/// What a transport with a sending thread may send ahead of reading: half the queue, leaving
/// room for TLS's record overhead and the core's frame headers.
pub(crate) const WINDOW: usize = QUEUE / 2;

struct State {
    queue: VecDeque<Vec<u8>>,
    bytes: usize,
    /// No more bytes will come: the thread ends once the queue is written.
    closing: bool,
    /// The thread has ended (queue written, or a failure).
    ended: bool,
    /// A sender waits for room in the queue (the thread wakes it after each write).
    full: bool,
    /// A write failed: every call fails from now on.
    broken: bool,
    /// Why, until a call has reported it.
    failure: Option<NetError>,
    /// What later calls report: how the peer closed the connection, if that was the failure,
    /// so that every call names the same cause.
    later: &'static str,
}

impl State {
    /// The failure, once; later calls get the same close, or a plain "ended" error.
    fn take_failure(&mut self) -> NetError {
        match self.failure.take() {
            Some(e) => {
                if let NetError::Closed { detail } = e {
                    self.later = detail;
                }
                e
            }
            None => NetError::Closed { detail: self.later },
        }
    }
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent if a thread panicked while holding it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the next change of the state until `deadline`; `None` once it has passed.
    fn wait_until<'a>(
        &self,
        s: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> Option<MutexGuard<'a, State>> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let waited = self.changed.wait_timeout(s, left);
        Some(waited.unwrap_or_else(|e| e.into_inner()).0)
    }
}

/// The sending side of one connection.
pub(crate) struct Sender {
    shared: Arc<Shared>,
    /// A clone of the socket the thread writes to: its write timeout is the thread's, and
    /// shutting it down ends the thread's write.
    sock: TcpStream,
    write_timeout: Duration,
    thread: Option<JoinHandle<()>>,
}

impl Sender {
    /// Starts the thread, writing to a clone of `sock`; each socket write may block up to
    /// `write_timeout`.
    pub(crate) fn start(sock: &TcpStream, write_timeout: Duration) -> Result<Sender, NetError> {
        let out = sock
            .try_clone()
            .map_err(|e| NetError::io("clone the socket for its sending thread", e))?;
        out.set_write_timeout(Some(write_timeout))
            .map_err(|e| NetError::io("set the write timeout", e))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                bytes: 0,
                closing: false,
                ended: false,
                full: false,
                broken: false,
                failure: None,
                later: "the connection's sending thread ended after a failure",
            }),
            changed: Condvar::new(),
        });
        let theirs = shared.clone();
        let name = match sock.peer_addr() {
            Ok(a) => format!("fixshare-net sender {a}"),
            Err(_) => "fixshare-net sender".into(),
        };
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || run(&theirs, out, write_timeout))
            .map_err(|e| NetError::io("start a connection's sending thread", e))?;
        Ok(Sender {
            shared,
            sock: sock
                .try_clone()
                .map_err(|e| NetError::io("clone the socket", e))?,
            write_timeout,
            thread: Some(thread),
        })
    }

    /// Each socket write, and each wait for room in the queue, may take up to `t` from now on.
    pub(crate) fn set_write_timeout(&mut self, t: Duration) -> Result<(), NetError> {
        self.sock
            .set_write_timeout(Some(t))
            .map_err(|e| NetError::io("set the write timeout", e))?;
        self.write_timeout = t;
        Ok(())
    }

    /// The failure that ended the thread, if one did.
    pub(crate) fn failure(&self) -> Option<NetError> {
        let mut s = self.shared.lock();
        s.broken.then(|| s.take_failure())
    }

    /// Queues `bytes`, waiting (up to the write timeout) while the queue is full.
    pub(crate) fn send(&self, bytes: Vec<u8>) -> Result<(), NetError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + self.write_timeout;
        let mut s = self.shared.lock();
        loop {
            if s.broken {
                return Err(s.take_failure());
            }
            if s.closing {
                return Err(NetError::Closed {
                    detail: "this side closed the connection",
                });
            }
            // An empty queue takes any length, so one long message cannot wait forever.
            if s.bytes == 0 || s.bytes + bytes.len() <= QUEUE {
                break;
            }
            s.full = true;
            s = self
                .shared
                .wait_until(s, deadline)
                .ok_or(NetError::Timeout {
                    op: "write",
                    after: self.write_timeout,
                })?;
        }
        s.full = false;
        s.bytes += bytes.len();
        s.queue.push_back(bytes);
        // The thread waits only on an empty queue.
        if s.queue.len() == 1 {
            self.shared.changed.notify_all();
        }
        Ok(())
    }

    /// No more bytes: waits up to `limit` for the thread to write what is queued. Returns the
    /// failure that ended it, if any; on timeout the socket is shut down.
    pub(crate) fn finish(&mut self, limit: Duration) -> Result<(), NetError> {
        let deadline = Instant::now() + limit;
        let mut s = self.shared.lock();
        s.closing = true;
        self.shared.changed.notify_all();
        while !s.ended {
            let Some(later) = self.shared.wait_until(s, deadline) else {
                self.stop();
                return Err(NetError::Timeout {
                    op: "write",
                    after: limit,
                });
            };
            s = later;
        }
        let failed = s.broken.then(|| s.take_failure());
        drop(s);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        failed.map_or(Ok(()), Err)
    }

    /// Drops what is queued and shuts the socket down: the thread ends at once.
    pub(crate) fn stop(&mut self) {
        {
            let mut s = self.shared.lock();
            s.closing = true;
            s.queue.clear();
            s.bytes = 0;
            self.shared.changed.notify_all();
        }
        let _ = self.sock.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}

/// The thread: writes queued bytes in order until the queue is closed and empty, or a write
/// fails.
fn run(shared: &Shared, mut sock: TcpStream, write_timeout: Duration) {
    loop {
        let next = {
            let mut s = shared.lock();
            loop {
                if let Some(b) = s.queue.pop_front() {
                    break Some(b);
                }
                if s.closing {
                    break None;
                }
                s = shared.changed.wait(s).unwrap_or_else(|e| e.into_inner());
            }
        };
        let Some(bytes) = next else {
            break;
        };
        let written = write_all(&mut sock, &bytes, write_timeout);
        let mut s = shared.lock();
        s.bytes = s.bytes.saturating_sub(bytes.len());
        if let Err(e) = written {
            s.broken = true;
            s.failure = Some(e);
            s.queue.clear();
            s.bytes = 0;
            drop(s);
            // A read waiting on this socket ends now instead of at its own timeout.
            let _ = sock.shutdown(Shutdown::Both);
            break;
        }
        if s.full {
            shared.changed.notify_all();
        }
    }
    let mut s = shared.lock();
    s.ended = true;
    shared.changed.notify_all();
}

fn write_all(sock: &mut TcpStream, mut bytes: &[u8], timeout: Duration) -> Result<(), NetError> {
    while !bytes.is_empty() {
        match sock.write(bytes) {
            Ok(0) => {
                return Err(NetError::Closed {
                    detail: "the connection no longer takes data",
                });
            }
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(NetError::Timeout {
                    op: "write",
                    after: timeout,
                });
            }
            Err(e) => return Err(NetError::socket("write", Duration::ZERO, e)),
        }
    }
    Ok(())
}
