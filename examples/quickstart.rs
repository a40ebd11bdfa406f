//! The main example: a sensor secret-shares its readings to two servers, a model owner shares
//! its weights, and the servers compute the weighted score and each reading squared without
//! seeing any of them. A dealer supplies the correlated randomness. Every party runs on its own
//! thread, connected by in-memory transports; the result is printed beside the plaintext.
//!
//! Run with `cargo run --release --example quickstart`.

use fixshare::data_owner::{self, DataOwner};
use fixshare::{
    Config, Dealer, DealerClient, Error, FixedPoint, Link, Party, Role, Seed, Shares,
    block_on_thread, duplex,
};
use std::thread;

/// Fresh entropy for a seed. The core has no entropy source: the host supplies it.
fn os_seed() -> Seed {
    let mut bytes = [0u8; 32];
    let file = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    file.expect("reading /dev/urandom");
    Seed::from_bytes(bytes)
}

fn main() -> Result<(), Error> {
    let readings = [21.5, 22.25, -3.0, 19.75, 30.5, 18.0];
    let weights = [0.5, -0.25, 1.5, 0.125, 0.75, -1.0];
    let n = readings.len();
    let config = Config::default();

    let (sensor0, server0_sensor) = duplex();
    let (sensor1, server1_sensor) = duplex();
    let (peer0, peer1) = duplex();
    let (dealer0, server0_dealer) = duplex();
    let (dealer1, server1_dealer) = duplex();

    let dealer =
        thread::spawn(move || block_on_thread(Dealer::new(os_seed(), dealer0, dealer1).serve()));
    let sensor = thread::spawn(move || {
        block_on_thread(async move {
            let mut owner = DataOwner::new(os_seed(), config.fixed);
            let (mut to0, mut to1) = (Link::new(sensor0), Link::new(sensor1));
            owner
                .share::<u64, _, _>(&readings, &mut to0, &mut to1)
                .await?;
            owner
                .reconstruct_vec::<u64, _, _, 8>(&mut to0, &mut to1, 1)
                .await
        })
    });
    let server = |role: Role, sensor_link, peer, dealer_link| {
        thread::spawn(move || {
            block_on_thread(async move {
                let mut sensor = Link::new(sensor_link);
                let mut x = vec![0u64; n];
                data_owner::receive_shares(role, &mut sensor, &mut x).await?;
                let x = Shares::vector(x);
                let source = DealerClient::connect(role, dealer_link).await?;
                let mut p: Party<_, _> = Party::new(role, peer, source, os_seed(), config);
                // Server 0 also owns the model's weights and secret-shares them with server 1.
                let w = match role {
                    Role::P0 => p.share_input(&weights, n, 1).await?,
                    Role::P1 => p.receive_input(n, 1).await?,
                };
                let score = p.dot(&w, &x).await?;
                let squares = p.square(&x).await?;
                // The score goes back to the sensor only; the squares are opened to both servers.
                data_owner::send_output(&mut sensor, score.as_slice()).await?;
                let squares = p.reveal(&squares).await?;
                Ok::<_, Error>((squares, p.stats()))
            })
        })
    };
    let s0 = server(Role::P0, server0_sensor, peer0, server0_dealer);
    let s1 = server(Role::P1, server1_sensor, peer1, server1_dealer);
    let (squares, stats0) = s0.join().expect("server 0 panicked")?;
    let (_, stats1) = s1.join().expect("server 1 panicked")?;
    let score = sensor.join().expect("sensor panicked")?[0];
    let (to_p0, to_p1) = dealer.join().expect("dealer panicked")?;

    let plain: f64 = readings.iter().zip(&weights).map(|(x, w)| x * w).sum();
    let fp = FixedPoint::default();
    println!(
        "secure weighted score:    {score:.4}   (plaintext {plain:.4}, fixed point ulp {:.1e})",
        fp.ulp()
    );
    for (x, s) in readings.iter().zip(&squares) {
        println!(
            "reading {x:>6.2}: secure square {s:>9.4}   plaintext {:>9.4}",
            x * x
        );
    }
    println!(
        "server traffic: {} + {} bytes in {} + {} rounds; dealer sent {} + {} bytes",
        stats0.bytes_sent,
        stats1.bytes_sent,
        stats0.rounds,
        stats1.rounds,
        to_p0.bytes_sent,
        to_p1.bytes_sent
    );
    let ok = (score - plain).abs() < 1e-3
        && readings
            .iter()
            .zip(&squares)
            .all(|(x, s)| (x * x - s).abs() < 1e-3);
    if !ok {
        eprintln!("mismatch between the secure and plaintext results");
        std::process::exit(1);
    }
    Ok(())
}
