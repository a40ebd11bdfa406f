//! The `sealed` variant: a data owner of a training job whose two servers are reached through
//! an untrusted gateway. Its part of the job (`PARTS`), the session id, its owner index and
//! each server's stream length come from the file `fixshare-party device --firmware` generated
//! on the host; its keys from the build's environment (see build.rs).

use crate::{DEVICE_SEED, hex_line};
use fixshare::data_owner::{DataOwner, share_part};
use fixshare::sealed::{Address, Capture, OVERHEAD, OwnerKey, Sealer};
use fixshare::{Error, ErrorKind, FixedPoint, Link, Seed, block_on};

include!(concat!(env!("OUT_DIR"), "/keys.rs"));

/// One dataset part: `x` row-major with `cols` columns, and its targets if any.
pub(crate) struct Part {
    x: &'static [f64],
    cols: usize,
    y: Option<&'static [f64]>,
}

mod generated {
    use super::Part;
    include!(concat!(env!("OUT_DIR"), "/part.rs"));
}
pub(crate) use generated::OWNER_INDEX;
use generated::{FRAC_BITS, PARTS, SESSION_ID, STREAM_LEN};

/// Shares the parts into one capture per server, seals each for its server and prints
/// `SEALED0 <hex>` and `SEALED1 <hex>`.
pub(crate) fn share_and_seal() -> Result<(), Error> {
    let seed = Seed::from_bytes(DEVICE_SEED);
    // Nonces from the same seed, under their own domain.
    let mut sealer = Sealer::new(&seed);
    let mut owner = DataOwner::new(seed, FixedPoint::new(FRAC_BITS)?);
    let mut buf0 = [0u8; STREAM_LEN[0] + OVERHEAD];
    let mut buf1 = [0u8; STREAM_LEN[1] + OVERHEAD];
    let mut to0 = Link::new(Capture::new(&mut buf0));
    let mut to1 = Link::new(Capture::new(&mut buf1));
    for p in &PARTS {
        block_on(share_part::<u64, _, _>(
            &mut owner, p.x, p.cols, p.y, &mut to0, &mut to1,
        ))?;
    }
    let captures = [to0.into_inner(), to1.into_inner()];
    for (server, capture) in captures.into_iter().enumerate() {
        let key = OwnerKey::from_bytes(DEVICE_KEYS[server]);
        let to = Address {
            session: SESSION_ID,
            owner: OWNER_INDEX,
            server: server as u8,
        };
        let sealed = capture.seal(&mut sealer, &key, &to)?;
        hex_line(
            &[
                b'S',
                b'E',
                b'A',
                b'L',
                b'E',
                b'D',
                b'0' + server as u8,
                b' ',
            ],
            sealed,
        )
        .map_err(|e| Error::new("print", ErrorKind::from(e)))?;
    }
    Ok(())
}
