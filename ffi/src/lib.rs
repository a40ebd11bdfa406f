//! C ABI for fixshare (filled by the C ABI issue).
