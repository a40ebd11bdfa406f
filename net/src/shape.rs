//! A shaping transport: latency and bandwidth emulated in user space, around any transport, for
//! LAN and WAN benchmarks on one machine (`tc netem` is not available).
//!
//! Both ends of a connection wrap their transport in a [`Shaped`] with the same [`Shape`]; each
//! shapes the direction it sends. The sender gathers bytes into chunks (sent when 16 KiB fill or
//! at a flush) and stamps each with the time its last byte would arrive over the emulated link:
//! transmission starts when the link is free (chunks queue behind each other at the bandwidth),
//! takes `len / bandwidth`, and the chunk arrives `latency` later. The receiver hands a chunk's
//! bytes on only once that time has come, sleeping until then. The chunk header (arrival time,
//! length: 12 bytes) is below the core's counters, which see only the protocol's bytes.
//!
//! The stamps are wall-clock times (`SystemTime`), so both ends must share a clock: one machine
//! (the benchmarks on 127.0.0.1), or clocks synchronized far better than the latency. Waiting
//! sleeps the thread: run each party on a thread of its own ([`fixshare::block_on_thread`]).
//! Sleeps overshoot by the scheduler's granularity (tens of microseconds), which later chunks
//! absorb since their stamps are absolute.

use crate::error::code;
use fixshare::{Transport, TransportError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Payload bytes gathered into one chunk before it is stamped and sent.
pub const CHUNK: usize = 16 * 1024;

const HEADER: usize = 12;

/// One direction of an emulated link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// One-way delay.
    pub latency: Duration,
    /// Bytes per second, or `None` for no limit.
    pub bandwidth: Option<u64>,
}

impl Shape {
    /// SecureNN's LAN setting: 625 MB/s and a 0.22 ms ping, taken as the round trip (0.11 ms
    /// each way).
    pub const LAN: Shape = Shape {
        latency: Duration::from_micros(110),
        bandwidth: Some(625_000_000),
    };

    /// SecureNN's WAN setting: 40 MB/s and a 58 ms ping, taken as the round trip (29 ms each
    /// way).
    pub const WAN: Shape = Shape {
        latency: Duration::from_millis(29),
        bandwidth: Some(40_000_000),
    };

    /// A link with round-trip time `ping` (half of it each way) and `bandwidth` bytes per second.
    pub fn from_ping(ping: Duration, bandwidth: Option<u64>) -> Shape {
        Shape {
            latency: ping / 2,
            bandwidth,
        }
    }

    /// Nanoseconds to transmit `len` bytes.
    fn transmit_ns(&self, len: usize) -> u64 {
        match self.bandwidth {
            Some(b) if b > 0 => ((len as u128 * 1_000_000_000) / u128::from(b)) as u64,
            _ => 0,
        }
    }
}

/// What a [`Shaped`] transport did, for checks and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShapeStats {
    /// Chunks sent.
    pub chunks_sent: u64,
    /// Chunks received.
    pub chunks_received: u64,
    /// Received chunks that had to be held back (they would not have arrived yet).
    pub waits: u64,
    /// Total time spent holding chunks back.
    pub waited: Duration,
    /// Sum over sent chunks of the emulated delay given to each (queueing, transmission and
    /// latency), from the moment it was sent.
    pub emulated_delay: Duration,
}

/// A transport with the latency and bandwidth of [`Shape`] added to the direction it sends.
pub struct Shaped<T> {
    inner: T,
    shape: Shape,
    max_wait: Duration,
    out: Vec<u8>,
    /// When the emulated link finishes sending what was handed to it (ns since the epoch).
    link_free: u64,
    inbuf: Box<[u8]>,
    in_pos: usize,
    in_len: usize,
    stats: ShapeStats,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl<T> Shaped<T> {
    /// Wraps `inner`; the peer must wrap its end with the same shape. A chunk stamped to arrive
    /// more than 300 s ahead is refused (see [`Shaped::with_max_wait`]).
    pub fn new(inner: T, shape: Shape) -> Shaped<T> {
        Shaped {
            inner,
            shape,
            max_wait: Duration::from_secs(300),
            out: Vec::with_capacity(CHUNK),
            link_free: 0,
            inbuf: vec![0u8; CHUNK].into_boxed_slice(),
            in_pos: 0,
            in_len: 0,
            stats: ShapeStats::default(),
        }
    }

    /// The same transport refusing chunks stamped to arrive more than `max_wait` from now
    /// (a peer with a wrong clock or wrong stamps then gives an error, not a hang).
    pub fn with_max_wait(mut self, max_wait: Duration) -> Shaped<T> {
        self.max_wait = max_wait;
        self
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// What it did so far.
    pub fn stats(&self) -> ShapeStats {
        self.stats
    }

    /// The wrapped transport.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped transport.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Gives the wrapped transport back (anything not yet sent is lost).
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: Transport> Shaped<T> {
    /// Stamps and sends the gathered bytes as one chunk.
    async fn emit(&mut self) -> Result<(), TransportError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let now = now_ns();
        let start = now.max(self.link_free);
        let done = start.saturating_add(self.shape.transmit_ns(self.out.len()));
        self.link_free = done;
        let arrival = done.saturating_add(self.shape.latency.as_nanos() as u64);
        let mut h = [0u8; HEADER];
        h[0..8].copy_from_slice(&arrival.to_le_bytes());
        h[8..12].copy_from_slice(&(self.out.len() as u32).to_le_bytes());
        self.inner.send(&h).await?;
        self.inner.send(&self.out).await?;
        self.out.clear();
        self.stats.chunks_sent += 1;
        self.stats.emulated_delay += Duration::from_nanos(arrival.saturating_sub(now));
        Ok(())
    }

    /// Receives the next chunk and holds it until its arrival time.
    async fn next_chunk(&mut self) -> Result<(), TransportError> {
        let mut h = [0u8; HEADER];
        self.inner.recv(&mut h).await?;
        let arrival = u64::from_le_bytes(h[0..8].try_into().unwrap_or([0; 8]));
        let len = u32::from_le_bytes(h[8..12].try_into().unwrap_or([0; 4])) as usize;
        if len == 0 || len > CHUNK {
            return Err(TransportError::Failed(code::SHAPING));
        }
        self.inner.recv(&mut self.inbuf[..len]).await?;
        self.stats.chunks_received += 1;
        let now = now_ns();
        if arrival > now {
            let wait = Duration::from_nanos(arrival - now);
            if wait > self.max_wait {
                return Err(TransportError::Failed(code::SHAPING));
            }
            std::thread::sleep(wait);
            self.stats.waits += 1;
            self.stats.waited += wait;
        }
        self.in_pos = 0;
        self.in_len = len;
        Ok(())
    }
}

impl<T: Transport> Transport for Shaped<T> {
    async fn send(&mut self, mut buf: &[u8]) -> Result<(), TransportError> {
        while !buf.is_empty() {
            let take = (CHUNK - self.out.len()).min(buf.len());
            self.out.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.out.len() == CHUNK {
                self.emit().await?;
            }
        }
        Ok(())
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        if !self.out.is_empty() {
            self.emit().await?;
            self.inner.flush().await?;
        }
        let mut filled = 0;
        while filled < buf.len() {
            if self.in_pos == self.in_len {
                self.next_chunk().await?;
            }
            let n = (self.in_len - self.in_pos).min(buf.len() - filled);
            buf[filled..filled + n].copy_from_slice(&self.inbuf[self.in_pos..self.in_pos + n]);
            self.in_pos += n;
            filled += n;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.emit().await?;
        self.inner.flush().await
    }

    /// The inner transport's window, less the chunk headers it also carries.
    fn send_window(&self) -> usize {
        let w = self.inner.send_window();
        (w / (CHUNK + HEADER) * CHUNK).max(CHUNK.min(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixshare::{block_on_thread, duplex};

    #[test]
    fn bytes_pass_unchanged() {
        let (a, b) = duplex();
        let shape = Shape {
            latency: Duration::from_micros(50),
            bandwidth: Some(1 << 30),
        };
        let (mut a, mut b) = (Shaped::new(a, shape), Shaped::new(b, shape));
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 300) as u8).collect();
        let sent = data.clone();
        let t = std::thread::spawn(move || {
            block_on_thread(async move {
                a.send(&sent[..10]).await.unwrap();
                a.send(&sent[10..]).await.unwrap();
                a.flush().await.unwrap();
                a.stats()
            })
        });
        let mut got = vec![0u8; data.len()];
        block_on_thread(async {
            b.recv(&mut got[..5]).await.unwrap();
            b.recv(&mut got[5..]).await.unwrap();
        });
        let sent_stats = t.join().unwrap();
        assert_eq!(got, data);
        assert_eq!(sent_stats.chunks_sent, data.len().div_ceil(CHUNK) as u64);
        assert_eq!(b.stats().chunks_received, sent_stats.chunks_sent);
    }

    #[test]
    fn bad_chunks_are_errors() {
        // A length over the chunk size, a zero length, and a stamp far in the future.
        for (arrival, len) in [(0u64, CHUNK as u32 + 1), (0, 0), (u64::MAX, 4)] {
            let (mut raw, b) = duplex();
            let mut b = Shaped::new(b, Shape::LAN).with_max_wait(Duration::from_secs(1));
            block_on_thread(async {
                let mut h = [0u8; HEADER];
                h[0..8].copy_from_slice(&arrival.to_le_bytes());
                h[8..12].copy_from_slice(&len.to_le_bytes());
                raw.send(&h).await.unwrap();
                raw.send(&[1, 2, 3, 4]).await.unwrap();
                let mut buf = [0u8; 4];
                assert_eq!(
                    b.recv(&mut buf).await,
                    Err(TransportError::Failed(code::SHAPING))
                );
            });
        }
    }

    /// Ping-pong of one byte: every round trip holds each message for the latency, so the
    /// rounds counted bound the time from below (sleeps never end early); the bound above is
    /// loose.
    #[test]
    fn every_round_trip_takes_twice_the_latency() {
        const ROUNDS: u32 = 20;
        let latency = Duration::from_millis(5);
        let shape = Shape {
            latency,
            bandwidth: None,
        };
        let (a, b) = duplex();
        let (mut a, mut b) = (Shaped::new(a, shape), Shaped::new(b, shape));
        let echo = std::thread::spawn(move || {
            block_on_thread(async move {
                let mut x = [0u8];
                for _ in 0..ROUNDS {
                    b.recv(&mut x).await.unwrap();
                    b.send(&x).await.unwrap();
                    b.flush().await.unwrap();
                }
                b.stats()
            })
        });
        let start = std::time::Instant::now();
        block_on_thread(async {
            for i in 0..ROUNDS {
                a.send(&[i as u8]).await.unwrap();
                a.flush().await.unwrap();
                let mut x = [0u8];
                a.recv(&mut x).await.unwrap();
                assert_eq!(x[0], i as u8);
            }
        });
        let elapsed = start.elapsed();
        let echoed = echo.join().unwrap();
        let floor = latency * 2 * ROUNDS;
        assert!(elapsed >= floor, "{elapsed:?} < {floor:?}");
        assert!(elapsed < floor * 5 + Duration::from_secs(5), "{elapsed:?}");
        // Each side sent one chunk per round and held back (nearly) every chunk it received.
        for s in [a.stats(), echoed] {
            assert_eq!((s.chunks_sent, s.chunks_received), (20, 20));
            assert!(s.emulated_delay >= latency * ROUNDS);
        }
        assert!(a.stats().waits >= u64::from(ROUNDS) / 2, "{:?}", a.stats());
    }

    /// 2 MB at 20 MB/s: the last byte cannot arrive before 100 ms.
    #[test]
    fn bandwidth_limits_the_rate() {
        let shape = Shape {
            latency: Duration::ZERO,
            bandwidth: Some(20_000_000),
        };
        let (a, b) = duplex();
        let (mut a, mut b) = (Shaped::new(a, shape), Shaped::new(b, shape));
        let data = vec![7u8; 2_000_000];
        let start = std::time::Instant::now();
        let sender = std::thread::spawn(move || {
            block_on_thread(async move {
                a.send(&data).await.unwrap();
                a.flush().await.unwrap();
                a.stats()
            })
        });
        let mut got = vec![0u8; 2_000_000];
        block_on_thread(b.recv(&mut got)).unwrap();
        let elapsed = start.elapsed();
        let sent = sender.join().unwrap();
        assert!(got.iter().all(|&x| x == 7));
        assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
        // The sender does not block: the delay is in the stamps, which grow with the queue.
        assert_eq!(sent.chunks_sent, 2_000_000u64.div_ceil(CHUNK as u64));
        assert!(
            sent.emulated_delay >= Duration::from_millis(100),
            "{sent:?}"
        );
    }

    #[test]
    fn transmit_time() {
        let s = Shape {
            latency: Duration::ZERO,
            bandwidth: Some(1_000_000),
        };
        assert_eq!(s.transmit_ns(1000), 1_000_000);
        assert_eq!(Shape::WAN.latency * 2, Duration::from_millis(58));
        assert_eq!(
            Shape::from_ping(Duration::from_micros(220), Some(625_000_000)),
            Shape::LAN
        );
    }
}
