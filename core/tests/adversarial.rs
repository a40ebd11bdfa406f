//! Bad-input tests (being written).
