//! Hardening (issue 18): every size is checked before it allocates, argument errors leave the
//! party usable, and configurations that cannot work are refused when they are built.
//!
//! Each case runs between two real parties (with a dealer), checks the error it now gives, and
//! then runs a product and a reveal on the same parties to show that the session is still usable
//! (nothing was sent). The oversized products also run in a child process whose peak resident
//! memory is read from `/proc/self/status`: before the fix they aborted the process
//! ("memory allocation of 8796093022208 bytes failed").

mod common;

use common::{TestParty, input_from_p0, input_from_p1, run_pair, seed};
use fixshare::limits::{self, DEFAULT_MAX_ELEMENTS};
use fixshare::{
    Config, Context, ErrorKind, FixedPoint, Party, Role, Session, SessionConfig, Shares, duplex,
};
use std::process::Command;

/// Set in the child process of the peak-memory tests.
const CHILD: &str = "FIXSHARE_HARDENING_CHILD";

/// The peak memory the child may reach: the test harness, three threads and a few 1 MiB vectors.
const PEAK_RSS_LIMIT_KB: u64 = 96 * 1024;

/// A product and a reveal: the session still works (both parties call it at the same point).
async fn still_usable(p: &mut TestParty) -> Result<(), fixshare::Error> {
    let x = input_from_p0(p, &[1.5, -2.0], 2, 1).await?;
    let y = input_from_p1(p, &[4.0, 0.25], 2, 1).await?;
    let z = p.mul(&x, &y).await?;
    assert_eq!(p.reveal(&z).await?, [6.0, -0.5]);
    assert_eq!(*p.state(), fixshare::State::Ready);
    Ok(())
}

/// Runs `body` on both parties, then [`still_usable`]; returns both parties' results.
fn pair<V: Send + 'static>(
    config: Config,
    tag: u64,
    body: impl AsyncFn(&mut TestParty) -> Result<V, fixshare::Error> + Send + Sync + Clone + 'static,
) -> (V, V) {
    let (a, b) = run_pair(config, tag, move |mut p| {
        let body = body.clone();
        async move {
            let v = body(&mut p).await?;
            still_usable(&mut p).await?;
            Ok(v)
        }
    });
    (a.expect("party 0"), b.expect("party 1"))
}

fn too_large(e: &fixshare::Error) -> (usize, usize, usize) {
    match *e.kind() {
        ErrorKind::TooLarge { rows, cols, max } => (rows, cols, max),
        ref other => panic!("expected TooLarge, got {other:?} ({e})"),
    }
}

/// Reads the peak resident set size of this process (kB) from `/proc/self/status`.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// The oversized products of the issue, run by the child process: `1 x 0` by `0 x 2^40` (the
/// result alone is 8 TiB) and the outer product of two `2^17` vectors (128 GiB), each refused
/// before the matrix triple is requested; then the session is used again.
fn oversized_products() {
    let n = 1usize << 17;
    let (a, b) = pair(Config::default(), 1, async move |p| {
        let empty = input_from_p0(p, &[], 1, 0).await?;
        let wide = empty.clone().reshape(0, 1 << 40)?;
        let e = p.matmul(&empty, &wide).await.unwrap_err();
        assert_eq!(e.op(), "matmul");
        assert_eq!(too_large(&e), (1, 1 << 40, DEFAULT_MAX_ELEMENTS), "{e}");
        let v: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let col = input_from_p0(p, &v, n, 1).await?;
        let row = col.transpose();
        let e = p.matmul(&col, &row).await.unwrap_err();
        assert_eq!(too_large(&e), (n, n, DEFAULT_MAX_ELEMENTS), "{e}");
        // The same through integer products and the dot product's reshapes.
        let e = p.matmul_integer(&col, &row).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::TooLarge { .. }), "{e}");
        Ok(e.to_string())
    });
    assert_eq!(a, b);
    assert!(
        a.contains(&format!("{n} x {n} = {} elements", n * n)),
        "{a}"
    );
    println!("peak_rss_kb: {}", peak_rss_kb());
}

#[test]
fn oversized_products_are_refused_before_allocating() {
    if std::env::var_os(CHILD).is_some() {
        oversized_products();
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args([
            "--exact",
            "oversized_products_are_refused_before_allocating",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("runs the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child process failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let peak: u64 = stdout
        .lines()
        .find_map(|l| l.split("peak_rss_kb: ").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak_rss_kb line in:\n{stdout}"));
    assert!(
        peak < PEAK_RSS_LIMIT_KB,
        "peak RSS {peak} kB is over {PEAK_RSS_LIMIT_KB} kB"
    );
}

#[test]
fn receive_input_of_an_overflowing_shape_explains_itself() {
    let (a, _) = pair(Config::default(), 2, async |p| {
        let e = p.receive_input(usize::MAX, 2).await.unwrap_err();
        assert_eq!(too_large(&e), (usize::MAX, 2, DEFAULT_MAX_ELEMENTS));
        // Over the limit without overflowing: refused before the peer's seed is awaited (the
        // peer sends none, so a receive would take the next frame and poison the session).
        let e2 = p.receive_input(1 << 20, 1 << 20).await.unwrap_err();
        assert_eq!(too_large(&e2), (1 << 20, 1 << 20, DEFAULT_MAX_ELEMENTS));
        Ok(e.to_string())
    });
    assert_eq!(
        a,
        "receive_input: 18446744073709551615 x 2 elements overflow the address space (the \
         maximum is 268435456 per operation)"
    );
    assert!(!a.contains("expected"), "{a}");
}

#[test]
fn argument_errors_of_products_and_truncation_leave_the_session_usable() {
    pair(Config::default(), 3, async |p| {
        let x = input_from_p0(p, &[1.0, 2.0], 2, 1).await?;
        let y = input_from_p1(p, &[1.0, 2.0, 3.0], 3, 1).await?;
        let e = p.mul(&x, &y).await.unwrap_err();
        assert_eq!(
            *e.kind(),
            ErrorKind::DimensionMismatch {
                expected: 2,
                got: 3
            }
        );
        let e = p.truncate(&x, 200).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
        let e = p.matmul(&x, &y).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::DimensionMismatch { .. }),
            "{e}"
        );
        Ok(())
    });
}

#[test]
fn the_configured_maximum_applies_to_every_product() {
    let config = Config {
        max_elements: 100,
        ..Config::default()
    };
    pair(config, 4, async |p| {
        let v = vec![0.5; 101];
        let e = p.share_input(&v, 101, 1).await.unwrap_err();
        assert_eq!(too_large(&e), (101, 1, 100));
        let e = p.receive_input(101, 1).await.unwrap_err();
        assert_eq!(too_large(&e), (101, 1, 100));
        let col = input_from_p0(p, &[1.0; 11], 11, 1).await?;
        let row = col.transpose();
        // 11 x 11 = 121 > 100: refused; 1 x 1 (row by column) is fine.
        let e = p.matmul(&col, &row).await.unwrap_err();
        assert_eq!(too_large(&e), (11, 11, 100));
        let dot = p.matmul(&row, &col).await?;
        assert_eq!(p.reveal(&dot).await?, [11.0]);
        Ok(())
    });
}

#[test]
fn shapes_that_overflow_are_errors_in_every_build() {
    let e = Shares::<u64>::zeros(1 << 33, 1 << 33).unwrap_err();
    assert_eq!(too_large(&e), (1 << 33, 1 << 33, usize::MAX));
    let e = Shares::<u64>::matrix(1 << 33, 1 << 33, vec![]).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TooLarge { .. }), "{e}");
    assert_eq!(Shares::<u64>::zeros(0, usize::MAX).unwrap().len(), 0);
    assert!(limits::elements("op", usize::MAX, usize::MAX, usize::MAX).is_err());
}

#[test]
fn fractional_bits_that_do_not_fit_the_ring_are_refused_when_the_config_is_built() {
    let e = Config::new(32, 40).unwrap_err();
    assert!(e.to_string().contains("ring width minus 2"), "{e}");
    assert!(Config::new(32, 30).is_ok());
    assert!(Config::new(64, 62).is_ok());
    assert!(Config::new(64, 63).is_err());
    assert!(Config::new(128, u32::MAX).is_err());
    assert!(Config::new(48, 16).is_err());
    let zero = Config {
        max_elements: 0,
        ..Config::default()
    };
    assert!(zero.check(64).is_err());

    // Party::from_context refuses a format that does not fit its ring.
    let wide = Config {
        fixed: FixedPoint::new(40).unwrap(),
        ..Config::default()
    };
    let (a, _b) = duplex();
    let ctx = Context::two_party(
        Role::P0,
        fixshare::Link::new(a),
        fixshare::IdealCorrelations::new(Role::P0, seed(5)),
        seed(6),
        wide,
    );
    let e = Party::<_, _, u32>::from_context(ctx)
        .err()
        .expect("refused");
    assert!(e.to_string().contains("ring width minus 2"), "{e}");

    // The session's configuration, with fractional bits near u32::MAX (an overflow before).
    for frac_bits in [31, u32::MAX, u32::MAX - 1] {
        let mut c = SessionConfig::two_servers(Role::P0, fixshare::session::Offline::Dealer);
        c.ring_bits = 32;
        c.frac_bits = frac_bits;
        assert!(c.check().is_err());
        let (peer, _) = duplex();
        let (dealer, _) = duplex();
        let r = fixshare::block_on_thread(Session::connect(c, seed(7), peer, Some(dealer)));
        assert!(matches!(
            r.err().map(|e| e.kind().clone()),
            Some(ErrorKind::InvalidArgument(_))
        ));
    }
}

#[test]
fn a_party_built_with_a_bad_format_refuses_inputs_and_products_before_sending() {
    let wide = Config {
        fixed: FixedPoint::new(40).unwrap(),
        ..Config::default()
    };
    let (a, _b) = duplex();
    let mut p: Party<_, _, u32> = Party::new(
        Role::P0,
        a,
        fixshare::IdealCorrelations::new(Role::P0, seed(9)),
        seed(10),
        wide,
    );
    fixshare::block_on_thread(async {
        let e = p.share_input(&[1.0], 1, 1).await.unwrap_err();
        assert!(e.to_string().contains("ring width minus 2"), "{e}");
        let e = p.receive_input(1, 1).await.unwrap_err();
        assert!(e.to_string().contains("ring width minus 2"), "{e}");
        let x = Shares::<u32>::vector(vec![1, 2]);
        let e = p.mul(&x, &x).await.unwrap_err();
        assert!(e.to_string().contains("ring width minus 2"), "{e}");
        let e = p.matmul(&x.transpose(), &x).await.unwrap_err();
        assert!(e.to_string().contains("ring width minus 2"), "{e}");
    });
    assert_eq!(p.stats().bytes_sent, 0);
    assert_eq!(*p.state(), fixshare::State::Ready);
}

/// Found by the dealer fuzz target: a matrix triple with `n = 0` columns made the dealer send
/// empty frames that party 1 never read, so the next correlation failed and poisoned both.
#[test]
fn an_empty_matrix_product_keeps_the_dealer_in_step() {
    pair(Config::default(), 11, async |p| {
        let x = input_from_p0(p, &[1.0; 9], 3, 3).await?;
        let empty = input_from_p1(p, &[], 3, 0).await?;
        let z = p.matmul(&x, &empty).await?;
        assert_eq!(z.shape(), (3, 0));
        Ok(())
    });
}
