//! Running `twofactor` as a process in tests: free ports, a fresh
//! PostgreSQL database or a private PostgreSQL server, the admin CLI and
//! `serve` waited on until ready. Shared by the process-level test targets
//! (`scale_out`, `resilience`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The PostgreSQL server tests use: `TEST_DATABASE_URL` without its
/// database name.
fn test_server() -> String {
    let base = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into());
    base.rsplit_once('/')
        .map_or(base.as_str(), |(s, _)| s)
        .to_owned()
}

/// Says SKIPPED, or fails under `CI=true`, where nothing may be skipped.
pub fn skip(why: &str) {
    assert!(
        std::env::var("CI").is_err(),
        "required under CI, and missing: {why}"
    );
    eprintln!("SKIPPED: {why}");
}

/// A fresh database on the test server, dropped when this goes away.
pub struct Database {
    name: String,
    /// Its URL.
    pub url: String,
}

impl Database {
    /// Creates one with `createdb`; `None` (after [`skip`]) without a server.
    pub fn create(prefix: &str) -> Option<Database> {
        let name = format!(
            "tf_{prefix}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let made = Command::new("createdb")
            .args(["-h", "127.0.0.1", "-U", "root", &name])
            .output();
        match made {
            Ok(out) if out.status.success() => Some(Database {
                url: format!("{}/{name}", test_server()),
                name,
            }),
            other => {
                skip(&format!("PostgreSQL via createdb: {other:?}"));
                None
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("dropdb")
            .args(["-h", "127.0.0.1", "-U", "root", "--force", &self.name])
            .output();
    }
}

/// A PostgreSQL server of the test's own, on a free loopback port, that the
/// test may stop and start (the shared one must stay up for other tests).
/// Run as the `postgres` account when the test runs as root, since the
/// server refuses to run as root.
pub struct PgCluster {
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
    run_as: Option<String>,
}

/// Where Debian and the test machine keep PostgreSQL's server programs.
fn pg_program(name: &str) -> Option<PathBuf> {
    ["/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/bin"]
        .into_iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PgCluster {
    /// `initdb` and start; `None` (after [`skip`]) without the server
    /// programs.
    pub fn start_new() -> Option<PgCluster> {
        if pg_program("initdb").is_none() {
            skip("PostgreSQL server programs (initdb, pg_ctl)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let run_as = is_root().then(|| "postgres".to_owned());
        if run_as.is_some() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let cluster = PgCluster {
            dir,
            port: free_port(),
            run_as,
        };
        let data = cluster.data();
        let out = cluster
            .pg("initdb", &["-D", &data, "-U", "root", "--auth=trust", "-N"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.start();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// The PostgreSQL `program` with `args`, as the account that may run it.
    fn pg(&self, program: &str, args: &[&str]) -> Command {
        let bin = pg_program(program).unwrap_or_else(|| PathBuf::from(program));
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        command.args(args).stdin(Stdio::null());
        command
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let out = self
            .pg(
                "pg_ctl",
                &[
                    "-D",
                    &self.data(),
                    "-o",
                    &options,
                    "-l",
                    &log,
                    "-w",
                    "start",
                ],
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops it the way a restart does: open connections are ended.
    pub fn stop(&self) {
        let out = self
            .pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl stop");
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://root@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

/// Where a `twofactor` process keeps its data and which services it uses.
pub struct Site {
    /// The data directory.
    pub dir: PathBuf,
    /// `None` for the embedded SQLite default.
    pub database_url: Option<String>,
    /// The mail server's port (`1`: none).
    pub smtp_port: u16,
}

impl Site {
    /// The `twofactor` command with this site's settings.
    pub fn command(&self, port: u16) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_twofactor"));
        command
            .env("TWOFACTOR_DATA_DIR", &self.dir)
            .env("TWOFACTOR_MASTER_KEY", "22".repeat(32))
            .env("TWOFACTOR_LISTEN", format!("127.0.0.1:{port}"))
            .env("TWOFACTOR_PUBLIC_URL", "http://login.clinic.test")
            .env(
                "TWOFACTOR_SMTP_URL",
                format!("smtp://127.0.0.1:{}", self.smtp_port),
            )
            .env("TWOFACTOR_LOG", "warn")
            // Load from one test key is not what the per-key limit is for.
            .env("TWOFACTOR_API_REQUESTS_PER_MINUTE", "1000000");
        match &self.database_url {
            Some(url) => command.env("TWOFACTOR_DATABASE_URL", url),
            None => command.env_remove("TWOFACTOR_DATABASE_URL"),
        };
        command
    }

    /// Runs an admin command to its end.
    pub fn try_run(&self, args: &[&str], stdin: &str) -> Output {
        output_with(self.command(1).args(args), Some(stdin))
    }

    /// Runs an admin command that must succeed; its standard output.
    pub fn run(&self, args: &[&str], stdin: &str) -> String {
        let out = self.try_run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a user with `testkit::PASSWORD`.
    pub fn add_user(&self, name: &str, role: &str) {
        self.run(
            &[
                "user",
                "add",
                name,
                "--email",
                &format!("{name}@clinic.example"),
                "--role",
                role,
                "--password-stdin",
            ],
            &format!("{}\n", testkit::PASSWORD),
        );
    }

    /// `twofactor serve` on `port`, once `/readyz` answers 200. Its
    /// standard error goes to `serve-PORT.err` in the data directory.
    pub fn serve(&self, port: u16) -> Server {
        let err = std::fs::File::create(self.dir.join(format!("serve-{port}.err"))).unwrap();
        let child = self
            .command(port)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !http(port, "GET /readyz HTTP/1.1\r\n", "").starts_with("HTTP/1.1 200") {
            assert!(Instant::now() < deadline, "server on {port} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

/// A running `twofactor serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// Its port.
    pub port: u16,
}

impl Server {
    /// Its base URL.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, as a crash or the OOM killer would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `command` to its end with `stdin` on its standard input (none:
/// /dev/null), capturing both outputs.
pub fn output_with(command: &mut Command, stdin: Option<&str>) -> Output {
    let mut child = command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// One HTTP/1.1 request on a fresh connection; the whole reply, or empty if
/// nothing listens.
pub fn http(port: u16, head: &str, body: &str) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let request = format!(
        "{head}Host: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
}
