//! Shared helpers for the examples: the machine-learning roles (data owner, server, dealer) and
//! their in-process and TCP runs.

pub mod ml;
