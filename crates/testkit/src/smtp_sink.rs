//! A local SMTP server for tests: listens on 127.0.0.1, accepts every
//! message (or refuses every recipient, to test permanent failures) and
//! keeps what it received. Plain SMTP only, std threads only, so both the
//! async integration tests and the process tests of the binary can use it.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The raw message (headers and body), dot-unstuffed.
    pub data: String,
}

/// A running sink; it stops with the test process.
#[derive(Debug, Clone)]
pub struct SmtpSink {
    /// The port on 127.0.0.1.
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// A sink that accepts everything.
    pub fn start() -> SmtpSink {
        Self::start_on(
            TcpListener::bind("127.0.0.1:0").expect("bind SMTP sink"),
            false,
        )
    }

    /// A sink that refuses every recipient with 550 (a permanent error).
    pub fn refusing() -> SmtpSink {
        Self::start_on(
            TcpListener::bind("127.0.0.1:0").expect("bind SMTP sink"),
            true,
        )
    }

    /// A sink on a listener the test already holds (to start it late on a
    /// port a server was configured with).
    pub fn start_on(listener: TcpListener, refuse: bool) -> SmtpSink {
        let port = listener.local_addr().expect("sink address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = store.clone();
                std::thread::spawn(move || {
                    let _ = session(stream, &store, refuse);
                });
            }
        });
        SmtpSink { port, received }
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What arrived so far.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

fn session(stream: TcpStream, store: &Mutex<Vec<Received>>, refuse: bool) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP test sink\r\n")?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            out.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command);
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            if refuse {
                out.write_all(b"550 5.1.1 no such mailbox here\r\n")?;
            } else {
                to.push(address(&command));
                out.write_all(b"250 ok\r\n")?;
            }
        } else if upper == "DATA" {
            out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let mut messages = store.lock().map_err(|_| std::io::ErrorKind::Other)?;
            messages.push(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            let id = messages.len();
            drop(messages);
            out.write_all(format!("250 2.0.0 Ok: queued as SINK{id}\r\n").as_bytes())?;
        } else if upper == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 not implemented\r\n")?;
        }
    }
}

fn address(command: &str) -> String {
    command
        .split_once(':')
        .map(|(_, rest)| rest.trim())
        .unwrap_or("")
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or("")
        .to_owned()
}
