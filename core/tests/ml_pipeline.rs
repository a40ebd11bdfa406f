//! The ML pipeline end to end on threads: data owners prepare and share a table the test makes
//! itself, two servers train on the shares with a dealer and report progress after every epoch,
//! owner 0 reconstructs the model, and the plaintext reference trains the same way beside them.

mod common;

use common::{TestRng, seed};
use fixshare::ml::pipeline::{self, Classes, GlmPlan, OwnerPart, Partition, Progress};
use fixshare::ml::plain::{self, Mlp};
use fixshare::ml::{Dataset, GlmModel, MlpLoss, MlpParams, SgdParams, Sigmoid, inference};
use fixshare::{
    Backend, Config, Context, Dealer, DealerClient, Error, ErrorKind, Link, MemoryTransport, Role,
    Shares, block_on_thread, duplex,
};
use std::thread::{self, JoinHandle};

/// `n` rows of `d` features on different scales and offsets (so that standardization matters)
/// and a target: a noisy linear function, or its sign as 0/1 (`binary`).
fn table(n: usize, d: usize, binary: bool, rng_seed: u64) -> Dataset {
    let mut rng = TestRng(rng_seed);
    let w: Vec<f64> = (0..d)
        .map(|j| if j % 2 == 0 { 1.0 } else { -0.5 })
        .collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let mut t = rng.uniform(-0.1, 0.1);
        for (j, wj) in w.iter().enumerate() {
            let scale = (j + 1) as f64 * 3.0;
            let v = rng.uniform(-1.0, 1.0);
            x.push(10.0 * j as f64 + scale * v);
            t += wj * v;
        }
        y.push(if binary {
            f64::from(u8::from(t >= 0.0))
        } else {
            5.0 + 2.0 * t
        });
    }
    Dataset {
        feature_names: (0..d).map(|j| format!("f{j}")).collect(),
        target_name: "y".into(),
        x,
        y,
        lines: Vec::new(),
    }
}

/// Each server's links to the owners, and the owners' threads (owner `k` runs `owner(k, to0,
/// to1)`).
type OwnerLinks = [Vec<Link<MemoryTransport>>; 2];

fn spawn_owners<V: Send + 'static>(
    count: usize,
    owner: impl Fn(usize, Link<MemoryTransport>, Link<MemoryTransport>) -> Result<V, Error>
    + Send
    + Sync
    + Clone
    + 'static,
) -> (OwnerLinks, Vec<JoinHandle<Result<V, Error>>>) {
    let mut links: OwnerLinks = [Vec::new(), Vec::new()];
    let mut threads = Vec::new();
    for k in 0..count {
        let (o0, s0) = duplex();
        let (o1, s1) = duplex();
        links[0].push(Link::new(s0));
        links[1].push(Link::new(s1));
        let owner = owner.clone();
        threads.push(thread::spawn(move || {
            owner(k, Link::new(o0), Link::new(o1))
        }));
    }
    (links, threads)
}

type ServerContext = Context<MemoryTransport, DealerClient<MemoryTransport>>;

/// Runs `server` as both servers, each with a context over a dealer, on threads; returns both
/// results once the dealer has finished.
fn run_servers<V: Send + 'static, F>(
    tag: u64,
    config: Config,
    links: OwnerLinks,
    server: impl Fn(ServerContext, Vec<Link<MemoryTransport>>) -> F + Send + Sync + Clone + 'static,
) -> [Result<V, Error>; 2]
where
    F: Future<Output = Result<V, Error>>,
{
    let (p0, p1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer =
        thread::spawn(move || block_on_thread(Dealer::new(seed(1000 + tag), d0, d1).serve()));
    let [l0, l1] = links;
    let handles =
        [(Role::P0, p0, c0, l0), (Role::P1, p1, c1, l1)].map(|(role, peer, dl, owners)| {
            let server = server.clone();
            thread::spawn(move || {
                block_on_thread(async move {
                    let source = DealerClient::connect(role, dl).await?;
                    let own_seed = seed(10 * tag + role.index() as u64);
                    let ctx = Context::two_party(role, Link::new(peer), source, own_seed, config);
                    server(ctx, owners).await
                })
            })
        });
    let out = handles.map(|h| h.join().expect("a server panicked"));
    let _ = dealer.join().expect("the dealer panicked");
    out
}

/// What a regression run gives: owner 0's weights, each server's weight shares and progress.
struct GlmRun {
    prepared: pipeline::Prepared,
    weights: Vec<f64>,
    shares: [Shares<u64>; 2],
    progress: [Vec<Progress>; 2],
}

fn run_glm(data: &Dataset, plan: GlmPlan, config: Config, tag: u64) -> GlmRun {
    let fixed = Config::default().fixed;
    let prepared = pipeline::prepare::<u64>(data, &plan, fixed).expect("the table is fine");
    let model_len = prepared.train.features() + 1;
    let parts = prepared.parts.clone();
    let (links, owners) = spawn_owners(parts.len(), move |k, mut to0, mut to1| {
        block_on_thread(pipeline::own::<u64, _, _>(
            &parts[k],
            seed(100 * tag + k as u64),
            fixed,
            &mut to0,
            &mut to1,
            (k == 0).then_some(model_len),
        ))
    });
    let [r0, r1] = run_servers(tag, config, links, move |mut ctx, mut owners| async move {
        let mut progress = Vec::new();
        let w: Shares<u64> =
            pipeline::serve_glm(&mut ctx, &mut owners, &plan, pipeline::MAX_PART, |p| {
                progress.push(*p)
            })
            .await?;
        Ok((w, progress))
    });
    let (w0, g0) = r0.expect("server 0");
    let (w1, g1) = r1.expect("server 1");
    let mut weights = None;
    for h in owners {
        weights = weights.or(h.join().expect("an owner panicked").expect("owner"));
    }
    GlmRun {
        prepared,
        weights: weights.expect("owner 0 gets the model"),
        shares: [w0, w1],
        progress: [g0, g1],
    }
}

/// One report per epoch, in order, with traffic that grows every epoch.
fn check_progress(progress: &[Progress], epochs: usize) {
    let numbers: Vec<(usize, usize)> = progress.iter().map(|p| (p.epoch, p.epochs)).collect();
    assert_eq!(
        numbers,
        (1..=epochs).map(|e| (e, epochs)).collect::<Vec<_>>()
    );
    let bytes = |s: fixshare::Stats| s.bytes_sent + s.bytes_received;
    for w in progress.windows(2) {
        assert!(w[1].online.bytes_sent > w[0].online.bytes_sent);
        assert!(w[1].online.rounds > w[0].online.rounds);
        // Every epoch asks the dealer for fresh correlations (server 0 sends requests only,
        // server 1 also receives corrections).
        assert!(bytes(w[1].offline) > bytes(w[0].offline));
    }
    assert!(progress[0].online.bytes_sent > 0 && progress[0].offline.bytes_sent > 0);
}

/// The secure weights beside plaintext SGD on the same prepared rows.
fn check_against_plain(run: &GlmRun, plan: &GlmPlan) {
    let train = &run.prepared.train;
    let d = train.features();
    let reference = plain::train_glm(&train.x, &train.y, d, plan.model, &plan.sgd);
    assert_eq!(run.weights.len(), d + 1);
    let err = plain::rel_rmse(&run.weights, &reference);
    assert!(err < 1e-2, "weights {:?} vs {reference:?}", run.weights);
    let (secure, expected) = (
        pipeline::metric(plan.model, &run.prepared.test, &run.weights),
        pipeline::metric(plan.model, &run.prepared.test, &reference),
    );
    assert!((secure - expected).abs() < 0.03, "{secure} vs {expected}");
    // The servers' shares are what owner 0 reconstructed.
    let fixed = Config::default().fixed;
    for (i, w) in run.weights.iter().enumerate() {
        let sum = run.shares[0].as_slice()[i].wrapping_add(run.shares[1].as_slice()[i]);
        assert_eq!(fixed.decode(sum), *w);
    }
}

#[test]
fn linear_regression_by_rows_matches_plaintext_and_reports_every_epoch() {
    let data = table(150, 4, false, 7);
    let plan = GlmPlan {
        sgd: SgdParams {
            epochs: 6,
            batch: 16,
            learning_rate: 0.1,
        },
        owners: 3,
        ..GlmPlan::new(GlmModel::Linear)
    };
    let run = run_glm(&data, plan, Config::default(), 1);
    assert_eq!(run.prepared.parts.len(), 3);
    assert_eq!(run.prepared.train.rows() + run.prepared.test.rows(), 150);
    assert_eq!(run.prepared.test.rows(), 30);
    check_against_plain(&run, &plan);
    assert!(pipeline::metric(plan.model, &run.prepared.test, &run.weights) > 0.8);
    for p in &run.progress {
        check_progress(p, 6);
    }
}

#[test]
fn logistic_regression_by_columns_matches_plaintext() {
    let data = table(120, 5, true, 8);
    let plan = GlmPlan {
        sgd: SgdParams {
            epochs: 4,
            batch: 20,
            learning_rate: 0.2,
        },
        partition: Partition::Columns,
        owners: 2,
        ..GlmPlan::new(GlmModel::Logistic(Sigmoid::Piecewise))
    };
    // The sigmoid by the dealer's FSS keys (the default with a dealer) and by garbled circuits:
    // the same accuracy.
    let mut accuracy = Vec::new();
    for (backend, tag) in [(Backend::Fss, 2), (Backend::GarbledCircuits, 3)] {
        let config = Config {
            backend,
            ..Config::default()
        };
        let run = run_glm(&data, plan, config, tag);
        // Two owners: features 0..2 and 2..5, the second with the targets.
        let cols: Vec<(usize, bool)> = run
            .prepared
            .parts
            .iter()
            .map(|p| (p.cols, p.y.is_some()))
            .collect();
        assert_eq!(cols, [(2, false), (3, true)]);
        check_against_plain(&run, &plan);
        accuracy.push(pipeline::metric(
            plan.model,
            &run.prepared.test,
            &run.weights,
        ));
        for p in &run.progress {
            check_progress(p, 4);
        }
    }
    assert!(accuracy[0] > 0.8);
    assert_eq!(accuracy[0], accuracy[1], "FSS and garbled circuits");
}

#[test]
fn the_owners_statistics_standardize_the_training_rows() {
    let data = table(100, 3, false, 9);
    for partition in [Partition::Rows, Partition::Columns] {
        let plan = GlmPlan {
            partition,
            owners: 10,
            ..GlmPlan::new(GlmModel::Linear)
        };
        let p = pipeline::prepare::<u64>(&data, &plan, Config::default().fixed).unwrap();
        // By columns there are at most as many owners as features.
        let owners = if partition == Partition::Rows { 10 } else { 3 };
        assert_eq!(p.parts.len(), owners);
        let stats: Vec<_> = p.parts.iter().map(OwnerPart::stats).collect();
        let all = partition.combine(&stats).unwrap();
        assert_eq!(all.count, 80);
        for c in 0..3 {
            assert!((all.sum[c] / 80.0).abs() < 1e-9, "mean of column {c}");
            assert!(
                (all.sum_sq[c] / 80.0 - 1.0).abs() < 1e-9,
                "variance of column {c}"
            );
        }
    }
}

#[test]
fn targets_that_do_not_fit_the_partition_are_refused() {
    // The owners split by rows (each sends targets); the servers expect columns.
    let data = table(50, 2, false, 10);
    let plan = GlmPlan::new(GlmModel::Linear);
    let fixed = Config::default().fixed;
    let parts = pipeline::prepare::<u64>(&data, &plan, fixed).unwrap().parts;
    let (links, owners) = spawn_owners(2, move |k, mut to0, mut to1| {
        block_on_thread(pipeline::own::<u64, _, _>(
            &parts[k],
            seed(k as u64),
            fixed,
            &mut to0,
            &mut to1,
            None,
        ))
    });
    let columns = GlmPlan {
        partition: Partition::Columns,
        ..plan
    };
    let results = run_servers(
        3,
        Config::default(),
        links,
        move |mut ctx, mut owners| async move {
            pipeline::serve_glm::<_, _, _, u64>(&mut ctx, &mut owners, &columns, 1 << 20, |_| {})
                .await
        },
    );
    for r in results {
        assert!(matches!(r.unwrap_err().kind(), ErrorKind::Malformed(_)));
    }
    for h in owners {
        h.join().unwrap().unwrap();
    }
}

/// Three classes by the largest of three linear functions of four features.
fn classes(n: usize, rng_seed: u64) -> Dataset {
    let mut data = table(n, 4, false, rng_seed);
    for (i, y) in data.y.iter_mut().enumerate() {
        let r = &data.x[i * 4..i * 4 + 4];
        let s = [
            r[0] / 3.0,
            (r[1] - 10.0) / 6.0,
            (r[3] - 30.0) / 12.0 - r[0] / 6.0,
        ];
        *y = plain::argmax(&s) as f64;
    }
    data
}

#[test]
fn perceptron_training_matches_plaintext_and_folds_the_standardization() {
    let data = classes(200, 11);
    let fixed = Config::default().fixed;
    let (train, test, standardizer) = pipeline::prepare_classes::<u64>(&data, 3, fixed).unwrap();
    assert_eq!((train.rows(), test.rows(), train.features), (160, 40, 4));
    let sizes = vec![4, 8, 3];
    let params = MlpParams {
        sgd: SgdParams {
            epochs: 3,
            batch: 16,
            learning_rate: 0.1,
        },
        init_seed: 3,
        loss: MlpLoss::Squared,
    };
    let init = Mlp::init(&sizes, params.init_seed);
    let (owner_train, owner_sizes) = (train.clone(), sizes.clone());
    let (links, owners) = spawn_owners(2, move |k, mut to0, mut to1| {
        let part: Classes = owner_train.part(2, k);
        block_on_thread(pipeline::own_classes::<u64, _, _>(
            &part,
            3,
            seed(200 + k as u64),
            fixed,
            &mut to0,
            &mut to1,
            (k == 0).then(|| plain::weight_count(&owner_sizes)),
        ))
    });
    let (server_init, server_params) = (init.clone(), params.clone());
    let results = run_servers(4, Config::default(), links, move |mut ctx, mut owners| {
        let (init, params) = (server_init.clone(), server_params.clone());
        async move {
            let mut epochs = Vec::new();
            let w: Vec<Shares<u64>> = pipeline::serve_mlp(
                &mut ctx,
                &mut owners,
                &init,
                &params,
                pipeline::MAX_PART,
                |p| epochs.push(p.epoch),
            )
            .await?;
            Ok((w.len(), epochs))
        }
    });
    for r in results {
        assert_eq!(r.unwrap(), (2, vec![1, 2, 3]));
    }
    let mut secure = None;
    for h in owners {
        secure = secure.or(h.join().unwrap().unwrap());
    }
    let secure = Mlp::from_flat(&sizes, &secure.expect("owner 0 gets the network")).unwrap();
    let mut reference = init;
    reference.train(&train.x, &train.labels, &params).unwrap();
    let err = plain::rel_rmse(&secure.flat(), &reference.flat());
    assert!(err < 2e-2, "relative error {err}");
    let (a, b) = (
        pipeline::mlp_accuracy(&secure, &test),
        pipeline::mlp_accuracy(&reference, &test),
    );
    assert!((a - b).abs() <= 0.05, "accuracy {a} vs {b}");

    // The inference network on raw features predicts what the network does on standardized ones.
    let (net, weights) = pipeline::mlp_for_inference(&secure, &standardizer).unwrap();
    assert_eq!(net, pipeline::mlp_network(&sizes));
    let (_, raw_test) = data.split_every(pipeline::TEST_EVERY);
    let out = inference::forward_plain(&net, &weights, &raw_test.x, raw_test.rows()).unwrap();
    let folded: Vec<usize> = out.chunks(3).map(plain::argmax).collect();
    assert_eq!(folded, secure.predict(&test.x, test.rows()));
}

#[test]
fn bad_class_labels_are_named() {
    let mut data = classes(20, 12);
    data.y[7] = 1.5;
    let e = pipeline::prepare_classes::<u64>(&data, 3, Config::default().fixed).unwrap_err();
    assert_eq!(e.column, 5);
    assert_eq!(
        e.kind,
        fixshare::ml::DataErrorKind::NotClass {
            value: 1.5,
            classes: 3
        }
    );
}
