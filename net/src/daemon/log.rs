//! The daemon's log: one line per event on standard error, each with a UTC timestamp and the
//! process's role.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes timestamped lines to standard error: `2026-05-01T12:00:00.123Z server0: message`.
#[derive(Clone, Debug)]
pub struct Log {
    who: String,
    quiet: bool,
}

impl Log {
    /// A log whose lines name `who` (the role, `owner 1`, ...).
    pub fn new(who: impl Into<String>) -> Log {
        Log {
            who: who.into(),
            quiet: false,
        }
    }

    /// A log that writes nothing: for a host running many parties in one process (a test of a
    /// thousand data owners), whose outcome is in each run's result.
    pub fn quiet() -> Log {
        Log {
            who: String::new(),
            quiet: true,
        }
    }

    /// Writes one line.
    pub fn line(&self, message: impl std::fmt::Display) {
        if self.quiet {
            return;
        }
        let line = format!("{} {}: {message}\n", timestamp(SystemTime::now()), self.who);
        // A closed standard error is no reason to stop a job.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// `t` as RFC 3339 UTC with milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of day `z` since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A byte count for people: `812 B`, `12.3 kB`, `4.56 MB`, `1.23 GB`.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.2} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.2} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 12:34:56.789 UTC (a leap day of a year divisible by 400).
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(timestamp(t), "2000-02-29T12:34:56.789Z");
        // 2026-05-01 00:00:00 UTC.
        let t = UNIX_EPOCH + Duration::from_secs(1_777_593_600);
        assert_eq!(timestamp(t), "2026-05-01T00:00:00.000Z");
    }

    #[test]
    fn byte_counts() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(12_345), "12.3 kB");
        assert_eq!(bytes(4_560_000), "4.56 MB");
    }
}
