//! Load on `POST /api/v1/users/{id}/verify` over loopback, for
//! `bench/api_verify.sh`.
//!
//!     verify_load seed  N               (with the server's TWOFACTOR_* settings; prints nothing secret)
//!     verify_load run   BASE KEY N FIRST_ID SECONDS CONNECTIONS right|wrong
//!     verify_load codes N FIRST_ID   (id and current code per user, for wrk)
//!     verify_load seed-logins N      (users login0… with LOGIN_PASSWORD and an app, for bench/load.sh)
//!     verify_load login-codes N      (username and current code per login user, for wrk)
//!     verify_load seed-oidc N FILE [ALG] (a client signing with ALG, RS256 by default, and N codes ready to exchange, for bench/oidc_token.sh)
//!     verify_load hash-time          (median ms of one argon2 hash as the server does it)
//!     verify_load hash-time-parallel (the same with every core hashing at once)
//!
//! `seed` writes N users with authenticators straight into the database
//! (seeds derived from the database id, so `run` can compute their codes);
//! `run` sends verifications from CONNECTIONS concurrent clients and prints
//! throughput, p50, p99 and the answers. `right` gives each user its
//! current code once (a second use in the same step would be a replay);
//! `wrong` sends codes that never match, which also exercises the lock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use domain::ports::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use domain::{NewUser, Role, TotpFactor};
use otp::{Algorithm, Digits, Period, Secret, Totp};

fn seed_for(index: usize) -> Secret {
    let mut bytes = [0u8; 20];
    bytes[..8].copy_from_slice(&(index as u64).to_le_bytes());
    bytes[8..16].copy_from_slice(b"twofact!");
    Secret::from_bytes(bytes.to_vec()).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The app as the server's `TWOFACTOR_*` settings make it.
async fn app() -> twofactor::app::App {
    let config = twofactor::config::Config::load(None).unwrap();
    let mode = twofactor::app::Mode::Serve;
    twofactor::app::build(&config, mode, Arc::new(domain::SystemClock), None)
        .await
        .unwrap()
}

/// Links an authenticator with `seed` to user `id`, as enrollment stores it.
async fn link_app(
    store: &dyn domain::Store,
    login: &domain::LoginService,
    id: domain::UserId,
    seed: &Secret,
) {
    let sealed = login.seal_totp_seed(id, seed).unwrap();
    store
        .set_totp(
            &TotpFactor {
                user_id: id,
                key_id: login.key_id().to_owned(),
                sealed_secret: sealed,
                algorithm: Algorithm::Sha1,
                digits: Digits::SIX,
                period: Period::DEFAULT,
                last_step: None,
                clock_offset_steps: 0,
            },
            now(),
        )
        .await
        .unwrap();
}

/// The code of `seed` at `at`.
fn code_at(seed: Secret, at: u64) -> String {
    Totp::new(seed, Algorithm::Sha1, Digits::SIX, Period::DEFAULT)
        .generate(at)
        .unwrap()
        .as_str()
        .to_owned()
}

async fn seed(n: usize) {
    let app = app().await;
    let practice = app.practice(None).await.unwrap();
    let store = app.store.clone();
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, login, next) = (store.clone(), app.login.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let user = NewUser {
                    practice_id: practice,
                    username: format!("load{i}"),
                    email: format!("load{i}@clinic.example"),
                    phone: None,
                    role: Role::Staff,
                    password_hash: None,
                    display_name: String::new(),
                };
                let id = store
                    .create_api_user(&user, Some(&format!("load-{i}")), now())
                    .await
                    .unwrap();
                // Seeded by the id the database gave (inserts run in parallel).
                link_app(&store, &login, id, &seed_for(id.0 as usize)).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Ids follow insertion order, and the earliest insert is one of the
    // eight tasks' first: the smallest of those is where the block starts.
    let mut first = i64::MAX;
    for i in 0..8.min(n) {
        let user = store.user_by_username(&format!("load{i}")).await.unwrap();
        first = first.min(user.unwrap().id.0);
    }
    println!(
        "seeded {n} users from id {first} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    println!("FIRST_ID={first}");
}

async fn run(
    base: String,
    key: String,
    n: usize,
    first_id: i64,
    seconds: u64,
    connections: usize,
    right: bool,
) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    if right {
        // Start at the beginning of a step so the run's codes stay current.
        let wait = 30 - now() % 30;
        if wait < 29 {
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    }
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, next, base, key) = (client.clone(), next.clone(), base.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut valid, mut invalid, mut locked, mut errors) = (0u64, 0u64, 0u64, 0u64);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed) % n;
                let seed = seed_for(first_id as usize + i);
                let token = if right {
                    code_at(seed, now())
                } else {
                    wrong_code(&seed, now())
                };
                let started = Instant::now();
                let response = client
                    .post(format!(
                        "{base}/api/v1/users/{}/verify",
                        first_id + i as i64
                    ))
                    .bearer_auth(&key)
                    .json(&serde_json::json!({ "token": token }))
                    .send()
                    .await;
                let body: Option<serde_json::Value> = match response {
                    Ok(r) if r.status().is_success() => r.json().await.ok(),
                    Ok(r) => {
                        eprintln!(
                            "answer {}: {}",
                            r.status(),
                            r.text().await.unwrap_or_default()
                        );
                        None
                    }
                    Err(e) => {
                        eprintln!("request failed: {e}");
                        None
                    }
                };
                latencies.push(started.elapsed());
                match body {
                    Some(v) if v["valid"] == true => valid += 1,
                    Some(v) if !v["locked_until"].is_null() => locked += 1,
                    Some(_) => invalid += 1,
                    None => errors += 1,
                }
            }
            (latencies, valid, invalid, locked, errors)
        }));
    }
    let mut all = Vec::new();
    let (mut valid, mut invalid, mut locked, mut errors) = (0, 0, 0, 0);
    for task in tasks {
        let (l, v, i, k, e) = task.await.unwrap();
        all.extend(l);
        valid += v;
        invalid += i;
        locked += k;
        errors += e;
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{} requests in {seconds}s: {:.0}/s  p50 {:.2} ms  p99 {:.2} ms  valid {valid}  invalid {invalid}  locked {locked}  errors {errors}",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
}

/// Prints `id code wrong` for each seeded user: the code of the current
/// step, accepted until the end of the next one, and a code that is not the
/// user's for any step from two before to three after (for wrk's
/// `bench/verify.lua`). It was "000000" for everyone, which is one of a
/// user's three accepted codes for about one user in 330,000: wrong-code
/// runs now and then counted one valid code, and the right-code run after
/// it one replay.
fn codes(n: usize, first_id: i64) {
    use std::io::Write as _;
    let at = now();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        let id = first_id as usize + i;
        let seed = seed_for(id);
        writeln!(
            out,
            "{id} {} {}",
            code_at(seed.clone(), at),
            wrong_code(&seed, at)
        )
        .unwrap();
    }
}

/// The first of 000000, 000001, … that `seed` does not give for any step
/// from two before `at`'s to three after: wrong for the whole of a run.
fn wrong_code(seed: &Secret, at: u64) -> String {
    let near: Vec<String> = (0..6)
        .map(|k| code_at(seed.clone(), (at + k * 30).saturating_sub(60)))
        .collect();
    (0..)
        .map(|n: u32| format!("{n:06}"))
        .find(|code| !near.contains(code))
        .unwrap()
}

/// The password of every `seed-logins` user.
const LOGIN_PASSWORD: &str = "correct horse battery staple";

/// The app seed of login user `i` (apart from the API users' seeds).
fn login_seed(i: usize) -> Secret {
    seed_for(1 << 40 | i)
}

/// Users `login0`… with [`LOGIN_PASSWORD`] (one argon2 hash, shared) and an
/// authenticator seeded by their index.
async fn seed_logins(n: usize) {
    let app = app().await;
    let practice = app.practice(None).await.unwrap();
    let store = app.store.clone();
    let hash = domain::password::hash(LOGIN_PASSWORD).unwrap();
    for i in 0..n {
        let user = NewUser {
            practice_id: practice,
            username: format!("login{i}"),
            email: format!("login{i}@clinic.example"),
            phone: None,
            role: Role::Staff,
            password_hash: Some(hash.clone()),
            display_name: String::new(),
        };
        let id = store.create_user(&user, now()).await.unwrap();
        link_app(&store, &app.login, id, &login_seed(i)).await;
    }
    println!("seeded {n} login users");
}

/// The redirect URI of `seed-oidc`'s client.
const OIDC_REDIRECT: &str = "https://bench.clinic.example/cb";

/// A confidential client and N authorization codes of one user, as a
/// finished sign-in leaves them (each good for 60 seconds from now).
/// Prints `CLIENT_ID=…` and `CLIENT_SECRET=…` (a scratch database's), then
/// one code per line to the file `codes_path`.
async fn seed_oidc(n: usize, codes_path: &str, alg: domain::oidc::SigningAlg) {
    use std::io::Write as _;
    let app = app().await;
    let practice = app.practice(None).await.unwrap();
    let store = app.store.clone();
    let user = NewUser {
        practice_id: practice,
        username: "oidcbench".into(),
        email: "oidcbench@clinic.example".into(),
        phone: None,
        role: Role::Staff,
        password_hash: Some(domain::password::hash(LOGIN_PASSWORD).unwrap()),
        display_name: "Dr Bench".into(),
    };
    let user = store.create_user(&user, now()).await.unwrap();
    let issued = app
        .login
        .oidc_add_client(
            &domain::oidc::NewClient {
                name: "bench",
                practice,
                redirect_uris: &[OIDC_REDIRECT.to_owned()],
                post_logout_redirect_uris: &[],
                public: false,
                id_token_alg: alg,
            },
            None,
            &domain::RequestContext::admin_cli(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(codes_path).unwrap());
    let at = now();
    for i in 0..n {
        let code = format!("bench-code-{i}-{at}");
        let grant = domain::oidc::Grant {
            id: 0,
            client_id: issued.client.client_id.clone(),
            user,
            redirect_uri: OIDC_REDIRECT.into(),
            scope: "openid profile email".into(),
            nonce: Some(format!("n{i}")),
            code_challenge: None,
            auth_time: at,
            amr: domain::Amr::PWD.with(domain::Amr::OTP),
            created_at: at,
        };
        store
            .add_grant(&grant, &domain::token::digest(&code))
            .await
            .unwrap();
        writeln!(out, "{code}").unwrap();
    }
    out.flush().unwrap();
    println!("CLIENT_ID={}", issued.client.client_id);
    println!("CLIENT_SECRET={}", issued.secret.unwrap());
}

/// "login{i} CODE" per login user, for the current step.
fn login_codes(n: usize) {
    use std::io::Write as _;
    let at = now();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        writeln!(out, "login{i} {}", code_at(login_seed(i), at)).unwrap();
    }
}

/// Milliseconds of each of 15 argon2id hashes with the server's parameters,
/// in one working memory reused as a server hashing thread does (warmed by
/// one hash first).
fn hash_times() -> Vec<f64> {
    let mut workspace = domain::password::Workspace::default();
    domain::password::hash_in(&mut workspace, LOGIN_PASSWORD).unwrap();
    (0..41)
        .map(|_| {
            let started = Instant::now();
            domain::password::hash_in(&mut workspace, LOGIN_PASSWORD).unwrap();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

fn print_median(mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    println!("{:.2}", times[times.len() / 2]);
}

/// The median time of one hash, alone.
fn hash_time() {
    print_median(hash_times());
}

/// The median time of one hash while every core hashes at once, as the
/// server's hashing threads do under a login load.
fn hash_time_parallel() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads: Vec<_> = (0..cores).map(|_| std::thread::spawn(hash_times)).collect();
    print_median(
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect(),
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("seed") => seed(args[2].parse().unwrap()).await,
        Some("run") => {
            run(
                args[2].clone(),
                args[3].clone(),
                args[4].parse().unwrap(),
                args[5].parse().unwrap(),
                args[6].parse().unwrap(),
                args[7].parse().unwrap(),
                args[8] == "right",
            )
            .await
        }
        Some("codes") => codes(args[2].parse().unwrap(), args[3].parse().unwrap()),
        Some("seed-logins") => seed_logins(args[2].parse().unwrap()).await,
        Some("login-codes") => login_codes(args[2].parse().unwrap()),
        Some("seed-oidc") => {
            let alg = args.get(4).map_or("RS256", String::as_str);
            let alg = domain::oidc::SigningAlg::parse(alg).unwrap();
            seed_oidc(args[2].parse().unwrap(), &args[3], alg).await
        }
        Some("hash-time") => hash_time(),
        Some("hash-time-parallel") => hash_time_parallel(),
        _ => eprintln!(
            "usage: verify_load seed N | run BASE KEY N FIRST_ID SECONDS CONNECTIONS right|wrong | codes N FIRST_ID | seed-logins N | login-codes N | seed-oidc N CODES_FILE [RS256|ES256] | hash-time | hash-time-parallel"
        ),
    }
}
