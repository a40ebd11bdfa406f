//! The committed header `include/fixshare.h` must be what cbindgen generates from the sources.
//! Set `FIXSHARE_BLESS_HEADER=1` to rewrite it.

use std::path::PathBuf;

#[test]
fn committed_header_is_fresh() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../include/fixshare.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml parses");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    if std::env::var_os("FIXSHARE_BLESS_HEADER").is_some() {
        std::fs::write(&header, &generated).expect("write include/fixshare.h");
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "include/fixshare.h is stale: regenerate it with \
         `FIXSHARE_BLESS_HEADER=1 cargo test -p fixshare-ffi --test header` and commit it"
    );
}
