//! Transports for the fuzz targets: a replay of bytes the fuzzer chose, and a sink that records
//! (up to a cap) what the code under test sends.
#![allow(dead_code)]

use fixshare::{Transport, TransportError};
use std::cell::RefCell;
use std::rc::Rc;

/// Receives from `data` in order; `Closed` once it is exhausted. Sends are discarded.
pub struct Replay<'a> {
    pub data: &'a [u8],
    pub pos: usize,
    pub recvs: usize,
}

impl<'a> Replay<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Replay {
            data,
            pos: 0,
            recvs: 0,
        }
    }
}

impl Transport for Replay<'_> {
    async fn send(&mut self, _buf: &[u8]) -> Result<(), TransportError> {
        Ok(())
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.recvs += 1;
        let end = self
            .pos
            .checked_add(buf.len())
            .ok_or(TransportError::Closed)?;
        if end > self.data.len() {
            self.pos = self.data.len();
            return Err(TransportError::Closed);
        }
        buf.copy_from_slice(&self.data[self.pos..end]);
        self.pos = end;
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// Records what is sent, up to `cap` bytes; a send beyond the cap fails with `Closed` (so that a
/// peer asking for a huge answer ends the run instead of filling memory). Receives fail with
/// `Closed`.
pub struct Sink {
    pub bytes: Vec<u8>,
    pub sent: usize,
    pub calls: usize,
    pub cap: usize,
    /// A copy of everything sent, readable after the transport was moved into a link.
    pub log: Option<Rc<RefCell<Vec<u8>>>>,
}

impl Sink {
    pub fn new(cap: usize) -> Self {
        Sink {
            bytes: Vec::new(),
            sent: 0,
            calls: 0,
            cap,
            log: None,
        }
    }

    /// A sink whose bytes are also appended to the returned shared log.
    pub fn logged(cap: usize) -> (Self, Rc<RefCell<Vec<u8>>>) {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut s = Sink::new(cap);
        s.log = Some(log.clone());
        (s, log)
    }
}

impl Transport for Sink {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.calls += 1;
        if self.sent + buf.len() > self.cap {
            return Err(TransportError::Closed);
        }
        self.sent += buf.len();
        match &self.log {
            Some(log) => log.borrow_mut().extend_from_slice(buf),
            None => self.bytes.extend_from_slice(buf),
        }
        Ok(())
    }
    async fn recv(&mut self, _buf: &mut [u8]) -> Result<(), TransportError> {
        self.calls += 1;
        Err(TransportError::Closed)
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// Replays `data` for receives and records sends like a [`Sink`].
pub struct Duplex<'a> {
    pub replay: Replay<'a>,
    pub sink: Sink,
}

impl<'a> Duplex<'a> {
    pub fn new(data: &'a [u8], cap: usize) -> Self {
        Duplex {
            replay: Replay::new(data),
            sink: Sink::new(cap),
        }
    }

    /// A duplex whose sent bytes go to the returned shared log.
    pub fn logged(data: &'a [u8], cap: usize) -> (Self, Rc<RefCell<Vec<u8>>>) {
        let (sink, log) = Sink::logged(cap);
        let d = Duplex {
            replay: Replay::new(data),
            sink,
        };
        (d, log)
    }
}

impl Transport for Duplex<'_> {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.sink.send(buf).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.replay.recv(buf).await
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// A little reader of the fuzzer's bytes.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    /// A size: small most of the time, anything (up to usize::MAX) sometimes.
    pub fn size(&mut self) -> usize {
        match self.u8() % 8 {
            0 => self.u64() as usize,
            1 => 1usize << (self.u8() % 64),
            2 => usize::MAX - (self.u8() as usize),
            _ => (self.u8() % 16) as usize,
        }
    }
    pub fn rest(&self) -> &[u8] {
        self.0
    }
}
