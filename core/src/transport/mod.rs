//! I/O: the [`Transport`] trait the host implements, and [`Channel`], which frames, checks and
//! counts every protocol message on top of it.
//!
//! A transport moves exact-length byte strings; it knows nothing of protocols. A channel adds a
//! checked 8-byte header to each frame — operation tag (u16), sequence number (u16), payload length
//! (u32), little-endian — and rejects a frame whose tag, sequence or length is not what the protocol
//! step expects, or whose length exceeds the configured maximum, before reading its payload. The
//! receiver always knows how much it expects, so nothing is ever allocated at the peer's request.

#[cfg(feature = "std")]
pub mod memory;

use crate::error::{Error, ErrorKind};
use crate::ring::Ring;

/// Why a transport operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The connection is closed (or the peer went away).
    Closed,
    /// The operation cannot complete now and the transport cannot wait (non-blocking hosts).
    WouldBlock,
    /// Any other failure, with a host-defined code.
    Failed(i32),
}

impl From<TransportError> for ErrorKind {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Closed => ErrorKind::Closed,
            TransportError::WouldBlock => ErrorKind::WouldBlock,
            TransportError::Failed(code) => ErrorKind::Transport(code),
        }
    }
}

/// A reliable, ordered byte stream to one peer, supplied by the host (a socket, a C callback,
/// a JS `MessagePort`, a UART).
///
/// Futures need not be `Send`, so single-threaded executors and wasm work. A blocking host can
/// complete every call at once; [`crate::block_on`] then finishes a whole protocol in one poll.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends all of `buf`. Cancelling the future may leave part of `buf` sent.
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError>;
    /// Receives exactly `buf.len()` bytes into `buf`. Cancelling may leave part of `buf` filled.
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError>;
    /// Pushes out anything buffered. Called before every wait for the peer.
    async fn flush(&mut self) -> Result<(), TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        (**self).send(buf).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        (**self).recv(buf).await
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        (**self).flush().await
    }
}

/// Communication counters of one channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes sent, headers included.
    pub bytes_sent: u64,
    /// Bytes received, headers included.
    pub bytes_received: u64,
    /// Frames sent.
    pub frames_sent: u64,
    /// Communication rounds: the number of times this side waited for the peer after sending
    /// (a message received after one or more sent). A vectorized protocol step costs one.
    pub rounds: u64,
}

impl core::ops::Add for Stats {
    type Output = Stats;
    fn add(self, o: Stats) -> Stats {
        Stats {
            bytes_sent: self.bytes_sent + o.bytes_sent,
            bytes_received: self.bytes_received + o.bytes_received,
            frames_sent: self.frames_sent + o.frames_sent,
            rounds: self.rounds + o.rounds,
        }
    }
}

/// Size of a frame header in bytes.
pub const HEADER_LEN: usize = 8;

/// Default maximum payload of one frame: 64 MiB. Longer messages are split into several frames.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Chunk size for encoding ring elements on the stack (small, for embedded stacks).
const CHUNK: usize = 1024;

/// Chunk size for encoding in exchanges (host-side protocols; data owners never exchange).
const EXCHANGE_CHUNK: usize = 8 * 1024;

/// Bytes each side sends before it reads the same amount in [`Channel::exchange_ring_with`].
pub const INTERLEAVE: usize = 32 * 1024;

/// Operation tags: which protocol step a frame belongs to.
pub mod tag {
    /// A party hands its peer the share of its own input.
    pub const INPUT: u16 = 0x0101;
    /// Opening shares so that both parties learn a value.
    pub const OPEN: u16 = 0x0102;
    /// Beaver multiplication: the masked operands.
    pub const BEAVER: u16 = 0x0103;
    /// Matrix product: the masked matrices.
    pub const MATMUL: u16 = 0x0104;
    /// Squaring: the masked operand.
    pub const SQUARE: u16 = 0x0105;
    /// Truncation with a truncation pair: the masked value.
    pub const TRUNC_PAIR: u16 = 0x0106;
    /// Revealing a value to one party only.
    pub const REVEAL_TO: u16 = 0x0107;
    /// Dealer: a party's seed.
    pub const DEALER_SEED: u16 = 0x0201;
    /// Dealer: a request for correlations.
    pub const DEALER_REQUEST: u16 = 0x0202;
    /// Dealer: corrections for party 1.
    pub const DEALER_CORRECTION: u16 = 0x0203;
    /// Data owner: the seed for server 0.
    pub const OWNER_SEED: u16 = 0x0301;
    /// Data owner: the masked values for server 1.
    pub const OWNER_MASKED: u16 = 0x0302;
    /// Data owner: a server's share of an output.
    pub const OWNER_OUTPUT: u16 = 0x0303;
}

/// A framed, checked and counted connection to one peer over a [`Transport`].
pub struct Channel<T> {
    io: T,
    max_frame: usize,
    seq_out: u16,
    seq_in: u16,
    /// A message was sent since this side last received one.
    sent: bool,
    /// Bytes were written since the last flush.
    dirty: bool,
    stats: Stats,
}

impl<T: Transport> Channel<T> {
    /// A channel with the default maximum frame size.
    pub fn new(io: T) -> Self {
        Channel::with_max_frame(io, DEFAULT_MAX_FRAME)
    }

    /// A channel whose frames carry at most `max_frame` payload bytes (at least 64).
    pub fn with_max_frame(io: T, max_frame: usize) -> Self {
        Channel {
            io,
            max_frame: max_frame.clamp(64, u32::MAX as usize),
            seq_out: 0,
            seq_in: 0,
            sent: false,
            dirty: false,
            stats: Stats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The maximum payload of one frame.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// The transport, for example to close it.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.io
    }

    fn start_message(&mut self) {
        self.sent = true;
    }

    /// Counts a round when a received message answers something this side sent.
    fn end_receive(&mut self) {
        if self.sent {
            self.stats.rounds += 1;
            self.sent = false;
        }
    }

    async fn raw_send(&mut self, op: &'static str, buf: &[u8]) -> Result<(), Error> {
        self.dirty = true;
        self.io
            .send(buf)
            .await
            .map_err(|e| Error::new(op, e.into()))?;
        self.stats.bytes_sent += buf.len() as u64;
        Ok(())
    }

    async fn raw_recv(&mut self, op: &'static str, buf: &mut [u8]) -> Result<(), Error> {
        if self.dirty {
            self.io
                .flush()
                .await
                .map_err(|e| Error::new(op, e.into()))?;
            self.dirty = false;
        }
        self.io
            .recv(buf)
            .await
            .map_err(|e| Error::new(op, e.into()))?;
        self.stats.bytes_received += buf.len() as u64;
        Ok(())
    }

    /// Flushes the transport.
    pub async fn flush(&mut self, op: &'static str) -> Result<(), Error> {
        self.dirty = false;
        self.io.flush().await.map_err(|e| Error::new(op, e.into()))
    }

    async fn send_header(&mut self, op: &'static str, tag: u16, len: usize) -> Result<(), Error> {
        if len > self.max_frame {
            return Err(Error::new(
                op,
                ErrorKind::FrameTooLarge {
                    len,
                    max: self.max_frame,
                },
            ));
        }
        let mut h = [0u8; HEADER_LEN];
        h[0..2].copy_from_slice(&tag.to_le_bytes());
        h[2..4].copy_from_slice(&self.seq_out.to_le_bytes());
        h[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        self.seq_out = self.seq_out.wrapping_add(1);
        self.stats.frames_sent += 1;
        self.raw_send(op, &h).await
    }

    /// Reads a header and checks it against the expected tag, sequence and length.
    async fn recv_header(&mut self, op: &'static str, tag: u16, len: usize) -> Result<(), Error> {
        let mut h = [0u8; HEADER_LEN];
        self.raw_recv(op, &mut h).await?;
        let got_tag = u16::from_le_bytes([h[0], h[1]]);
        let got_seq = u16::from_le_bytes([h[2], h[3]]);
        let got_len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        if got_tag != tag {
            return Err(Error::new(
                op,
                ErrorKind::UnexpectedTag {
                    expected: tag,
                    got: got_tag,
                },
            ));
        }
        if got_seq != self.seq_in {
            return Err(Error::new(
                op,
                ErrorKind::BadSequence {
                    expected: self.seq_in,
                    got: got_seq,
                },
            ));
        }
        if got_len > self.max_frame {
            return Err(Error::new(
                op,
                ErrorKind::FrameTooLarge {
                    len: got_len,
                    max: self.max_frame,
                },
            ));
        }
        if got_len != len {
            return Err(Error::new(
                op,
                ErrorKind::UnexpectedLength {
                    expected: len,
                    got: got_len,
                },
            ));
        }
        self.seq_in = self.seq_in.wrapping_add(1);
        Ok(())
    }

    /// Sends `payload` as one frame tagged `tag`; `op` names the operation in errors.
    pub async fn send_frame(
        &mut self,
        op: &'static str,
        tag: u16,
        payload: &[u8],
    ) -> Result<(), Error> {
        self.start_message();
        self.send_header(op, tag, payload.len()).await?;
        self.raw_send(op, payload).await
    }

    /// Receives one frame tagged `tag` whose payload must be exactly `buf.len()` bytes.
    pub async fn recv_frame(
        &mut self,
        op: &'static str,
        tag: u16,
        buf: &mut [u8],
    ) -> Result<(), Error> {
        self.recv_header(op, tag, buf.len()).await?;
        self.raw_recv(op, buf).await?;
        self.end_receive();
        Ok(())
    }

    /// The frame payload sizes (in elements) that a message of `n` ring elements is split into.
    fn frame_elems<R: Ring>(&self) -> usize {
        (self.max_frame / R::BYTES).max(1)
    }

    /// Sends ring elements as one message (split into frames of at most `max_frame` bytes).
    pub async fn send_ring<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        xs: &[R],
    ) -> Result<(), Error> {
        self.send_ring_from(op, tag, xs.len(), |i| xs[i]).await
    }

    /// Sends `n` ring elements produced one by one: `element(i)` gives element `i`, called in
    /// order. Framed exactly like [`Channel::send_ring`]; needs no allocation.
    pub async fn send_ring_from<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        n: usize,
        mut element: impl FnMut(usize) -> R,
    ) -> Result<(), Error> {
        self.start_message();
        let per = self.frame_elems::<R>();
        let mut buf = [0u8; CHUNK];
        let step = CHUNK / R::BYTES;
        for f in 0..n.div_ceil(per).max(1) {
            let (start, end) = ((f * per).min(n), ((f + 1) * per).min(n));
            self.send_header(op, tag, (end - start) * R::BYTES).await?;
            let mut at = start;
            while at < end {
                let len = step.min(end - at);
                for (j, b) in buf[..len * R::BYTES].chunks_exact_mut(R::BYTES).enumerate() {
                    element(at + j).write_le(b);
                }
                self.raw_send(op, &buf[..len * R::BYTES]).await?;
                at += len;
            }
        }
        Ok(())
    }

    /// Receives exactly `out.len()` ring elements sent by [`Channel::send_ring`].
    pub async fn recv_ring<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        out: &mut [R],
    ) -> Result<(), Error> {
        let n = out.len();
        self.recv_ring_with(op, tag, n, |i, x| out[i] = x).await
    }

    /// Receives `n` ring elements sent by [`Channel::send_ring`], handing element `i` to
    /// `take(i, x)` in order; needs no allocation.
    pub async fn recv_ring_with<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        n: usize,
        mut take: impl FnMut(usize, R),
    ) -> Result<(), Error> {
        let per = self.frame_elems::<R>();
        let mut buf = [0u8; CHUNK];
        let step = CHUNK / R::BYTES;
        for f in 0..n.div_ceil(per).max(1) {
            let (start, end) = ((f * per).min(n), ((f + 1) * per).min(n));
            self.recv_header(op, tag, (end - start) * R::BYTES).await?;
            let mut at = start;
            while at < end {
                let len = step.min(end - at);
                let bytes = &mut buf[..len * R::BYTES];
                self.raw_recv(op, bytes).await?;
                for (j, b) in bytes.chunks_exact(R::BYTES).enumerate() {
                    take(at + j, R::from_le_slice(b));
                }
                at += len;
            }
        }
        self.end_receive();
        Ok(())
    }

    /// Sends `mine` and receives `theirs` (both parties call this with the same lengths swapped):
    /// one round. See [`Channel::exchange_ring_with`].
    pub async fn exchange_ring<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        mine: &[R],
        theirs: &mut [R],
    ) -> Result<(), Error> {
        let n = theirs.len();
        self.exchange_ring_with(op, tag, mine.len(), |i| mine[i], n, |i, x| theirs[i] = x)
            .await
    }

    /// Sends `n_send` elements produced by `element(i)` and receives `n_recv` elements handed to
    /// `take(i, x)`, both in order: one round. The two directions are interleaved in units of
    /// [`INTERLEAVE`] bytes, so blocking peers exchanging long messages cannot deadlock as long as
    /// their connection buffers one unit.
    pub async fn exchange_ring_with<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        n_send: usize,
        mut element: impl FnMut(usize) -> R,
        n_recv: usize,
        mut take: impl FnMut(usize, R),
    ) -> Result<(), Error> {
        self.start_message();
        let per = self.frame_elems::<R>();
        let mut buf = [0u8; EXCHANGE_CHUNK];
        let step = EXCHANGE_CHUNK / R::BYTES;
        let unit = INTERLEAVE / R::BYTES;
        for f in 0..n_send.max(n_recv).div_ceil(per).max(1) {
            let (s_start, s_end) = ((f * per).min(n_send), ((f + 1) * per).min(n_send));
            let (r_start, r_end) = ((f * per).min(n_recv), ((f + 1) * per).min(n_recv));
            self.send_header(op, tag, (s_end - s_start) * R::BYTES)
                .await?;
            self.recv_header(op, tag, (r_end - r_start) * R::BYTES)
                .await?;
            let (mut s, mut r) = (s_start, r_start);
            while s < s_end || r < r_end {
                let s_unit = (s + unit).min(s_end);
                while s < s_unit {
                    let len = step.min(s_unit - s);
                    for (j, b) in buf[..len * R::BYTES].chunks_exact_mut(R::BYTES).enumerate() {
                        element(s + j).write_le(b);
                    }
                    self.raw_send(op, &buf[..len * R::BYTES]).await?;
                    s += len;
                }
                let r_unit = (r + unit).min(r_end);
                while r < r_unit {
                    let len = step.min(r_unit - r);
                    let bytes = &mut buf[..len * R::BYTES];
                    self.raw_recv(op, bytes).await?;
                    for (j, b) in bytes.chunks_exact(R::BYTES).enumerate() {
                        take(r + j, R::from_le_slice(b));
                    }
                    r += len;
                }
            }
        }
        self.end_receive();
        Ok(())
    }
}
