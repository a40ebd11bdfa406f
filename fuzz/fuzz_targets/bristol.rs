//! Fuzzes the Bristol Fashion reader: any bytes either parse into a circuit that evaluates without
//! panicking (and whose sizes are consistent), or give a `BadCircuit` error with a line number
//! no greater than the input's line count + 1.
#![no_main]

use fixshare::ErrorKind;
use fixshare::gc::bristol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    match bristol::parse_bytes(data) {
        Ok(c) => {
            assert!(c.num_wires() <= data.len());
            assert!(c.input_bits() <= c.num_wires());
            assert_eq!(c.output_bits(), c.output_widths().iter().sum::<usize>());
            // Round trip through the plaintext evaluator: all-zero and all-one inputs.
            if c.gates().len() <= 1 << 16 {
                for v in [false, true] {
                    let out = c.eval(&vec![v; c.input_bits()]).expect("evaluates");
                    assert_eq!(out.len(), c.output_bits());
                }
            }
        }
        Err(e) => match e.kind() {
            ErrorKind::BadCircuit { line, .. } => assert!(*line >= 1 && *line <= lines + 1),
            other => panic!("unexpected error kind {other:?}"),
        },
    }
});
