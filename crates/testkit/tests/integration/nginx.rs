//! Forward-auth behind a real nginx (`auth_request`), as the README shows it:
//! anonymous visitors are sent to the login page, and after the full 2FA
//! login the upstream answers and learns who the user is.

use std::process::{Command, Stdio};
use std::time::Duration;

use axum::http::HeaderMap;
use testkit::{Backend, PASSWORD, TestApp};

/// The README's snippet, with the ports filled in.
fn nginx_conf(dir: &str, port: u16, twofactor: u16, upstream: u16) -> String {
    format!(
        r#"
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};

        # twofactor's own pages, on the same origin as the app.
        location /login {{ proxy_pass http://127.0.0.1:{twofactor}; proxy_set_header X-Forwarded-For $remote_addr; }}
        location /logout {{ proxy_pass http://127.0.0.1:{twofactor}; }}
        location /static/ {{ proxy_pass http://127.0.0.1:{twofactor}; }}
        location = /twofactor-verify {{
            internal;
            proxy_pass http://127.0.0.1:{twofactor}/auth/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }}

        # The protected application.
        location / {{
            auth_request /twofactor-verify;
            auth_request_set $remote_user_from_2fa $upstream_http_remote_user;
            proxy_set_header Remote-User $remote_user_from_2fa;
            error_page 401 = @login;
            proxy_pass http://127.0.0.1:{upstream};
        }}
        location @login {{ return 302 /login?next=$request_uri; }}
    }}
}}
"#
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_auth_request_protects_an_upstream() {
    let nginx = std::path::Path::new("/usr/sbin/nginx");
    if !nginx.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is required under CI (apt-get install nginx-light)"
        );
        eprintln!("SKIPPED: install nginx-light to run the forward-auth test");
        return;
    }
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let (_, phone) = app.add_user_with_totp("drsmith").await;

    // The clinic's app: echoes who nginx says is logged in.
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_port = upstream.local_addr().unwrap().port();
    let echo = axum::Router::new().fallback(|headers: HeaderMap| async move {
        let user = headers
            .get("remote-user")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        format!("chart app; Remote-User={user}")
    });
    tokio::spawn(async move { axum::serve(upstream, echo).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        nginx_conf(
            &dir.path().display().to_string(),
            port,
            app.addr.port(),
            upstream_port,
        ),
    )
    .unwrap();
    let mut child = Command::new(nginx)
        .args([
            "-c",
            &conf.display().to_string(),
            "-p",
            &dir.path().display().to_string(),
            "-e",
            "stderr",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut browser = testkit::Client::new(base.clone());
    let anonymous = browser.get("/chart/7").await;
    assert_eq!(anonymous.status, 302, "{}", anonymous.body);
    assert!(
        anonymous
            .location()
            .unwrap()
            .ends_with("/login?next=/chart/7"),
        "{:?}",
        anonymous.location()
    );

    let reply = browser
        .submit_password_next("drsmith", PASSWORD, "/chart/7")
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        browser.get("/chart/7").await.status,
        302,
        "a half login is not enough"
    );
    let page = browser.get("/login/2fa?next=/chart/7").await;
    let csrf = page.csrf_token().unwrap();
    let reply = browser
        .post_form(
            "/login/2fa",
            &[
                ("token", &app.code(&phone, 0)),
                ("csrf_token", &csrf),
                ("next", "/chart/7"),
            ],
        )
        .await;
    assert_eq!(reply.location(), Some("/chart/7"));

    let chart = browser.get("/chart/7").await;
    assert_eq!(chart.status, 200, "{}", chart.body);
    assert_eq!(chart.body, "chart app; Remote-User=drsmith");

    // A forged Remote-User from the client is overwritten by nginx.
    let mut forger = testkit::Client::new(base.clone());
    let forged = forger
        .get_with("/chart/7", &[("remote-user", "admin")])
        .await;
    assert_eq!(forged.status, 302);

    browser.logout().await;
    assert_eq!(browser.get("/chart/7").await.status, 302);

    let _ = child.kill();
    let _ = child.wait();
    app.stop().await;
}
