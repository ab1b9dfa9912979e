//! A real headless Chromium, driven through chromedriver's W3C WebDriver
//! HTTP API. Written against the protocol directly (a dozen JSON calls)
//! rather than with a WebDriver crate, to keep the build small.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Missing, they fail the
//! test under `CI` and skip it with a message otherwise.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session.
#[derive(Debug)]
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium, or `None` when they are
    /// not installed outside CI.
    pub async fn start() -> Option<Browser> {
        let (chromium, driver) = (
            Path::new("/usr/bin/chromium"),
            Path::new("/usr/bin/chromedriver"),
        );
        if !chromium.exists() || !driver.exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromium and chromium-driver are required under CI (apt-get install chromium chromium-driver)"
            );
            eprintln!("SKIPPED: install chromium and chromium-driver to run the browser test");
            return None;
        }
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1000,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let mut browser = Browser {
            driver: child,
            http,
            base,
            session: String::new(),
            _profile: profile,
        };
        let reply = browser.call("POST", "/session", capabilities).await;
        browser.session = reply["sessionId"].as_str().expect("session id").to_owned();
        Some(browser)
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        };
        let text = request
            .send()
            .await
            .expect("webdriver answers")
            .text()
            .await
            .expect("body");
        let value: Value = serde_json::from_str(&text).expect("webdriver json");
        assert!(
            value["value"]["error"].is_null(),
            "webdriver {method} {path}: {text}"
        );
        value.get("value").cloned().unwrap_or(Value::Null)
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.call("POST", &self.at("/url"), json!({ "url": url }))
            .await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.call("GET", &self.at("/url"), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits (up to 10 s) until the URL satisfies `done`, for clicks that
    /// submit a form: WebDriver does not always wait for that navigation.
    pub async fn wait_for_url(&self, done: impl Fn(&str) -> bool) -> String {
        let mut url = self.url().await;
        for _ in 0..100 {
            if done(&url) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            url = self.url().await;
        }
        panic!("the browser stayed at {url}");
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.call("GET", &self.at("/source"), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                "POST",
                &self.at("/element"),
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// Whether an element matches `css` now (`/elements` answers an empty
    /// list rather than an error when none does).
    async fn exists(&self, css: &str) -> bool {
        let found = self
            .call(
                "POST",
                &self.at("/elements"),
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found.as_array().is_some_and(|all| !all.is_empty())
    }

    /// Types `text` into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            "POST",
            &self.at(&format!("/element/{id}/value")),
            json!({ "text": text }),
        )
        .await;
    }

    /// Empties the input matching `css`.
    pub async fn clear(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &self.at(&format!("/element/{id}/clear")), json!({}))
            .await;
    }

    /// Adds a virtual authenticator (chromedriver's WebAuthn extension): a
    /// platform passkey provider that keeps discoverable credentials,
    /// verifies the user and consents to every request. Returns its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let added = self
            .call(
                "POST",
                &self.at("/webauthn/authenticator"),
                json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserConsenting": true,
                    "isUserVerified": true,
                }),
            )
            .await;
        added.as_str().expect("authenticator id").to_owned()
    }

    /// The credentials the virtual authenticator `id` holds.
    pub async fn virtual_credentials(&self, id: &str) -> Vec<Value> {
        self.call(
            "GET",
            &self.at(&format!("/webauthn/authenticator/{id}/credentials")),
            Value::Null,
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Puts `credentials` (as [`Browser::virtual_credentials`] read them)
    /// into the virtual authenticator `id`: a key plugged back in.
    pub async fn add_virtual_credentials(&self, id: &str, credentials: &[Value]) {
        for held in credentials {
            let mut credential = serde_json::Map::new();
            for field in [
                "credentialId",
                "isResidentCredential",
                "rpId",
                "privateKey",
                "userHandle",
                "signCount",
            ] {
                credential.insert(field.into(), held[field].clone());
            }
            self.call(
                "POST",
                &self.at(&format!("/webauthn/authenticator/{id}/credential")),
                Value::Object(credential),
            )
            .await;
        }
    }

    /// Removes the virtual authenticator `id`.
    pub async fn remove_virtual_authenticator(&self, id: &str) {
        self.call(
            "DELETE",
            &self.at(&format!("/webauthn/authenticator/{id}")),
            Value::Null,
        )
        .await;
    }

    /// Waits (up to 10 s) until an element matching `css` exists and shows
    /// text, and returns it: for messages a script writes after a server's
    /// answer, and for those on a page still loading after a click.
    pub async fn wait_for_text(&self, css: &str) -> String {
        for _ in 0..100 {
            if self.exists(css).await {
                let text = self.property(css, "textContent").await;
                if !text.trim().is_empty() {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} stayed empty or absent");
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &self.at(&format!("/element/{id}/click")), json!({}))
            .await;
    }

    /// The `id` attribute of the focused element.
    pub async fn focused_id(&self) -> String {
        let active = self
            .call("GET", &self.at("/element/active"), Value::Null)
            .await;
        let id = active[ELEMENT].as_str().unwrap_or_default().to_owned();
        self.call(
            "GET",
            &self.at(&format!("/element/{id}/attribute/id")),
            Value::Null,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// The `name` property of the element matching `css`: a string as it
    /// is, anything else as JSON (`true`, `null`).
    pub async fn property(&self, css: &str, name: &str) -> String {
        let id = self.find(css).await;
        let value = self
            .call(
                "GET",
                &self.at(&format!("/element/{id}/property/{name}")),
                Value::Null,
            )
            .await;
        match value {
            Value::String(text) => text,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// Resizes the window (e.g. 390x844 for a phone).
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            &self.at("/window/rect"),
            json!({"width": width, "height": height}),
        )
        .await;
    }

    /// Saves a PNG screenshot to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let data = self.call("GET", &self.at("/screenshot"), Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("png");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png).expect("screenshot written");
    }

    /// Runs `script` in the page as an async function body (its last
    /// argument is the callback that ends it) and returns what it passed.
    pub async fn execute_async(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.at("/execute/async"),
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// Presses Tab until the focused element is `css` (at most 40 times),
    /// as a keyboard user moves through a page.
    pub async fn tab_to(&self, css: &str) {
        let script = format!(
            "var done = arguments[arguments.length - 1];\n\
             done(document.activeElement === document.querySelector({css:?}));"
        );
        for _ in 0..40 {
            if self.execute_async(&script).await == Value::Bool(true) {
                return;
            }
            self.keys(TAB).await;
        }
        panic!("Tab never reached {css} on {}", self.url().await);
    }

    /// What on this page's form fields keeps a password manager or a paste
    /// from filling them in (WCAG 3.3.8): a password field without
    /// `current-password`/`new-password`, a code field without
    /// `one-time-code`, a paste a script cancels, or a field that refuses
    /// typing (`readonly`, `onpaste`). One line per problem.
    pub async fn form_hint_problems(&self) -> Vec<String> {
        let script = "var done = arguments[arguments.length - 1]; var bad = [];\n\
            document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]), textarea').forEach(function (el) {\n\
              var id = el.id || el.name; var hints = (el.getAttribute('autocomplete') || '').split(/\\s+/);\n\
              if (el.type === 'password' && hints.indexOf('current-password') < 0 && hints.indexOf('new-password') < 0)\n\
                bad.push(id + ': a password field without current-password or new-password');\n\
              if (['token', 'current_token', 'code'].indexOf(el.name) >= 0 && hints.indexOf('one-time-code') < 0)\n\
                bad.push(id + ': a code field without one-time-code');\n\
              if (el.readOnly || el.hasAttribute('onpaste') || el.hasAttribute('oncopy'))\n\
                bad.push(id + ': refuses typing or pasting');\n\
              var data = new DataTransfer(); data.setData('text/plain', '123456');\n\
              var paste = new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true});\n\
              if (!el.dispatchEvent(paste)) bad.push(id + ': a script cancels pasting');\n\
            }); done(bad);";
        self.lines(script, "the field check returned nothing").await
    }

    /// Runs `script` ([`Browser::execute_async`]) for the list of lines it
    /// passes back; `missing` alone if it passed none.
    async fn lines(&self, script: &str, missing: &str) -> Vec<String> {
        self.execute_async(script)
            .await
            .as_array()
            .map(|found| {
                found
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_else(|| vec![missing.to_owned()])
    }

    /// Runs axe-core (`axe_source`, its `axe.min.js`) on the page against
    /// WCAG 2.2 A and AA and axe's best practices; one line per violation: rule, impact, how many
    /// elements and the first one's selector.
    pub async fn axe(&self, axe_source: &str) -> Vec<String> {
        let script = format!(
            "{axe_source}\n;var done = arguments[arguments.length - 1];\n\
             axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}}}})\n\
             .then(function (r) {{ done(r.violations.map(function (v) {{\n\
               return v.id + ' (' + v.impact + ', ' + v.nodes.length + ' element(s), first: ' + v.nodes[0].target.join(' ') + '): ' + v.help; }})); }})\n\
             .catch(function (e) {{ done(['axe failed: ' + e]); }});"
        );
        self.lines(&script, "axe returned nothing").await
    }

    /// Presses `keys` on whatever has focus, as a keyboard does: each
    /// character, or a WebDriver key such as [`TAB`] and [`ENTER`].
    pub async fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                let c = c.to_string();
                [
                    json!({"type": "keyDown", "value": c}),
                    json!({"type": "keyUp", "value": c}),
                ]
            })
            .collect();
        self.call(
            "POST",
            &self.at("/actions"),
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) {
        let path = self.at("");
        self.call("DELETE", &path, Value::Null).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// The Tab key, for [`Browser::keys`].
pub const TAB: &str = "\u{E004}";
/// The Enter key, for [`Browser::keys`].
pub const ENTER: &str = "\u{E007}";
/// The Backspace key, for [`Browser::keys`].
pub const BACKSPACE: &str = "\u{E003}";
/// The End key, for [`Browser::keys`].
pub const END: &str = "\u{E010}";

/// axe-core's `axe.min.js` (installed from npm by `.ci/run`, its path in
/// `AXE_CORE_JS`), or `None` outside CI when it is missing.
pub fn axe_source() -> Option<String> {
    let path = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from("/var/cache/twofactor-npm/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "axe-core is required under CI ({}: {error}); `npm install axe-core` and set AXE_CORE_JS",
                path.display()
            );
            eprintln!("SKIPPED: axe-core not found at {}", path.display());
            None
        }
    }
}

/// `target/screenshots/` of the workspace.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
