//! Data owners: secret-share readings to the two servers and reconstruct results, in storage the
//! caller provides. Needs no allocator, so it is also the whole API of the `no_std` build.

use crate::api::{DataOwner, Error, ErrorKind, FixedPoint, OwnerLink, Seed, State, block_on};
use crate::status::Failure;
use crate::transport::CTransport;
use crate::{fxs_status, fxs_transport, run, slice, slice_mut};
use core::ffi::c_char;

/// Size of `fxs_data_owner` in 64-bit words.
pub const FXS_DATA_OWNER_WORDS: usize = 72;

/// Configuration of a data owner; fill it with `fxs_data_owner_config_init` first, then set the
/// seed and the transports.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_data_owner_config {
    /// Ring width in bits: 32, 64 (default) or 128. Must match the servers' sessions.
    pub ring_bits: u32,
    /// Fractional bits of the fixed-point encoding (default 16). Must match the servers.
    pub frac_bits: u32,
    /// 32 bytes of fresh entropy (OS, hardware TRNG). Never reuse a seed: every batch's masks
    /// derive from it.
    pub seed: [u8; 32],
    /// Maximum frame payload in bytes; 0 means the default (64 MiB).
    pub max_frame: usize,
    /// The connection to server 0 (party 0).
    pub server0: fxs_transport,
    /// The connection to server 1 (party 1).
    pub server1: fxs_transport,
}

/// A data owner's session, in storage owned by the caller (a local, a static, or malloc'ed
/// memory): no allocation happens inside fixshare. Initialise it with `fxs_data_owner_init`
/// and clear it with `fxs_data_owner_clear` (which erases the seed). It holds no pointers to
/// itself, so it may be moved (memcpy) between calls. Do not read or write its contents.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_data_owner {
    /// Opaque storage.
    pub _opaque: [u64; FXS_DATA_OWNER_WORDS],
}

/// Marks initialised storage.
const MAGIC: u64 = 0x6678_735f_6f77_6e72;

/// What lives inside `fxs_data_owner`. `magic` first (repr(C)), so it can be read without
/// assuming the storage holds a valid `Storage`.
#[repr(C)]
struct Storage {
    magic: u64,
    inner: Inner,
}

struct Inner {
    /// The core's data owner, which keeps the one state machine (ready, busy, poisoned).
    owner: DataOwner,
    ring_bits: u32,
    server0: OwnerLink<CTransport>,
    server1: OwnerLink<CTransport>,
    /// The last failure of any call, with the C function's name.
    last: Option<(&'static str, Failure)>,
}

const _: () = {
    assert!(core::mem::size_of::<Storage>() <= core::mem::size_of::<fxs_data_owner>());
    assert!(core::mem::align_of::<Storage>() <= core::mem::align_of::<fxs_data_owner>());
};

/// Fills `config` with the defaults: 64-bit ring, 16 fractional bits, default frame limit, a
/// zero seed and NULL transports (both must be set before `fxs_data_owner_init`).
///
/// # Safety
/// `config` is NULL or points to writable memory for an `fxs_data_owner_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_data_owner_config_init(
    config: *mut fxs_data_owner_config,
) -> fxs_status {
    run("fxs_data_owner_config_init", || {
        if config.is_null() {
            return Err(Failure::null("`config` is NULL"));
        }
        let none = fxs_transport {
            send: None,
            recv: None,
            flush: None,
            user_data: core::ptr::null_mut(),
        };
        // SAFETY: non-NULL and writable (caller); `write` does not read the old contents.
        unsafe {
            config.write(fxs_data_owner_config {
                ring_bits: 64,
                frac_bits: 16,
                seed: [0; 32],
                max_frame: 0,
                server0: none,
                server1: none,
            })
        };
        Ok(())
    })
}

/// Checks a ring width and a number of fractional bits.
fn number_format(ring_bits: u32, frac_bits: u32) -> Result<FixedPoint, Failure> {
    if ![32, 64, 128].contains(&ring_bits) {
        return Err(Failure::invalid("ring_bits must be 32, 64 or 128"));
    }
    // The ring width is 32, 64 or 128 here, so `ring_bits - 2` cannot wrap; `frac_bits + 2`
    // could (frac_bits near UINT32_MAX).
    if frac_bits > ring_bits - 2 {
        return Err(Failure::invalid("frac_bits must be at most ring_bits - 2"));
    }
    FixedPoint::new(frac_bits).map_err(|_| Failure::invalid("frac_bits must be at most 62"))
}

/// A framed link over `t`; `max_frame` 0 means the default.
fn owner_link(t: CTransport, max_frame: usize) -> OwnerLink<CTransport> {
    match max_frame {
        0 => OwnerLink::new(t),
        max => OwnerLink::with_max_frame(t, max),
    }
}

/// Checks a transport's required callbacks.
pub(crate) fn c_transport(t: &fxs_transport, what: &'static str) -> Result<CTransport, Failure> {
    CTransport::new(t).ok_or(Failure::null(what))
}

/// Initialises a data owner in `owner` from `config` (which is copied). Nothing is sent yet.
///
/// Storage that holds an initialised owner should be cleared first (its seed is not erased
/// otherwise).
///
/// # Safety
/// `owner` is NULL or points to writable storage for an `fxs_data_owner`; `config` is NULL or
/// points to a readable `fxs_data_owner_config` whose `user_data` pointers stay valid until the
/// owner is cleared.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_data_owner_init(
    owner: *mut fxs_data_owner,
    config: *const fxs_data_owner_config,
) -> fxs_status {
    run("fxs_data_owner_init", || {
        if owner.is_null() {
            return Err(Failure::null("`owner` is NULL"));
        }
        // SAFETY: NULL or a readable config (caller).
        let config = unsafe { config.as_ref() }.ok_or(Failure::null("`config` is NULL"))?;
        let fixed = number_format(config.ring_bits, config.frac_bits)?;
        let s0 = c_transport(&config.server0, "server0.send or server0.recv is NULL")?;
        let s1 = c_transport(&config.server1, "server1.send or server1.recv is NULL")?;
        let storage = Storage {
            magic: MAGIC,
            inner: Inner {
                owner: DataOwner::new(Seed::from_bytes(config.seed), fixed),
                ring_bits: config.ring_bits,
                server0: owner_link(s0, config.max_frame),
                server1: owner_link(s1, config.max_frame),
                last: None,
            },
        };
        // SAFETY: `owner` is non-NULL, writable, and large and aligned enough for a `Storage`
        // (const assertions above; the C declaration gives the storage u64 alignment). `write`
        // does not drop the old contents, which may be anything.
        unsafe { owner.cast::<Storage>().write(storage) };
        Ok(())
    })
}

/// The state in `owner`, if it was initialised.
///
/// # Safety
/// `owner` is NULL or points to an `fxs_data_owner` that is either initialised by
/// `fxs_data_owner_init` (and not cleared) or does not start with the marker, and that nothing
/// else accesses during `'a`.
unsafe fn storage<'a>(owner: *mut fxs_data_owner) -> Result<&'a mut Storage, Failure> {
    if owner.is_null() {
        return Err(Failure::null("`owner` is NULL"));
    }
    // SAFETY: non-NULL storage of at least one u64, aligned for u64 (caller).
    let magic = unsafe { owner.cast::<u64>().read() };
    if magic != MAGIC {
        return Err(Failure::Arg(
            fxs_status::NotInitialized,
            "the data owner is not initialised (call fxs_data_owner_init)",
        ));
    }
    // SAFETY: the marker shows that `fxs_data_owner_init` wrote a `Storage` here (caller), and
    // the storage is not otherwise accessed during `'a`.
    Ok(unsafe { &mut *owner.cast::<Storage>() })
}

/// Runs a call on an initialised owner whose state (the core's) is ready, and records its failure
/// in the owner. The core's data owner keeps the state: an error before anything was sent leaves
/// it ready, one after communicating poisons it, a panic half-way leaves it busy.
fn with_owner(
    name: &'static str,
    owner: *mut fxs_data_owner,
    body: impl FnOnce(&mut Inner) -> Result<(), Failure>,
) -> fxs_status {
    run(name, || {
        // SAFETY: the contract of the exported function calling this (same as `storage`).
        let st = unsafe { storage(owner) }?;
        let result = match st.inner.owner.state() {
            State::Ready => body(&mut st.inner),
            State::Busy => Err(Failure::Unusable),
            State::Poisoned(e) => Err(Failure::Poisoned(e.clone())),
            State::Closed => Err(Failure::Core(Error::new(
                "data owner",
                ErrorKind::SessionClosed,
            ))),
        };
        if let Err(f) = &result {
            st.inner.last = Some((name, f.clone()));
        }
        result
    })
}

/// Encodes and secret-shares `n` values: server 0 receives a 40-byte seed frame, server 1 the
/// masked values. The servers call `fxs_party_receive_owner_input` with the same count.
///
/// Fails with `FXS_STATUS_OUT_OF_RANGE` before sending anything if a value does not fit (the
/// owner stays usable). A failure after communicating (a transport failure) poisons the owner.
///
/// # Safety
/// `owner` is NULL or an `fxs_data_owner` (initialised or not) not used concurrently; `values`
/// is NULL or readable for `n` doubles (NULL only with `n == 0`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_data_owner_share(
    owner: *mut fxs_data_owner,
    values: *const f64,
    n: usize,
) -> fxs_status {
    with_owner("fxs_data_owner_share", owner, |o| {
        // SAFETY: readable for `n` doubles (caller).
        let values = unsafe { slice(values, n, "`values` is NULL") }?;
        let (s0, s1) = (&mut o.server0, &mut o.server1);
        Ok(match o.ring_bits {
            32 => block_on(o.owner.share::<u32, _, _>(values, s0, s1)),
            64 => block_on(o.owner.share::<u64, _, _>(values, s0, s1)),
            _ => block_on(o.owner.share::<u128, _, _>(values, s0, s1)),
        }?)
    })
}

/// Secret-shares one part of a training table as the daemon's data owners do
/// (`fixshare::session::share_part`): a shape frame (`rows`, `cols`, whether targets follow)
/// to each server, then the `rows x cols` features `x` (row-major) and, if `y` is not NULL, the
/// `rows` targets `y`, each shared as `fxs_data_owner_share` shares. The parts of
/// `fxs_owner_data_part`, shared in order with one owner, are what `fixshare-party owner`
/// sends; the `fixshare-party` servers (or `fxs_party_receive_owner_input`-style hosts reading
/// the shape first) take them.
///
/// Every value is range-checked before anything is sent: `FXS_STATUS_OUT_OF_RANGE` leaves the
/// owner usable, as do `cols == 0` (`FXS_STATUS_INVALID_ARGUMENT`) and `rows * cols`
/// overflowing (`FXS_STATUS_CAPACITY`). A failure after the first frame poisons the owner. Only
/// in the `std` build.
///
/// # Safety
/// `owner` as for `fxs_data_owner_share`; `x` is NULL or readable for `rows * cols` doubles
/// (NULL only if that is 0); `y` is NULL or readable for `rows` doubles.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_data_owner_share_part(
    owner: *mut fxs_data_owner,
    x: *const f64,
    rows: usize,
    cols: usize,
    y: *const f64,
) -> fxs_status {
    use crate::api::share_part;
    with_owner("fxs_data_owner_share_part", owner, |o| {
        if cols == 0 {
            return Err(Failure::invalid("cols must be at least 1"));
        }
        let n = rows
            .checked_mul(cols)
            .ok_or(Failure::Arg(fxs_status::Capacity, "rows * cols overflows"))?;
        // SAFETY: readable for `rows * cols` doubles (caller).
        let x = unsafe { slice(x, n, "`x` is NULL") }?;
        let y = if y.is_null() {
            None
        } else {
            // SAFETY: readable for `rows` doubles (caller).
            Some(unsafe { slice(y, rows, "`y` is NULL") }?)
        };
        let (s0, s1) = (&mut o.server0, &mut o.server1);
        Ok(match o.ring_bits {
            32 => block_on(share_part::<u32, _, _>(&mut o.owner, x, cols, y, s0, s1)),
            64 => block_on(share_part::<u64, _, _>(&mut o.owner, x, cols, y, s0, s1)),
            _ => block_on(share_part::<u128, _, _>(&mut o.owner, x, cols, y, s0, s1)),
        }?)
    })
}

/// Receives both servers' shares of `n` outputs (sent with `fxs_party_send_owner_output`) and
/// writes the reconstructed values to `out`. A failure after communicating poisons the owner.
///
/// # Safety
/// `owner` as for `fxs_data_owner_share`; `out` is NULL or writable for `n` doubles (NULL only
/// with `n == 0`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_data_owner_reconstruct(
    owner: *mut fxs_data_owner,
    out: *mut f64,
    n: usize,
) -> fxs_status {
    with_owner("fxs_data_owner_reconstruct", owner, |o| {
        // SAFETY: writable for `n` doubles, not aliased during the call (caller).
        let out = unsafe { slice_mut(out, n, "`out` is NULL") }?;
        let (s0, s1) = (&mut o.server0, &mut o.server1);
        Ok(match o.ring_bits {
            32 => block_on(o.owner.reconstruct::<u32, _, _>(s0, s1, out)),
            64 => block_on(o.owner.reconstruct::<u64, _, _>(s0, s1, out)),
            _ => block_on(o.owner.reconstruct::<u128, _, _>(s0, s1, out)),
        }?)
    })
}

/// Writes the message of the last failed call on `owner` into `buf` (NUL-terminated, truncated
/// to `len - 1` bytes; an empty string if no call failed) and its full length, without the NUL,
/// to `*needed` if `needed` is not NULL. Works without `std` (where `fxs_last_error_message`
/// does not exist).
///
/// # Safety
/// `owner` as for `fxs_data_owner_share`; `buf` is NULL or writable for `len` bytes; `needed` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_data_owner_last_error(
    owner: *const fxs_data_owner,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> fxs_status {
    run("fxs_data_owner_last_error", || {
        // SAFETY: the storage is only read (contract of this function).
        let st = unsafe { storage(owner.cast_mut()) }?;
        // SAFETY: writable for `len` bytes (caller).
        let buf = unsafe { slice_mut(buf.cast::<u8>(), len, "`buf` is NULL") }?;
        let total = match &st.inner.last {
            Some((name, failure)) => write_truncated(buf, format_args!("{name}: {failure}")),
            None => write_truncated(buf, format_args!("")),
        };
        // SAFETY: NULL or writable (caller).
        if let Some(needed) = unsafe { needed.as_mut() } {
            *needed = total;
        }
        Ok(())
    })
}

/// Writes `args` into `buf` as a NUL-terminated string, truncated to `buf.len() - 1` bytes
/// (nothing if `buf` is empty), and returns the full length without the NUL.
pub(crate) fn write_truncated(buf: &mut [u8], args: core::fmt::Arguments<'_>) -> usize {
    let mut w = Truncating {
        buf,
        at: 0,
        total: 0,
    };
    let _ = core::fmt::write(&mut w, args);
    let (at, total) = (w.at, w.total);
    if let Some(end) = w.buf.get_mut(at) {
        *end = 0;
    }
    total
}

/// Writes into a byte buffer, keeping room for a NUL, and counts everything written.
struct Truncating<'a> {
    buf: &'a mut [u8],
    at: usize,
    total: usize,
}

impl core::fmt::Write for Truncating<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len().saturating_sub(1).saturating_sub(self.at);
        let n = room.min(s.len());
        self.buf[self.at..self.at + n].copy_from_slice(&s.as_bytes()[..n]);
        self.at += n;
        self.total += s.len();
        Ok(())
    }
}

/// Clears a data owner: erases its seed and marks the storage uninitialised. NULL, or storage
/// that is not initialised, is fine (nothing happens). The transports are not closed.
///
/// # Safety
/// `owner` as for `fxs_data_owner_share`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_data_owner_clear(owner: *mut fxs_data_owner) {
    let clear = || {
        // SAFETY: the contract of this function (same as `storage`).
        if let Ok(st) = unsafe { storage(owner) } {
            st.magic = 0;
            // SAFETY: the storage held an initialised `Storage` (marker checked); after this its
            // marker is 0, so it is never read as a `Storage` again. `Seed` erases itself on drop.
            unsafe { core::ptr::drop_in_place(&mut st.inner) };
        }
    };
    #[cfg(feature = "std")]
    crate::run_void(clear);
    #[cfg(not(feature = "std"))]
    clear();
}
