//! WebAssembly bindings for fixshare (filled by the WASM issue).
