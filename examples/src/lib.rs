//! Shared helpers for the examples: the std side of the machine-learning pipeline (seeds, threads,
//! clocks, TCP, printed summaries) around the roles that live in [`fixshare::ml::pipeline`].

pub mod ml;
