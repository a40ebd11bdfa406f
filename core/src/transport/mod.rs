//! I/O: the [`Transport`] trait the host implements; [`Link`], one connection to one peer,
//! multiplexed into numbered sub-channels ([`Sub`]); and [`Channel`], a sub-channel's view that
//! frames, checks and counts every protocol message.
//!
//! A transport moves exact-length byte strings; it knows nothing of protocols. A link carries the
//! online phase, the OT offline phase and garbled-circuit streams over one connection, each on its
//! own sub-channel with its own sequence numbers and counters. Every frame has a checked 10-byte
//! header — operation tag (u16), sub-channel (u8), a zero byte, sequence number (u16), payload
//! length (u32), little-endian — and a frame whose tag, sub-channel, sequence or length is not what
//! the protocol step expects, or whose length exceeds the configured maximum, is rejected before
//! its payload is read. The receiver always knows how much it expects, so nothing is ever
//! allocated at the peer's request.
//!
//! Both ends of a link run the same sequence of protocol steps, so frames of different
//! sub-channels arrive in the order they are read: a frame for another sub-channel than the one
//! being read means the parties are out of step ([`ErrorKind::UnexpectedChannel`]).

#[cfg(feature = "std")]
pub mod memory;

use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
#[cfg(feature = "alloc")]
use alloc::vec;

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
    /// How many bytes this side may send ahead of reading when both peers send at once (see
    /// [`Channel::exchange_ring_with`]) with no risk that both wait on full buffers: what the
    /// connection is sure to buffer. The default, [`INTERLEAVE`], suits a socket; a transport
    /// whose sends never wait for the peer to read (an unbounded queue, a writer thread) may
    /// return more, up to `usize::MAX`: an exchange costs one latency per window it sends.
    fn send_window(&self) -> usize {
        INTERLEAVE
    }
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
    fn send_window(&self) -> usize {
        (**self).send_window()
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
pub const HEADER_LEN: usize = 10;

/// Default maximum payload of one frame: 64 MiB. Longer messages are split into several frames.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Chunk size for encoding ring elements on the stack (small, for embedded stacks).
const CHUNK: usize = 1024;

/// Chunk size for encoding in exchanges (host-side protocols; data owners never exchange).
#[cfg(feature = "alloc")]
const EXCHANGE_CHUNK: usize = 8 * 1024;

/// Elements in one piece of [`Channel::exchange_ring_with`].
#[cfg(feature = "alloc")]
pub const PIECE: usize = 256;

/// Bytes each side sends before it reads the same amount in [`Channel::exchange_ring_with`].
pub const INTERLEAVE: usize = 32 * 1024;

/// Operation tags: which protocol step a frame belongs to. The registry: each module owns one
/// range of 256 tags (its high byte), so tags never collide across modules:
///
/// | range | module |
/// |---|---|
/// | `0x01xx` | online arithmetic ([`crate::arith`]; here) |
/// | `0x02xx` | the dealer ([`crate::correlated::dealer`]; here) |
/// | `0x03xx` | data owners ([`crate::data_owner`]; here) |
/// | `0x04xx` | garbled circuits ([`crate::gc::tag`]) |
/// | `0x05xx` | oblivious transfer and the OT offline phase ([`crate::ot::tag`]) |
/// | `0x06xx` | ML data submissions ([`crate::ml::share`]) |
/// | `0x07xx` | the helper's protocols, SecureNN ([`crate::helper::tag`]) |
/// | `0x09xx` | function-secret-sharing gates ([`crate::fss::tag`]) |
/// | `0x0axx` | weight sharing, SNT and FNT ([`crate::weights::tag`]) |
/// | `0x08xx`, `0x0bxx` .. `0x0fxx` | reserved for the assistant (PrivPy) protocols |
pub mod tag {
    /// The module that owns `tag`, by the registry above.
    pub fn module(tag: u16) -> Option<&'static str> {
        Some(match tag >> 8 {
            0x01 => "arith",
            0x02 => "dealer",
            0x03 => "data_owner",
            0x04 => "gc",
            0x05 => "ot",
            0x06 => "ml",
            0x07 => "helper",
            0x09 => "fss",
            0x0a => "weights",
            _ => return None,
        })
    }

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
    /// Opening a value shared among all parties of a topology.
    pub const OPEN_ALL: u16 = 0x0108;
    /// Dealer: a party's seed.
    pub const DEALER_SEED: u16 = 0x0201;
    /// Dealer: a request for correlations.
    pub const DEALER_REQUEST: u16 = 0x0202;
    /// Dealer: corrections for party 1.
    pub const DEALER_CORRECTION: u16 = 0x0203;
    /// Dealer: correction words of function-secret-sharing keys, for both parties.
    pub const DEALER_KEYS: u16 = 0x0204;
    /// Data owner: the seed for server 0.
    pub const OWNER_SEED: u16 = 0x0301;
    /// Data owner: the masked values for server 1.
    pub const OWNER_MASKED: u16 = 0x0302;
    /// Data owner: a server's share of an output.
    pub const OWNER_OUTPUT: u16 = 0x0303;
}

/// A sub-channel of a [`Link`]: which part of a protocol a frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Sub {
    /// The online phase: inputs, openings, products, data owners' submissions.
    Online = 0,
    /// The offline phase: requests to a dealer, base OTs and OT extension between the parties.
    Offline = 1,
    /// Garbled-circuit streams: input labels, tables, output decoding.
    Circuits = 2,
}

impl Sub {
    /// Every sub-channel, in the order of their numbers.
    pub const ALL: [Sub; SUBCHANNELS] = [Sub::Online, Sub::Offline, Sub::Circuits];
}

/// Number of sub-channels of a link.
pub const SUBCHANNELS: usize = 3;

/// Framing state and counters of one sub-channel.
#[derive(Clone, Copy, Debug, Default)]
struct SubState {
    seq_out: u16,
    seq_in: u16,
    stats: Stats,
}

/// One connection to one peer over a [`Transport`], multiplexed into [`Sub`]-channels.
pub struct Link<T> {
    io: T,
    max_frame: usize,
    /// Bytes were written since the last flush.
    dirty: bool,
    /// A message was sent since this link last received one (a round is a wait for the peer,
    /// whichever sub-channel it happens on).
    sent: bool,
    /// Transport calls attempted (successful or not): tells whether anything reached the wire.
    activity: u64,
    subs: [SubState; SUBCHANNELS],
}

impl<T> Link<T> {
    /// A link with the default maximum frame size.
    pub fn new(io: T) -> Self {
        Link::with_max_frame(io, DEFAULT_MAX_FRAME)
    }

    /// A link whose frames carry at most `max_frame` payload bytes (at least 64).
    pub fn with_max_frame(io: T, max_frame: usize) -> Self {
        Link {
            io,
            max_frame: max_frame.clamp(64, u32::MAX as usize),
            dirty: false,
            sent: false,
            activity: 0,
            subs: [SubState::default(); SUBCHANNELS],
        }
    }

    /// The counters of all sub-channels together.
    pub fn stats(&self) -> Stats {
        self.subs
            .iter()
            .fold(Stats::default(), |acc, s| acc + s.stats)
    }

    /// The counters of one sub-channel.
    pub fn sub_stats(&self, sub: Sub) -> Stats {
        self.subs[sub as usize].stats
    }

    /// The number of transport calls attempted so far, failed ones included: unchanged across a
    /// call means nothing was sent or received.
    pub fn activity(&self) -> u64 {
        self.activity
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

    /// Flushes the transport if anything was written since the last flush (a no-op otherwise).
    pub async fn flush_pending(&mut self, op: &'static str) -> Result<(), Error>
    where
        T: Transport,
    {
        if !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        self.activity += 1;
        self.io.flush().await.map_err(|e| Error::new(op, e.into()))
    }

    /// The view of sub-channel `sub` through which frames are sent and received.
    pub fn channel(&mut self, sub: Sub) -> Channel<'_, T> {
        Channel { link: self, sub }
    }
}

/// A framed, checked and counted view of one sub-channel of a [`Link`].
pub struct Channel<'a, T> {
    link: &'a mut Link<T>,
    sub: Sub,
}

impl<T: Transport> Channel<'_, T> {
    /// The counters of this sub-channel so far.
    pub fn stats(&self) -> Stats {
        self.link.sub_stats(self.sub)
    }

    /// The maximum payload of one frame.
    pub fn max_frame(&self) -> usize {
        self.link.max_frame
    }

    fn state(&mut self) -> &mut SubState {
        &mut self.link.subs[self.sub as usize]
    }

    fn start_message(&mut self) {
        self.link.sent = true;
    }

    /// Counts a round (on this sub-channel) when a received message answers something this side
    /// sent on the link.
    fn end_receive(&mut self) {
        if self.link.sent {
            self.link.sent = false;
            self.state().stats.rounds += 1;
        }
    }

    async fn raw_send(&mut self, op: &'static str, buf: &[u8]) -> Result<(), Error> {
        self.link.dirty = true;
        self.link.activity += 1;
        self.link
            .io
            .send(buf)
            .await
            .map_err(|e| Error::new(op, e.into()))?;
        self.state().stats.bytes_sent += buf.len() as u64;
        Ok(())
    }

    async fn raw_recv(&mut self, op: &'static str, buf: &mut [u8]) -> Result<(), Error> {
        self.link.activity += 1;
        if self.link.dirty {
            self.link
                .io
                .flush()
                .await
                .map_err(|e| Error::new(op, e.into()))?;
            self.link.dirty = false;
        }
        self.link
            .io
            .recv(buf)
            .await
            .map_err(|e| Error::new(op, e.into()))?;
        self.state().stats.bytes_received += buf.len() as u64;
        Ok(())
    }

    /// Flushes the transport.
    pub async fn flush(&mut self, op: &'static str) -> Result<(), Error> {
        self.link.dirty = false;
        self.link.activity += 1;
        self.link
            .io
            .flush()
            .await
            .map_err(|e| Error::new(op, e.into()))
    }

    async fn send_header(&mut self, op: &'static str, tag: u16, len: usize) -> Result<(), Error> {
        let max = self.link.max_frame;
        if len > max {
            return Err(Error::new(op, ErrorKind::FrameTooLarge { len, max }));
        }
        let sub = self.sub as u8;
        let state = self.state();
        let mut h = [0u8; HEADER_LEN];
        h[0..2].copy_from_slice(&tag.to_le_bytes());
        h[2] = sub;
        h[4..6].copy_from_slice(&state.seq_out.to_le_bytes());
        h[6..10].copy_from_slice(&(len as u32).to_le_bytes());
        state.seq_out = state.seq_out.wrapping_add(1);
        state.stats.frames_sent += 1;
        self.raw_send(op, &h).await
    }

    /// Reads a header and checks it against the expected tag, sequence and length.
    async fn recv_header(&mut self, op: &'static str, tag: u16, len: usize) -> Result<(), Error> {
        let mut h = [0u8; HEADER_LEN];
        self.raw_recv(op, &mut h).await?;
        let got_tag = u16::from_le_bytes([h[0], h[1]]);
        let (got_sub, reserved) = (h[2], h[3]);
        let got_seq = u16::from_le_bytes([h[4], h[5]]);
        let got_len = u32::from_le_bytes([h[6], h[7], h[8], h[9]]) as usize;
        if got_sub != self.sub as u8 {
            return Err(Error::new(
                op,
                ErrorKind::UnexpectedChannel {
                    expected: self.sub as u8,
                    got: got_sub,
                },
            ));
        }
        if reserved != 0 {
            return Err(Error::new(
                op,
                ErrorKind::Malformed("nonzero reserved byte in a frame header"),
            ));
        }
        if got_tag != tag {
            return Err(Error::new(
                op,
                ErrorKind::UnexpectedTag {
                    expected: tag,
                    got: got_tag,
                },
            ));
        }
        let expected = self.state().seq_in;
        if got_seq != expected {
            return Err(Error::new(
                op,
                ErrorKind::BadSequence {
                    expected,
                    got: got_seq,
                },
            ));
        }
        let max = self.link.max_frame;
        if got_len > max {
            return Err(Error::new(
                op,
                ErrorKind::FrameTooLarge { len: got_len, max },
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
        let state = self.state();
        state.seq_in = state.seq_in.wrapping_add(1);
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
        (self.link.max_frame / R::BYTES).max(1)
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
    #[cfg(feature = "alloc")]
    pub async fn exchange_ring<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        mine: &[R],
        theirs: &mut [R],
    ) -> Result<(), Error> {
        let n = theirs.len();
        self.exchange_ring_with(
            op,
            tag,
            mine.len(),
            |start, out: &mut [R]| out.copy_from_slice(&mine[start..start + out.len()]),
            n,
            |start, values| theirs[start..start + values.len()].copy_from_slice(values),
        )
        .await
    }

    /// Sends `n_send` elements and receives `n_recv`, a piece of at most [`PIECE`] at a time:
    /// `fill(start, out)` writes elements `start..start + out.len()` to send, and
    /// `take(start, values)` gets those received. Both go in order: one round. Whole pieces let
    /// the callers' loops run over slices, which the compiler vectorizes. The two directions are
    /// interleaved in units of the transport's [`Transport::send_window`] bytes, so blocking
    /// peers exchanging long messages cannot deadlock as long as their connection buffers one
    /// unit.
    #[cfg(feature = "alloc")]
    pub async fn exchange_ring_with<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        n_send: usize,
        mut fill: impl FnMut(usize, &mut [R]),
        n_recv: usize,
        mut take: impl FnMut(usize, &[R]),
    ) -> Result<(), Error> {
        self.start_message();
        let per = self.frame_elems::<R>();
        // On the heap: deep protocols' futures already hold much, and unoptimized builds give
        // their poll functions large frames.
        let (mut bytes, mut values) = (vec![0u8; EXCHANGE_CHUNK], vec![R::ZERO; PIECE]);
        let step = EXCHANGE_CHUNK / R::BYTES;
        let unit = (self.link.io.send_window() / R::BYTES).max(step);
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
                    let out = &mut bytes[..len * R::BYTES];
                    for (i, chunk) in out.chunks_mut(PIECE * R::BYTES).enumerate() {
                        let piece = &mut values[..chunk.len() / R::BYTES];
                        fill(s + i * PIECE, piece);
                        for (v, b) in piece.iter().zip(chunk.chunks_exact_mut(R::BYTES)) {
                            v.write_le(b);
                        }
                    }
                    self.raw_send(op, out).await?;
                    s += len;
                }
                let r_unit = (r + unit).min(r_end);
                while r < r_unit {
                    let len = step.min(r_unit - r);
                    let got = &mut bytes[..len * R::BYTES];
                    self.raw_recv(op, got).await?;
                    for (i, chunk) in got.chunks(PIECE * R::BYTES).enumerate() {
                        let piece = &mut values[..chunk.len() / R::BYTES];
                        for (v, b) in piece.iter_mut().zip(chunk.chunks_exact(R::BYTES)) {
                            *v = R::from_le_slice(b);
                        }
                        take(r + i * PIECE, piece);
                    }
                    r += len;
                }
            }
        }
        self.end_receive();
        Ok(())
    }

    /// Sends this party's shares of `n` values and receives the peer's, a piece at a time (one
    /// round): `mine(start, out)` writes the shares of elements `start..start + out.len()`, and
    /// is called again for each piece received, so that `combine(start, theirs, mine)` gets both
    /// shares of the piece with no buffer of either.
    #[cfg(feature = "alloc")]
    pub async fn exchange_shares<R: Ring>(
        &mut self,
        op: &'static str,
        tag: u16,
        n: usize,
        mine: impl Fn(usize, &mut [R]),
        mut combine: impl FnMut(usize, &[R], &[R]),
    ) -> Result<(), Error> {
        #[allow(
            clippy::useless_vec,
            reason = "on the heap, as the exchange's own buffers"
        )]
        let mut again = vec![R::ZERO; PIECE];
        self.exchange_ring_with(op, tag, n, &mine, n, |start, theirs| {
            let again = &mut again[..theirs.len()];
            mine(start, again);
            combine(start, theirs, again);
        })
        .await
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::tag;
    use alloc::vec::Vec;

    /// Every tag lies in its module's range of the registry, and no two tags are equal.
    #[test]
    fn tags_follow_the_registry() {
        use crate::{fss, gc, ml, ot, weights};
        let owned: [(&str, &[u16]); 8] = [
            (
                "arith",
                &[
                    tag::INPUT,
                    tag::OPEN,
                    tag::BEAVER,
                    tag::MATMUL,
                    tag::SQUARE,
                    tag::TRUNC_PAIR,
                    tag::REVEAL_TO,
                    tag::OPEN_ALL,
                ],
            ),
            (
                "dealer",
                &[
                    tag::DEALER_SEED,
                    tag::DEALER_REQUEST,
                    tag::DEALER_CORRECTION,
                    tag::DEALER_KEYS,
                ],
            ),
            (
                "data_owner",
                &[tag::OWNER_SEED, tag::OWNER_MASKED, tag::OWNER_OUTPUT],
            ),
            (
                "gc",
                &[
                    gc::tag::OT_CHOICE,
                    gc::tag::GARBLED,
                    gc::tag::DECODE,
                    gc::tag::OUTPUT,
                ],
            ),
            (
                "ot",
                &[
                    ot::tag::BASE_A,
                    ot::tag::BASE_B,
                    ot::tag::EXT_U,
                    ot::tag::EXT_TAU,
                    ot::tag::TRIPLE_U,
                    ot::tag::TRIPLE_TAU,
                    ot::tag::SQUARE_U,
                    ot::tag::SQUARE_TAU,
                    ot::tag::MATRIX_U,
                    ot::tag::MATRIX_TAU,
                    ot::tag::TRUNC_U,
                    ot::tag::TRUNC_TAU,
                    ot::tag::RANDOM_U,
                    ot::tag::REQUEST,
                ],
            ),
            ("ml", &[ml::share::TAG_SHAPE]),
            ("fss", &[fss::tag::OPEN]),
            (
                "weights",
                &[
                    weights::tag::REQUEST,
                    weights::tag::REPLY,
                    weights::tag::SEALED,
                    weights::tag::PASS,
                ],
            ),
        ];
        let mut all: Vec<u16> = Vec::new();
        for (module, tags) in owned {
            for &t in tags {
                assert_eq!(tag::module(t), Some(module), "tag {t:#06x}");
                all.push(t);
            }
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a tag is used twice");
    }
}
