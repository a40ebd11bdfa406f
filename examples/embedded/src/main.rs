//! A sensor as a fixshare data owner on a Cortex-M4 (QEMU's lm3s6965evb), without a heap.
//!
//! It encodes a batch of readings as fixed-point numbers, secret-shares them with seed
//! compression and writes the two servers' messages — framed exactly as the core frames them —
//! to the host over semihosting, one line per transport write: `S0 <hex>` for server 0 and
//! `S1 <hex>` for server 1. It then reports its peak stack use and exits through semihosting:
//! status 0 on success, 1 with a message on any error or panic.
//!
//! With the `sealed` feature the device is a data owner of a training job behind an untrusted
//! gateway: it shares its part of the job's table (generated on the host by `fixshare-party
//! device --firmware`, exactly the rows `fixshare-party owner` would share as this owner) with
//! `share_part`, captures each server's stream into a buffer on the stack, seals it for that
//! server (`fixshare::sealed`: AES-256-GCM under the key it shares with that server only) and
//! prints one line per server, `SEALED0 <hex>` and `SEALED1 <hex>`, which `fixshare-party
//! gateway` relays. No heap either way. Its keys are baked in at build time from
//! `FIXSHARE_DEVICE_KEY0` and `FIXSHARE_DEVICE_KEY1`; a real device is provisioned with them
//! into its secure storage instead.
//!
//! Entropy: the device seed is baked in at build time from `FIXSHARE_DEVICE_SEED` (64 hex
//! digits), so that QEMU runs are reproducible for the test. A real device must instead read a
//! fresh seed at boot from its hardware random number generator (for example the RNG peripheral
//! of an STM32 or nRF52) and never ship one in flash.
#![no_std]
#![no_main]

use core::panic::PanicInfo;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio, hprintln};
use fixshare::{DataOwner, FixedPoint, Link, Seed, Transport, TransportError, block_on};

include!(concat!(env!("OUT_DIR"), "/seed.rs"));

#[cfg(feature = "sealed")]
mod sealed_owner;

/// Readings per batch.
const N: usize = 32;

/// Sensor-like readings: 12-bit ADC counts from a linear-feedback shift register, scaled to
/// degrees (count / 16 - 40). Exactly representable with 16 fractional bits, so the host can
/// compute the same values independently.
fn readings() -> [f64; N] {
    let mut lfsr: u16 = 0xace1;
    core::array::from_fn(|_| {
        let bit = (lfsr ^ (lfsr >> 2) ^ (lfsr >> 3) ^ (lfsr >> 5)) & 1;
        lfsr = (lfsr >> 1) | (bit << 15);
        f64::from(lfsr & 0x0fff) / 16.0 - 40.0
    })
}

/// Writes `prefix`, `bytes` in hex and a newline to the semihosting console.
fn hex_line(prefix: &[u8], bytes: &[u8]) -> Result<(), TransportError> {
    let mut out = hio::hstdout().map_err(|_| TransportError::Failed(1))?;
    let mut line = [0u8; 2 * 32];
    out.write_all(prefix)
        .map_err(|_| TransportError::Failed(2))?;
    for piece in bytes.chunks(32) {
        for (i, b) in piece.iter().enumerate() {
            line[2 * i] = HEX[(b >> 4) as usize];
            line[2 * i + 1] = HEX[(b & 15) as usize];
        }
        out.write_all(&line[..2 * piece.len()])
            .map_err(|_| TransportError::Failed(2))?;
    }
    out.write_all(b"\n").map_err(|_| TransportError::Failed(2))
}

/// The link to one server: writes each transport write as a hex line on the semihosting console.
struct SemihostingLink {
    server: u8,
}

impl Transport for SemihostingLink {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        hex_line(&[b'S', b'0' + self.server, b' '], buf)
    }

    async fn recv(&mut self, _buf: &mut [u8]) -> Result<(), TransportError> {
        // The data owner only sends in this firmware.
        Err(TransportError::Closed)
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg_attr(feature = "sealed", allow(dead_code))]
fn share_batch() -> Result<(), fixshare::Error> {
    let mut values = readings();
    if cfg!(feature = "bad-reading") {
        values[N - 1] = 1e30;
    }
    if cfg!(feature = "panic-test") {
        panic!("panic-test feature: deliberate panic");
    }
    let mut owner = DataOwner::new(Seed::from_bytes(DEVICE_SEED), FixedPoint::default());
    let mut server0 = Link::new(SemihostingLink { server: 0 });
    let mut server1 = Link::new(SemihostingLink { server: 1 });
    block_on(owner.share::<u64, _, _>(&values, &mut server0, &mut server1))
}

#[entry]
fn main() -> ! {
    stack::paint();
    let result = if cfg!(feature = "baseline") {
        Ok(())
    } else {
        #[cfg(feature = "sealed")]
        let r = sealed_owner::share_and_seal();
        #[cfg(not(feature = "sealed"))]
        let r = share_batch();
        r
    };
    hprintln!("stack_peak_bytes: {}", stack::peak());
    match result {
        Ok(()) => {
            #[cfg(feature = "sealed")]
            hprintln!(
                "sealed owner {}'s part for both servers",
                sealed_owner::OWNER_INDEX
            );
            #[cfg(not(feature = "sealed"))]
            hprintln!("shared {} readings", N);
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(e) => {
            // A short description instead of the error's Display, which formats floats and
            // would pull several kilobytes of formatting code into the firmware.
            hprintln!("error in {}: {}", e.op(), describe(e.kind()));
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    loop {}
}

fn describe(kind: &fixshare::ErrorKind) -> &'static str {
    use fixshare::ErrorKind::*;
    match kind {
        OutOfRange { .. } => "a reading is outside the fixed-point range",
        Transport(fixshare::sealed::CAPTURE_FULL) => "a server's capture buffer is full",
        Closed | Transport(_) | WouldBlock => "the link to a server failed",
        _ => "unexpected error",
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}

/// Stack high-water mark: fill the free RAM below the stack with a pattern at boot, then find
/// the lowest word that was overwritten.
mod stack {
    const PATTERN: u32 = 0xa5a5_a5a5;
    /// Words left untouched below the current stack pointer when painting.
    const MARGIN: usize = 16;

    unsafe extern "C" {
        static mut __sheap: u32;
        static _stack_start: u32;
    }

    fn bounds() -> (*mut u32, usize) {
        // SAFETY: only the addresses of linker symbols are taken, never references to them.
        let bottom = &raw mut __sheap;
        let top = (&raw const _stack_start) as usize;
        (bottom, top)
    }

    pub(crate) fn paint() {
        let (bottom, _) = bounds();
        let sp = cortex_m::register::msp::read() as usize;
        let words = (sp - bottom as usize) / 4 - MARGIN;
        for i in 0..words {
            // SAFETY: [__sheap, sp - MARGIN words) is free RAM between the statics and the
            // live stack (no heap in this firmware); volatile so the writes are kept.
            unsafe { bottom.add(i).write_volatile(PATTERN) };
        }
    }

    pub(crate) fn peak() -> usize {
        let (bottom, top) = bounds();
        let mut p = bottom;
        // SAFETY: reads stay within [__sheap, top), RAM that paint() initialised or the stack.
        while (p as usize) < top && unsafe { p.read_volatile() } == PATTERN {
            p = unsafe { p.add(1) };
        }
        top - p as usize
    }
}
