//! `authenticator` as a person uses it: real processes, a vault in a temp
//! directory, `oathtool` and a running twofactor server as the references.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PASS: &str = "vault passphrase";
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

struct Vault {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn vault() -> Vault {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    Vault { _dir: dir, path }
}

fn run_with(vault: &Path, args: &[&str], passphrase: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authenticator"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .env("AUTHENTICATOR_PASSPHRASE", passphrase)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn run(vault: &Vault, args: &[&str]) -> Output {
    run_with(&vault.path, args, PASS, "")
}

fn out(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn err(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "{}", err(&output));
    out(&output)
}

fn oathtool(args: &[&str]) -> String {
    let output = Command::new("oathtool")
        .args(args)
        .output()
        .expect("oathtool installed");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_uri_added_gives_the_codes_oathtool_gives() {
    let v = vault();
    let uri =
        format!("otpauth://totp/drchrono:smith?secret={SECRET}&issuer=drchrono&digits=7&period=10");
    assert_eq!(ok(run(&v, &["add", &uri])), "added drchrono (smith)\n");
    assert_eq!(
        ok(run(&v, &["add", &uri])),
        "already in the vault: drchrono (smith)\n",
        "duplicates are detected"
    );
    let listed = ok(run(&v, &["list"]));
    let id = listed.split_whitespace().nth(1).unwrap().to_owned();
    assert_eq!(
        listed,
        format!("1  {id}  drchrono (smith)  (7 digits, time)\n")
    );
    assert!(
        id.len() == 6 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    for at in ["59", "1111111109", "2000000000"] {
        let plain = ok(run(&v, &["code", "--plain", "--at", at]));
        let reference = oathtool(&[
            "--totp",
            "-b",
            "-d",
            "7",
            "-s",
            "10s",
            "-N",
            &format!("@{at}"),
            SECRET,
        ]);
        assert_eq!(plain.trim(), reference, "t={at}");
    }
    let shown = ok(run(&v, &["code", "DRCH", "--at", "1111111105"]));
    let code = oathtool(&[
        "--totp",
        "-b",
        "-d",
        "7",
        "-s",
        "10s",
        "-N",
        "@1111111105",
        SECRET,
    ]);
    let grouped = format!("{} {} {}", &code[..2], &code[2..5], &code[5..]);
    assert_eq!(
        shown,
        format!("drchrono token is: {grouped}\nexpires in 5s\n")
    );
}

#[test]
fn copy_uses_the_terminal_without_a_system_clipboard() {
    let v = vault();
    ok(run(
        &v,
        &["add", &format!("otpauth://totp/x?secret={SECRET}")],
    ));
    let output = run(&v, &["code", "--copy", "--at", "59"]);
    assert!(output.status.success());
    assert!(out(&output).contains("\x1b]52;c;"), "{:?}", out(&output));
    assert!(
        err(&output).contains("copied to the clipboard"),
        "{}",
        err(&output)
    );
}

#[test]
fn hotp_counters_advance_and_persist() {
    let v = vault();
    ok(run(
        &v,
        &[
            "add",
            &format!("otpauth://hotp/Bank:me?secret={SECRET}&counter=0"),
        ],
    ));
    // RFC 4226 Appendix D: counter 0, 1, 2.
    for expected in ["755224", "287082", "359152"] {
        assert_eq!(ok(run(&v, &["code", "--plain"])).trim(), expected);
    }
    assert!(ok(run(&v, &["export"])).contains("counter=3"));
}

#[test]
fn a_google_authenticator_export_adds_every_account() {
    let v = vault();
    let export = authenticator::migration::encode(&[
        (
            b"12345678901234567890",
            "Clinic:alice",
            "Clinic",
            1,
            1,
            2,
            0,
        ),
        (b"abcdefghij", "bob@mail.example", "Mail", 1, 1, 2, 0),
    ]);
    let added = ok(run(&v, &["add", &export]));
    assert_eq!(
        added,
        "added Clinic (alice)\nadded Mail (bob@mail.example)\n"
    );
    assert_eq!(
        ok(run(&v, &["code", "alice", "--plain", "--at", "59"])).trim(),
        "287082"
    );
}

fn qr_png(text: &str, path: &Path) {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let width = code.width();
    let colors = code.to_colors();
    let scale = 6;
    let quiet = 4;
    let side = ((width + 2 * quiet) * scale) as u32;
    let image = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (
            (x as usize / scale).checked_sub(quiet),
            (y as usize / scale).checked_sub(quiet),
        );
        match (mx, my) {
            (Some(mx), Some(my)) if mx < width && my < width => {
                if colors[my * width + mx] == qrcode::Color::Dark {
                    image::Luma([0])
                } else {
                    image::Luma([255])
                }
            }
            _ => image::Luma([255]),
        }
    });
    image.save(path).unwrap();
}

#[test]
fn a_qr_code_image_is_read() {
    let v = vault();
    let png = v.path.with_file_name("qr.png");
    qr_png(
        &format!(
            "otpauth://totp/Main%20St%20Clinic:drsmith?secret={SECRET}&issuer=Main%20St%20Clinic"
        ),
        &png,
    );
    assert_eq!(
        ok(run(&v, &["add", png.to_str().unwrap()])),
        "added Main St Clinic (drsmith)\n"
    );
    let jpeg = v.path.with_file_name("qr.jpg");
    qr_png(
        &format!("otpauth://totp/Dental:drsmith?secret={SECRET}&issuer=Dental"),
        &jpeg,
    );
    assert_eq!(
        ok(run(&v, &["add", jpeg.to_str().unwrap()])),
        "added Dental (drsmith)\n"
    );
    let blank = v.path.with_file_name("blank.png");
    image::GrayImage::from_pixel(64, 64, image::Luma([255]))
        .save(&blank)
        .unwrap();
    let output = run(&v, &["add", blank.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        err(&output).contains("no otpauth QR code found"),
        "{}",
        err(&output)
    );
}

#[test]
fn twins_are_told_apart_and_picked_by_number_or_id() {
    let v = vault();
    let first = format!("otpauth://totp/Clinic:smith?secret={SECRET}&issuer=Clinic");
    let relinked = "otpauth://totp/Clinic:smith?secret=JBSWY3DPEHPK3PXP&issuer=Clinic";
    ok(run(&v, &["add", &first]));
    let added = ok(run(&v, &["add", relinked]));
    assert!(added.starts_with("added Clinic (smith 2)\n"), "{added}");
    assert!(
        added.contains("remove the old one with `authenticator remove 1`"),
        "{added}"
    );
    let listed = ok(run(&v, &["list"]));
    let ids: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    let by_number = ok(run(&v, &["code", "2", "--plain", "--at", "59"]));
    let by_id = ok(run(&v, &["code", ids[1], "--plain", "--at", "59"]));
    let reference = oathtool(&["--totp", "-b", "-N", "@59", "JBSWY3DPEHPK3PXP"]);
    assert_eq!(by_number.trim(), reference);
    assert_eq!(by_id.trim(), reference);
    let vague = run(&v, &["code", "clinic"]);
    assert_eq!(vague.status.code(), Some(1));
    assert!(
        err(&vague).contains("name one by its number or id"),
        "{}",
        err(&vague)
    );
    let clash = run(&v, &["rename", "2", "smith"]);
    assert_eq!(clash.status.code(), Some(1));
    assert!(
        err(&clash).contains("account number 1 already has"),
        "{}",
        err(&clash)
    );
    assert_eq!(
        ok(run(&v, &["rename", ids[0], "old phone"])),
        "renamed Clinic (smith) to Clinic (old phone)\n"
    );
    let missing = run(&v, &["remove", "3", "--yes"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        err(&missing).contains("there is no account number 3"),
        "{}",
        err(&missing)
    );
    assert_eq!(
        ok(run(&v, &["remove", "#1", "--yes"])),
        "removed Clinic (old phone)\n"
    );
    let left = ok(run(&v, &["list"]));
    assert_eq!(
        left,
        format!("1  {}  Clinic (smith 2)  (6 digits, time)\n", ids[1]),
        "ids stay"
    );
}

#[test]
fn rename_remove_and_export() {
    let v = vault();
    ok(run(
        &v,
        &[
            "add",
            &format!("otpauth://totp/A:one?secret={SECRET}&issuer=A"),
        ],
    ));
    ok(run(
        &v,
        &[
            "add",
            &format!("otpauth://totp/B:two?secret={SECRET}&issuer=B"),
        ],
    ));
    assert_eq!(
        ok(run(&v, &["rename", "one", "uno"])),
        "renamed A (one) to A (uno)\n"
    );
    let kept = run_with(&v.path, &["remove", "uno"], PASS, "no\n");
    assert!(out(&kept).contains("kept A (uno)"));
    assert_eq!(
        run_with(&v.path, &["remove", "uno"], PASS, "yes\n")
            .status
            .code(),
        Some(0)
    );
    let export = ok(run(&v, &["export"]));
    assert_eq!(
        export,
        format!(
            "otpauth://totp/B:two?secret={SECRET}&issuer=B&algorithm=SHA1&digits=6&period=30\n"
        )
    );
    assert!(ok(run(&v, &["export", "--qr"])).contains('█'));
    let ambiguous = run(&v, &["code"]);
    assert_eq!(
        ambiguous.status.code(),
        Some(0),
        "one account left needs no name"
    );
}

#[test]
fn hostile_input_gets_one_line_and_loses_nothing() {
    let v = vault();
    ok(run(
        &v,
        &[
            "add",
            &format!("otpauth://totp/A:one?secret={SECRET}&issuer=A"),
        ],
    ));
    let before = std::fs::read(&v.path).unwrap();
    let text_file = v.path.with_file_name("notes.txt");
    std::fs::write(&text_file, "not an image").unwrap();
    for (args, needle) in [
        (
            vec!["add", "otpauth://totp/x?secret=1234"],
            "not a usable otpauth",
        ),
        (vec!["add", "otpauth://totp/x"], "no secret"),
        (
            vec!["add", "otpauth-migration://offline?data=%%%"],
            "base64",
        ),
        (
            vec!["add", text_file.to_str().unwrap()],
            "cannot read the image",
        ),
        (vec!["add", "/nonexistent/qr.png"], "cannot read the image"),
        (vec!["code", "nomatch"], "no account matches"),
        (vec!["rename", "one", "a:b"], "without ':'"),
    ] {
        let output = run(&v, &args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", err(&output));
        assert_eq!(
            err(&output).lines().count(),
            1,
            "{args:?}: {}",
            err(&output)
        );
        assert!(err(&output).contains(needle), "{args:?}: {}", err(&output));
    }
    let wrong = run_with(&v.path, &["list"], "not the passphrase", "");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(err(&wrong).contains("wrong passphrase"), "{}", err(&wrong));
    assert_eq!(
        std::fs::read(&v.path).unwrap(),
        before,
        "nothing was written"
    );

    // A vault from a newer version, a damaged one, a directory.
    let mut newer = before.clone();
    newer[4] = 2;
    std::fs::write(&v.path, &newer).unwrap();
    let output = run(
        &v,
        &["add", &format!("otpauth://totp/C:three?secret={SECRET}")],
    );
    assert!(
        err(&output).contains("format version 2"),
        "{}",
        err(&output)
    );
    assert_eq!(std::fs::read(&v.path).unwrap(), newer, "never overwritten");
    std::fs::write(&v.path, &before[..before.len() / 2]).unwrap();
    let output = run(&v, &["list"]);
    assert!(
        err(&output).contains("damaged or truncated"),
        "{}",
        err(&output)
    );
    let dir = v.path.with_file_name("adir");
    std::fs::create_dir(&dir).unwrap();
    let output = run_with(&dir, &["list"], PASS, "");
    assert_eq!(output.status.code(), Some(1));
    assert!(err(&output).contains("is a directory"), "{}", err(&output));
    // A vault that cannot be read at all (its "directory" is a file).
    let unreadable = text_file.join("vault");
    let output = run_with(&unreadable, &["list"], PASS, "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(err(&output).lines().count(), 1, "{}", err(&output));
    let output = run_with(
        &unreadable,
        &["add", &format!("otpauth://totp/x?secret={SECRET}")],
        PASS,
        "",
    );
    assert_eq!(output.status.code(), Some(1), "{}", err(&output));
    assert!(err(&output).contains("notes.txt"), "{}", err(&output));
    let bad_args = run(&v, &["code", "--at", "yesterday"]);
    assert_eq!(bad_args.status.code(), Some(2));
    assert_eq!(err(&bad_args).lines().count(), 1);
}

#[test]
fn interactive_add_asks_for_issuer_account_and_secret() {
    let v = vault();
    let output = run_with(
        &v.path,
        &["add"],
        PASS,
        "Main St Clinic\ndrsmith\ngezd gnbv gy3t qojq gezd gnbv gy3t qojq\n",
    );
    assert_eq!(ok(output), "added Main St Clinic (drsmith)\n");
    assert_eq!(
        ok(run(&v, &["code", "--plain", "--at", "59"])).trim(),
        "287082"
    );
}

/// Codes agree with the server: enroll on a running twofactor (the function
/// behind `twofactor user enroll-totp`, which prints this URI), add the URI to
/// a fresh vault, and log in over HTTP with what `code --plain` prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_code_logs_in_to_a_running_twofactor() {
    let app = testkit::TestApp::start(testkit::Backend::Sqlite)
        .await
        .unwrap();
    let user = app.add_user("drsmith").await;
    let uri = app
        .app
        .enroll_totp(
            &user,
            None,
            otp::Algorithm::Sha1,
            otp::Digits::SIX,
            otp::Period::DEFAULT,
        )
        .await
        .unwrap()
        .to_uri();
    let v = vault();
    assert_eq!(ok(run(&v, &["add", &uri])), "added Test Clinic (drsmith)\n");
    let now = testkit::START.to_string();
    let code = ok(run(&v, &["code", "--plain", "--at", &now]))
        .trim()
        .to_owned();
    let mut browser = app.client();
    browser.submit_password("drsmith", testkit::PASSWORD).await;
    let reply = browser.submit_token(&code).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(browser.get("/").await.status, 200);
    app.stop().await;
}
