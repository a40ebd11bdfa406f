//! Data-owner sharing tests (being written).
