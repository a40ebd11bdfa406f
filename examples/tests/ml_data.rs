//! Datasets: bad CSV input fails at the data owner, before any share is sent, naming the line
//! and column; the diabetes regression on shares matches plaintext SGD; the TCP roles work.

use fixshare_examples::ml;

use fixshare::ml::pipeline::{self, Partition};
use fixshare::ml::{DataErrorKind, Dataset, GlmModel};
use fixshare::{DataOwner, FixedPoint, Link, Role, Seed, block_on_thread, duplex};
use ml::{GlmTask, Offline, RunError};

fn diabetes() -> Dataset {
    let text = include_str!("../data/diabetes.csv");
    Dataset::from_csv(text).expect("diabetes.csv parses")
}

/// The error message of a run on `csv`, which must fail at the data owners.
fn data_error(csv: &str) -> String {
    let err = match Dataset::from_csv(csv) {
        Err(e) => e,
        Ok(data) => {
            let mut task = GlmTask::new(GlmModel::Linear);
            task.seed = Some(1);
            match ml::run_glm_local(&data, &task, |_| {}) {
                Err(RunError::Data(e)) => e,
                Err(other) => panic!("expected a data error, got {other}"),
                Ok(_) => panic!("a bad dataset was accepted"),
            }
        }
    };
    err.to_string()
}

#[test]
fn bad_csv_cells_are_named_by_line_and_column() {
    let missing = "a,b,y\n1,2,3\n4,,6\n";
    assert_eq!(data_error(missing), "line 3, column 2 (b): missing value");
    let text = "a,b,y\n1,2,3\n4,5,6\n7,x7,1\n";
    assert_eq!(
        data_error(text),
        "line 4, column 2 (b): not a number: \"x7\""
    );
    let nan = "a,b,y\n1,2,3\nNaN,5,6\n";
    assert_eq!(
        data_error(nan),
        "line 3, column 1 (a): not a number: \"NaN\""
    );
    let ragged = "a,b,y\n1,2,3\n4,5\n";
    assert_eq!(
        data_error(ragged),
        "line 3: the row has 2 cells, the header has 3"
    );
    let long = "a,b,y\n1,2,3,4\n";
    assert_eq!(
        data_error(long),
        "line 2: the row has 4 cells, the header has 3"
    );
    assert_eq!(data_error(""), "the file is empty (no header row)");
    assert_eq!(data_error("\n\n"), "the file is empty (no header row)");
    assert_eq!(data_error("a,b,y\n"), "no data rows after the header");
    // 2^47 is the first magnitude that does not fit Z_2^64 with 16 fractional bits.
    let huge = "a,b,y\n1,2,3\n4,140737488355328,6\n7,8,9\n";
    let msg = data_error(huge);
    assert!(
        msg.starts_with(
            "line 3, column 2 (b): value 140737488355328 is outside the fixed-point range"
        ),
        "{msg}"
    );
    let big_target = "a,b,y\n1,2,3\n4,5,-1e300\n";
    assert!(data_error(big_target).starts_with("line 3, column 3 (y): value"));
}

#[test]
fn an_empty_test_split_is_refused_not_reported_as_a_result() {
    let four = Dataset::from_csv("a,b,y\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n").unwrap();
    let mut task = GlmTask::new(GlmModel::Linear);
    task.seed = Some(3);
    match ml::run_glm_local(&four, &task, |_| {}) {
        Err(RunError::Data(e)) => {
            assert_eq!(
                e.kind,
                DataErrorKind::EmptyTestSplit {
                    rows: 4,
                    every: pipeline::TEST_EVERY
                }
            );
            assert!(e.to_string().contains("4 rows leave no test row"), "{e}");
        }
        other => panic!("expected a data error, got {other:?}"),
    }
    // Five rows give one test row and run.
    let five = Dataset::from_csv("a,b,y\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n2,3,4\n").unwrap();
    assert!(ml::run_glm_local(&five, &task, |_| {}).is_ok());
}

#[test]
fn bad_rows_in_a_real_file_are_found() {
    // Breaks one cell of the real diabetes file at line 100 (data row 99), column 3 (bmi).
    let text = include_str!("../data/diabetes.csv");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[99].split(',').collect();
    cells[2] = " ";
    lines[99] = cells.join(",");
    let e = Dataset::from_csv(&lines.join("\n")).unwrap_err();
    assert_eq!((e.line, e.column, e.column_name.as_str()), (100, 3, "bmi"));
    assert_eq!(e.kind, DataErrorKind::Missing);
}

#[test]
fn logistic_regression_needs_binary_targets() {
    let data = diabetes();
    let mut task = GlmTask::new(GlmModel::Logistic(Default::default()));
    task.seed = Some(2);
    match ml::run_glm_local(&data, &task, |_| {}) {
        Err(RunError::Data(e)) => {
            assert_eq!((e.line, e.column), (2, 11));
            assert_eq!(e.kind, DataErrorKind::NotBinary(151.0));
        }
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn an_out_of_range_value_sends_nothing() {
    // The owner's own check: nothing reaches either server.
    let (o0, s0) = duplex();
    let (o1, s1) = duplex();
    let mut owner = DataOwner::new(Seed::from_bytes([3; 32]), FixedPoint::default());
    let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
    let x = [1.0, 2.0, 1e15, 4.0];
    let r = block_on_thread(fixshare::ml::share::share_part::<u64, _, _>(
        &mut owner,
        &x,
        2,
        Some(&[0.0, 1.0]),
        &mut to0,
        &mut to1,
    ));
    assert!(r.is_err());
    assert_eq!(to0.stats().bytes_sent + to1.stats().bytes_sent, 0);
    drop((to0, to1));
    for (role, link) in [(Role::P0, s0), (Role::P1, s1)] {
        let mut ch = Link::new(link);
        let got = block_on_thread(fixshare::ml::share::receive_part::<u64, _>(
            role,
            &mut ch,
            1 << 20,
        ));
        assert_eq!(got.unwrap_err().kind(), &fixshare::ErrorKind::Closed);
    }
}

#[test]
fn a_failed_shape_frame_poisons_the_owner() {
    // Server 1 is gone: the shape frame to it fails, after server 0's went out.
    let (o0, _s0) = duplex();
    let (o1, s1) = duplex();
    drop(s1);
    let mut owner = DataOwner::new(Seed::from_bytes([4; 32]), FixedPoint::default());
    let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
    let x = [1.0, 2.0, 3.0, 4.0];
    let r = block_on_thread(fixshare::ml::share::share_part::<u64, _, _>(
        &mut owner, &x, 2, None, &mut to0, &mut to1,
    ));
    assert_eq!(r.unwrap_err().kind(), &fixshare::ErrorKind::Closed);
    assert!(matches!(owner.state(), fixshare::State::Poisoned(_)));
    // A poisoned owner sends nothing more.
    let sent = to0.stats().bytes_sent;
    let r = block_on_thread(fixshare::ml::share::share_part::<u64, _, _>(
        &mut owner, &x, 2, None, &mut to0, &mut to1,
    ));
    assert_eq!(r.unwrap_err().kind(), &fixshare::ErrorKind::Poisoned);
    assert_eq!(to0.stats().bytes_sent, sent);
}

#[test]
fn a_server_refuses_an_oversized_part_before_allocating() {
    let (o0, s0) = duplex();
    let mut to0 = Link::new(o0);
    let mut shape = [0u8; 24];
    shape[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    shape[8..16].copy_from_slice(&3u64.to_le_bytes());
    let mut ch0 = to0.channel(fixshare::Sub::Online);
    block_on_thread(ch0.send_frame("test", fixshare::ml::share::TAG_SHAPE, &shape)).unwrap();
    block_on_thread(ch0.flush("test")).unwrap();
    let mut ch = Link::new(s0);
    let got = block_on_thread(fixshare::ml::share::receive_part::<u64, _>(
        Role::P0,
        &mut ch,
        1 << 20,
    ));
    assert!(matches!(
        got.unwrap_err().kind(),
        fixshare::ErrorKind::Capacity { capacity, .. } if *capacity == 1 << 20
    ));
}

fn diabetes_task(offline: Offline, partition: Partition, seed: u64) -> GlmTask {
    let mut task = GlmTask::new(GlmModel::Linear);
    task.sgd.epochs = 20;
    task.sgd.learning_rate = 0.05;
    task.offline = offline;
    task.partition = partition;
    task.seed = Some(seed);
    task
}

#[test]
fn diabetes_linear_regression_matches_plaintext_sgd_with_ot() {
    let data = diabetes();
    let s = ml::run_glm_local(
        &data,
        &diabetes_task(Offline::Ot, Partition::Rows, 10),
        |_| {},
    )
    .unwrap();
    println!("{s}");
    assert!((s.secure_metric - s.plain_metric).abs() < 0.02, "{s}");
    assert!(s.plain_metric > 0.3, "{s}");
    assert!(s.weights_rel_rmse() < 1e-2, "{s}");
}

#[test]
fn diabetes_linear_regression_by_columns_with_the_dealer() {
    let data = diabetes();
    let mut task = diabetes_task(Offline::Dealer, Partition::Columns, 11);
    task.owners = 3;
    let mut epochs = Vec::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let s = ml::run_glm_local(&data, &task, move |e: &ml::Epoch| {
        tx.send(e.progress.epoch).unwrap()
    })
    .unwrap();
    epochs.extend(rx.iter());
    println!("{s}");
    assert_eq!(epochs, (1..=20).collect::<Vec<_>>());
    assert!((s.secure_metric - s.plain_metric).abs() < 0.02, "{s}");
    assert!(s.weights_rel_rmse() < 1e-2, "{s}");
    assert!(s.bytes_sent > 0 && s.rounds > 0);
}

#[test]
fn tcp_roles_on_localhost() {
    use ml::tcp::TcpTransport;
    use std::net::TcpListener;
    use std::time::Duration;
    let data = diabetes();
    let mut task = diabetes_task(Offline::Ot, Partition::Rows, 12);
    task.sgd.epochs = 3;
    task.owners = 1;
    let fixed = task.config().unwrap().fixed;
    let prepared = pipeline::prepare::<u64>(&data, &task.plan(), fixed).unwrap();
    let l0 = TcpListener::bind("127.0.0.1:0").unwrap();
    let l1 = TcpListener::bind("127.0.0.1:0").unwrap();
    let (a0, a1) = (
        l0.local_addr().unwrap().to_string(),
        l1.local_addr().unwrap().to_string(),
    );
    let patience = Duration::from_secs(20);
    let server = |role: Role, listener: TcpListener, a0: String| {
        let task = task.clone();
        std::thread::spawn(move || {
            // One connection between the servers: the OT offline phase shares it.
            let (peer, owner) = if role == Role::P0 {
                let mut l = TcpTransport::accept(&listener, &[1, 3]).unwrap();
                let owner = l.pop().unwrap();
                (l.pop().unwrap(), owner)
            } else {
                let peer = TcpTransport::connect(&a0, 1, patience).unwrap();
                let owner = TcpTransport::accept(&listener, &[3])
                    .unwrap()
                    .pop()
                    .unwrap();
                (peer, owner)
            };
            let mut owners = [Link::new(owner)];
            block_on_thread(async move {
                let mut peer = Link::new(peer);
                let src = fixshare::OtCorrelations::setup(
                    role,
                    &mut peer,
                    task.seed_for(7 + role.index() as u64),
                )
                .await?;
                ml::serve_glm(role, peer, src, Duration::ZERO, &mut owners, &task, |_| {}).await
            })
        })
    };
    let s0 = server(Role::P0, l0, a0.clone());
    let s1 = server(Role::P1, l1, a0.clone());
    let mut to0 = Link::new(TcpTransport::connect(&a0, 3, patience).unwrap());
    let mut to1 = Link::new(TcpTransport::connect(&a1, 3, patience).unwrap());
    let d = prepared.train.features();
    let w = block_on_thread(pipeline::own::<u64, _, _>(
        &prepared.parts[0],
        task.seed_for(100),
        fixed,
        &mut to0,
        &mut to1,
        Some(d + 1),
    ))
    .unwrap()
    .unwrap();
    let r0 = s0.join().unwrap().unwrap();
    let r1 = s1.join().unwrap().unwrap();
    let plain = fixshare::ml::plain::train_glm(
        &prepared.train.x,
        &prepared.train.y,
        d,
        task.model,
        &task.sgd,
    );
    assert!(fixshare::ml::plain::rel_rmse(&w, &plain) < 1e-2);
    assert_eq!(r0.online_stats.bytes_sent, r1.online_stats.bytes_sent);
    assert!(r0.offline_stats.bytes_sent > 0);
}

#[test]
fn a_server_that_disappears_ends_the_session_with_an_error() {
    // Server 1 drops its peer link after receiving the data: server 0 gets an error, no hang.
    let data = diabetes();
    let mut task = diabetes_task(Offline::Dealer, Partition::Rows, 13);
    task.owners = 1;
    let fixed = task.config().unwrap().fixed;
    let prepared = pipeline::prepare::<u64>(&data, &task.plan(), fixed).unwrap();
    let (o0, s0) = duplex();
    let (o1, s1) = duplex();
    let (p0, p1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = std::thread::spawn(move || {
        block_on_thread(fixshare::Dealer::new(Seed::from_bytes([1; 32]), d0, d1).serve())
    });
    let t = task.clone();
    let server0 = std::thread::spawn(move || {
        block_on_thread(async move {
            let src = fixshare::DealerClient::connect(Role::P0, c0).await?;
            let mut owners = [Link::new(s0)];
            ml::serve_glm(
                Role::P0,
                Link::new(p0),
                src,
                std::time::Duration::ZERO,
                &mut owners,
                &t,
                |_| {},
            )
            .await
        })
    });
    let server1 = std::thread::spawn(move || {
        let mut ch = Link::new(s1);
        let r = block_on_thread(fixshare::ml::share::receive_part::<u64, _>(
            Role::P1,
            &mut ch,
            1 << 20,
        ));
        assert!(r.is_ok());
        drop((p1, c1));
    });
    let part = prepared.parts[0].clone();
    let owner = std::thread::spawn(move || {
        block_on_thread(async move {
            let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
            pipeline::own::<u64, _, _>(
                &part,
                Seed::from_bytes([2; 32]),
                fixed,
                &mut to0,
                &mut to1,
                Some(11),
            )
            .await
        })
    });
    server1.join().unwrap();
    let e = server0.join().unwrap().unwrap_err();
    assert_eq!(e.kind(), &fixshare::ErrorKind::Closed, "{e}");
    assert!(owner.join().unwrap().is_err());
    let _ = dealer.join().unwrap();
}
