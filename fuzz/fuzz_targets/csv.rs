//! Fuzzes the CSV reader (`Dataset::from_csv_bytes`) with a round-trip oracle.
//!
//! Any bytes either parse into a consistent dataset — finite, normal (or zero) values, as many
//! per row as the header has features, distinct names — which, written back as CSV (with a
//! byte-order mark, CR line endings and the shortest round-tripping decimal of every value),
//! parses to the same dataset; or fail with an error whose line is within the file, whose
//! column is within the line, and whose message stays short (cells are quoted to a bounded
//! length) however long the input is.
//!
//! (Lines: at most one per byte, plus one.)
#![no_main]

use fixshare::ml::{DataErrorKind, Dataset};
use libfuzzer_sys::fuzz_target;
use std::fmt::Write;

fn write_back(d: &Dataset) -> String {
    let mut s = String::from("\u{feff}");
    let names: Vec<&str> = d
        .feature_names
        .iter()
        .map(String::as_str)
        .chain([d.target_name.as_str()])
        .collect();
    s.push_str(&names.join(","));
    s.push('\r');
    for i in 0..d.rows() {
        for v in d.row(i) {
            let _ = write!(s, "{v:?},");
        }
        let _ = write!(s, "{:?}\r", d.y[i]);
    }
    s
}

fuzz_target!(|data: &[u8]| {
    // Lines as the reader counts them: LF, CRLF or CR each end one.
    let lines = data.len() + 1;
    match Dataset::from_csv_bytes(data) {
        Ok(d) => {
            let f = d.features();
            assert!(f >= 1);
            assert_eq!(d.x.len(), d.rows() * f);
            assert_eq!(d.lines.len(), d.rows());
            assert!(d.lines.windows(2).all(|w| w[0] < w[1]));
            for &v in d.x.iter().chain(&d.y) {
                assert!(v.is_finite() && !v.is_subnormal(), "{v}");
            }
            let mut names: Vec<&String> = d.feature_names.iter().chain([&d.target_name]).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), f + 1, "duplicate names were accepted");
            // Round trip.
            let again = Dataset::from_csv(&write_back(&d)).expect("a written-back dataset parses");
            assert_eq!(again.feature_names, d.feature_names);
            assert_eq!(again.target_name, d.target_name);
            assert_eq!(again.x, d.x);
            assert_eq!(again.y, d.y);
        }
        Err(e) => {
            assert!(e.line <= lines);
            if e.line == 0 {
                assert_eq!(e.column, 0);
            }
            assert!(e.column <= data.len() + 1);
            let msg = e.to_string();
            assert!(msg.len() < 1024, "a {}-byte message", msg.len());
            if let DataErrorKind::InvalidUtf8 { byte } = e.kind {
                assert!(byte >= 1 && byte <= data.len());
            }
        }
    }
});
