//! [`Pin`]: the SHA-256 hash of a public key, by which the parties of a job recognize each
//! other (`sha256:` and 64 hex digits in configuration files).

use crate::Invalid;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The SHA-256 hash of a public key (its DER `SubjectPublicKeyInfo`): how a party names the key
/// it expects of a peer. Written `sha256:` and 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pin([u8; 32]);

impl Pin {
    /// The pin of a DER `SubjectPublicKeyInfo`.
    pub fn of_spki(spki_der: &[u8]) -> Pin {
        Pin(Sha256::digest(spki_der).into())
    }

    /// The 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({self})")
    }
}

impl FromStr for Pin {
    type Err = Invalid;

    /// Reads `sha256:` followed by 64 hex digits (the prefix may be left out).
    fn from_str(s: &str) -> Result<Pin, Invalid> {
        let hex = s.trim();
        let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
        let bad = || {
            Invalid(format!(
                "not a pin (sha256: and 64 hex digits): {:?}",
                s.chars().take(80).collect::<String>()
            ))
        };
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Pin(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let pin = Pin::of_spki(b"a key");
        let text = pin.to_string();
        assert!(text.starts_with("sha256:") && text.len() == 7 + 64);
        assert_eq!(text.parse::<Pin>().unwrap(), pin);
        assert_eq!(text[7..].parse::<Pin>().unwrap(), pin);
        for bad in ["", "sha256:", "sha256:zz", &text[..70], "sha256:é"] {
            assert!(bad.parse::<Pin>().is_err(), "{bad:?}");
        }
    }
}
