//! Boolean circuits in Bristol Fashion, evaluated between the two parties by garbled circuits.

use crate::party::{fxs_party, fxs_shares, out_ptr, role_of, shares_op, with_party};
use crate::status::Failure;
use crate::{fxs_status, run, run_void, slice, slice_mut};
use alloc::boxed::Box;
use alloc::vec::Vec;
use fixshare::session::{Circuit, Reveal, Role, block_on, bristol};

/// Both parties learn the outputs of a circuit.
pub const FXS_REVEAL_BOTH: u32 = 0;
/// Only party 0 (the garbler) learns the outputs.
pub const FXS_REVEAL_P0: u32 = 1;
/// Only party 1 (the evaluator) learns the outputs.
pub const FXS_REVEAL_P1: u32 = 2;
/// Nobody learns the outputs: each party gets its XOR share of every output bit (the two
/// parties' bits XOR to the output).
pub const FXS_REVEAL_SHARED: u32 = 3;

/// A parsed, validated boolean circuit (opaque). Create with `fxs_circuit_parse`, free with
/// `fxs_circuit_free`. It holds no secrets and may be used by several parties and threads at
/// once (it is only read).
pub struct fxs_circuit {
    inner: Circuit,
}

/// The dimensions of a circuit.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_circuit_info {
    /// Number of input values (each a group of wires, e.g. an AES key and a block).
    pub inputs: usize,
    /// Number of output values.
    pub outputs: usize,
    /// Total input bits (the sum of the input values' widths).
    pub input_bits: usize,
    /// Total output bits.
    pub output_bits: usize,
    /// Number of wires.
    pub wires: usize,
    /// Number of gates.
    pub gates: usize,
    /// Number of AND gates (each costs 32 bytes of garbled table from party 0 to party 1).
    pub and_gates: usize,
}

/// Parses a circuit in Bristol Fashion from `len` bytes of text at `text` (copied; need not be
/// NUL-terminated), checking every count, wire and gate.
///
/// On success `*out` is the circuit; on failure it is NULL and the status is
/// `FXS_STATUS_BAD_CIRCUIT`, with the line number and the problem in
/// `fxs_last_error_message()` (e.g. `fxs_circuit_parse: bristol: bad circuit at line 7: wire
/// read before it is written`).
///
/// # Safety
/// `text` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_circuit_parse(
    text: *const u8,
    len: usize,
    out: *mut *mut fxs_circuit,
) -> fxs_status {
    run("fxs_circuit_parse", || {
        // SAFETY: NULL or writable (caller).
        let out = out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or readable for `len` bytes (caller).
        let text = unsafe { slice(text, len, "`text` is NULL") }?;
        let inner = bristol::parse_bytes(text)?;
        *out = Box::into_raw(Box::new(fxs_circuit { inner }));
        Ok(())
    })
}

/// Frees a circuit. NULL is fine.
///
/// # Safety
/// `circuit` is NULL or a live circuit from `fxs_circuit_parse`, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_circuit_free(circuit: *mut fxs_circuit) {
    if circuit.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in `fxs_circuit_parse`, freed once (caller).
    let circuit = unsafe { Box::from_raw(circuit) };
    run_void(move || drop(circuit));
}

/// The circuit the caller passed.
fn circuit_ref<'a>(c: *const fxs_circuit) -> Result<&'a Circuit, Failure> {
    // SAFETY: NULL or a live circuit (contract of every function taking one).
    unsafe { c.as_ref() }
        .map(|c| &c.inner)
        .ok_or(Failure::null("`circuit` is NULL"))
}

/// Writes the dimensions of `circuit` to `*info`.
///
/// # Safety
/// `circuit` is NULL or a live circuit; `info` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_circuit_get_info(
    circuit: *const fxs_circuit,
    info: *mut fxs_circuit_info,
) -> fxs_status {
    run("fxs_circuit_get_info", || {
        let c = circuit_ref(circuit)?;
        // SAFETY: NULL or writable (caller).
        let info = unsafe { info.as_mut() }.ok_or(Failure::null("`info` is NULL"))?;
        *info = fxs_circuit_info {
            inputs: c.input_widths().len(),
            outputs: c.output_widths().len(),
            input_bits: c.input_bits(),
            output_bits: c.output_bits(),
            wires: c.num_wires(),
            gates: c.gates().len(),
            and_gates: c.and_count(),
        };
        Ok(())
    })
}

/// Copies `widths` to `out` (at least `widths.len()` entries).
///
/// # Safety
/// `out` is NULL or writable for `out_len` elements.
unsafe fn copy_widths(widths: &[usize], out: *mut usize, out_len: usize) -> Result<(), Failure> {
    if out_len < widths.len() {
        return Err(Failure::Arg(
            fxs_status::BufferTooSmall,
            "`out_len` is smaller than the number of values",
        ));
    }
    // SAFETY: NULL or writable for `out_len >= widths.len()` elements (caller).
    unsafe { slice_mut(out, widths.len(), "`out` is NULL") }?.copy_from_slice(widths);
    Ok(())
}

/// Writes the bit width of each input value, in order, to `out`, which must hold
/// `info.inputs` entries (`FXS_STATUS_BUFFER_TOO_SMALL` otherwise). Input value `i` occupies
/// the input bits after those of values `0..i`.
///
/// # Safety
/// `circuit` is NULL or a live circuit; `out` is NULL or writable for `out_len` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_circuit_input_widths(
    circuit: *const fxs_circuit,
    out: *mut usize,
    out_len: usize,
) -> fxs_status {
    run("fxs_circuit_input_widths", || {
        let c = circuit_ref(circuit)?;
        // SAFETY: as required by this function.
        unsafe { copy_widths(c.input_widths(), out, out_len) }
    })
}

/// Writes the bit width of each output value, in order, to `out` (as
/// `fxs_circuit_input_widths`).
///
/// # Safety
/// `circuit` is NULL or a live circuit; `out` is NULL or writable for `out_len` elements.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_circuit_output_widths(
    circuit: *const fxs_circuit,
    out: *mut usize,
    out_len: usize,
) -> fxs_status {
    run("fxs_circuit_output_widths", || {
        let c = circuit_ref(circuit)?;
        // SAFETY: as required by this function.
        unsafe { copy_widths(c.output_widths(), out, out_len) }
    })
}

/// `n` bits, one per byte (0 or 1), as booleans.
///
/// # Safety
/// `bits` is NULL or readable for `n` bytes.
unsafe fn read_bits(bits: *const u8, n: usize) -> Result<Vec<bool>, Failure> {
    // SAFETY: NULL or readable for `n` bytes (caller).
    let bytes = unsafe { slice(bits, n, "the bits pointer is NULL") }?;
    bytes
        .iter()
        .map(|&b| match b {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Failure::invalid("a bit is neither 0 nor 1")),
        })
        .collect()
}

/// Checks that `out` holds `n` bits (before anything is sent) and returns it.
///
/// # Safety
/// `out` is NULL or writable for `out_len` bytes.
unsafe fn out_bits<'a>(out: *mut u8, out_len: usize, n: usize) -> Result<&'a mut [u8], Failure> {
    if out_len < n {
        return Err(Failure::Arg(
            fxs_status::BufferTooSmall,
            "`out_len` is smaller than the circuit's output bits",
        ));
    }
    // SAFETY: NULL or writable for `out_len >= n` bytes (caller).
    unsafe { slice_mut(out, n, "`out` is NULL") }
}

/// Evaluates `circuit` in the clear on all its input bits (`inputs`: `info.input_bits` bytes,
/// each 0 or 1, input value 0 first, each value least significant bit first) and writes the
/// `info.output_bits` output bits to `out` in the same layout: the plaintext reference for
/// `fxs_party_run_circuit`. No party or communication is involved.
///
/// # Safety
/// `circuit` is NULL or a live circuit; `inputs` is NULL or readable for `n_inputs` bytes;
/// `out` is NULL or writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_circuit_eval(
    circuit: *const fxs_circuit,
    inputs: *const u8,
    n_inputs: usize,
    out: *mut u8,
    out_len: usize,
) -> fxs_status {
    run("fxs_circuit_eval", || {
        let c = circuit_ref(circuit)?;
        // SAFETY: NULL or readable for `n_inputs` bytes (caller).
        let bits = unsafe { read_bits(inputs, n_inputs) }?;
        // SAFETY: NULL or writable for `out_len` bytes (caller).
        let out = unsafe { out_bits(out, out_len, c.output_bits()) }?;
        for (o, b) in out.iter_mut().zip(c.eval(&bits)?) {
            *o = u8::from(b);
        }
        Ok(())
    })
}

/// Runs `circuit` between the two parties by garbled circuits (Yao with half-gates; party 0
/// garbles, party 1 evaluates): both call this function with the same circuit, `owners` and
/// `reveal`, each with its own input bits. The evaluator's input labels come by oblivious
/// transfer from the party's offline source (the dealer or OT); the frames travel over the
/// peer connection, between the party's other operations. Semi-honest security: neither party learns the other's inputs, only the
/// outputs `reveal` gives it.
///
/// - `owners`: one entry per input value of the circuit (`info.inputs`), `FXS_ROLE_P0` or
///   `FXS_ROLE_P1`: the party that supplies that value.
/// - `inputs`: this party's input bits, one byte each (0 or 1): its own values in the
///   circuit's order, concatenated, each least significant bit (lowest wire) first. Exactly
///   the sum of the widths of the values it owns (`n_inputs`; may be 0 with `inputs` NULL).
/// - `reveal`: `FXS_REVEAL_BOTH`, `FXS_REVEAL_P0`, `FXS_REVEAL_P1` or `FXS_REVEAL_SHARED`.
/// - `out`: on a party that learns the outputs (or gets XOR shares of them, with
///   `FXS_REVEAL_SHARED`), `info.output_bits` bytes (0 or 1), output value 0 first, each least
///   significant bit first; `out_len` must be at least that. Not touched (and may be NULL) on a
///   party that learns nothing. `*out_bits` (if not NULL) is set to the number of bits written.
///
/// Argument errors (NULL pointers, a wrong number of owners or input bits
/// (`FXS_STATUS_DIMENSION_MISMATCH`), a byte that is not 0 or 1, a short `out`) are found before
/// anything is sent and leave the party usable; a failure during the run poisons it.
///
/// # Safety
/// `party` is NULL or a live party; `circuit` is NULL or a live circuit; `owners` is NULL or
/// readable for `n_owners` elements; `inputs` is NULL or readable for `n_inputs` bytes; `out` is
/// NULL or writable for `out_len` bytes; `out_bits` is NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fxs_party_run_circuit(
    party: *mut fxs_party,
    circuit: *const fxs_circuit,
    owners: *const u32,
    n_owners: usize,
    inputs: *const u8,
    n_inputs: usize,
    reveal: u32,
    out: *mut u8,
    out_len: usize,
    out_bits_written: *mut usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, written) = unsafe { (party.as_mut(), out_bits_written.as_mut()) };
    with_party("fxs_party_run_circuit", party, |s| {
        let written = written.map(|w| {
            *w = 0;
            w
        });
        let c = circuit_ref(circuit)?;
        // SAFETY: NULL or readable for `n_owners` elements (caller).
        let owner_codes = unsafe { slice(owners, n_owners, "`owners` is NULL") }?;
        if owner_codes.len() != c.input_widths().len() {
            return Err(Failure::Arg(
                fxs_status::DimensionMismatch,
                "`n_owners` is not the circuit's number of input values",
            ));
        }
        let owners = owner_codes
            .iter()
            .map(|&o| role_of(o, "an owner is neither FXS_ROLE_P0 nor FXS_ROLE_P1"))
            .collect::<Result<Vec<Role>, Failure>>()?;
        let role = s.role();
        let mine: usize = c
            .input_widths()
            .iter()
            .zip(&owners)
            .filter(|&(_, &o)| o == role)
            .map(|(&w, _)| w)
            .sum();
        if n_inputs != mine {
            return Err(Failure::Arg(
                fxs_status::DimensionMismatch,
                "`n_inputs` is not the total width of the input values this party owns",
            ));
        }
        // SAFETY: NULL or readable for `n_inputs` bytes (caller).
        let bits = unsafe { read_bits(inputs, n_inputs) }?;
        let reveal = match reveal {
            FXS_REVEAL_BOTH => Reveal::Both,
            FXS_REVEAL_P0 => Reveal::Garbler,
            FXS_REVEAL_P1 => Reveal::Evaluator,
            FXS_REVEAL_SHARED => Reveal::Shared,
            _ => {
                return Err(Failure::invalid(
                    "reveal must be FXS_REVEAL_BOTH, _P0, _P1 or _SHARED",
                ));
            }
        };
        let learns = match reveal {
            Reveal::Both | Reveal::Shared => true,
            Reveal::Garbler => role == Role::P0,
            Reveal::Evaluator => role == Role::P1,
        };
        let out = if learns {
            // SAFETY: NULL or writable for `out_len` bytes (caller).
            Some(unsafe { out_bits(out, out_len, c.output_bits()) }?)
        } else {
            None
        };
        let result = block_on(s.run_circuit(c, &owners, &bits, reveal))?;
        if let Some(out) = out {
            for (o, b) in out.iter_mut().zip(&result) {
                *o = u8::from(*b);
            }
            if let Some(w) = written {
                *w = result.len().min(out.len());
            }
        }
        Ok(())
    })
}

/// Turns this party's XOR shares of `n_bits` bits (one byte each, 0 or 1; for example the
/// outputs of `fxs_party_run_circuit` with `FXS_REVEAL_SHARED`) into shares of the same bits as
/// fixed-point values 0.0 or 1.0, an `n_bits x 1` matrix, with one Beaver triple per bit (one
/// round). Both parties call it with their shares of the same bits: this is how a circuit's
/// secret result continues in arithmetic.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `bits` is NULL or readable for `n_bits` bytes; `out` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_bits_to_shares(
    party: *mut fxs_party,
    bits: *const u8,
    n_bits: usize,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, out) = unsafe { (party.as_mut(), out.as_mut()) };
    shares_op("fxs_party_bits_to_shares", party, out, |s| {
        // SAFETY: NULL or readable for `n_bits` bytes (caller).
        let bits = unsafe { read_bits(bits, n_bits) }?;
        let one = 1i64 << s.fixed().frac_bits();
        let ints = block_on(s.bits_to_arithmetic(&bits))?;
        Ok(s.mul_public_integer(&ints, one)?)
    })
}
