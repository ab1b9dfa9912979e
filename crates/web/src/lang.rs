//! Which language a page speaks, and the switch that changes it.
//!
//! The signed-in user's choice (saved on the account) comes first, then
//! this browser's (the switch, kept in a cookie), then the browser's
//! `Accept-Language`, then the practice's default, then English. The
//! middleware knows the browser's part; a page that learns who is signed in
//! [`settle`]s the rest.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, REFERER};
use axum::response::Response;
use i18n::{Arg, Lang};

use crate::{AppState, cookies};

/// The cookie that keeps the switch's choice.
pub const LANG_COOKIE: &str = "tf_lang";

/// A year: the choice outlives sessions.
const KEEP_SECONDS: u64 = 365 * 86_400;

/// The language of the page being answered.
struct PageLang {
    /// What the browser asks for (its switch's cookie, else
    /// `Accept-Language`), if we speak it.
    browser: Option<Lang>,
    /// The page's language: `browser` or English until [`settle`]d.
    now: std::cell::Cell<Lang>,
}

tokio::task_local! {
    /// The language of the page being answered, for what is rendered far
    /// from the request's headers (an error page).
    static PAGE_LANG: PageLang;
}

/// Answers the request with its language known to [`current`].
pub async fn scope(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let browser = browser_lang(request.headers());
    let page = PageLang {
        browser,
        now: std::cell::Cell::new(browser.unwrap_or_default()),
    };
    PAGE_LANG.scope(page, next.run(request)).await
}

/// The language of the page being answered; English outside a page.
pub fn current() -> Lang {
    PAGE_LANG
        .try_with(|page| page.now.get())
        .unwrap_or_default()
}

/// Settles the page's language once its user is known: their saved choice,
/// else the browser's, else `practice_default` (read only when needed),
/// else English.
pub async fn settle<F>(saved: Option<Lang>, practice_default: F)
where
    F: std::future::Future<Output = Option<Lang>>,
{
    let Ok(browser) = PAGE_LANG.try_with(|page| page.browser) else {
        return;
    };
    let lang = match saved.or(browser) {
        Some(lang) => lang,
        None => practice_default.await.unwrap_or_default(),
    };
    let _ = PAGE_LANG.try_with(|page| page.now.set(lang));
}

/// [`settle`] for `user`, with their practice's default.
pub async fn settle_for(state: &AppState, user: &domain::User) {
    settle(user.language, async {
        // A failed read leaves the page in English rather than failing it.
        state
            .login
            .practice_locale(user.practice_id)
            .await
            .ok()
            .and_then(|locale| locale.language)
    })
    .await;
}

/// What `headers` ask for: the switch's cookie, else `Accept-Language`.
fn browser_lang(headers: &HeaderMap) -> Option<Lang> {
    cookies::get(headers, LANG_COOKIE)
        .and_then(|tag| Lang::from_tag(&tag))
        .or_else(|| {
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        })
}

/// The language of the page answering `headers`, before any user is known.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    browser_lang(headers).unwrap_or_default()
}

/// Why the domain refused, in the page's language.
pub fn said(reason: &domain::Reason) -> String {
    reason.words(current())
}

/// What a form says is wrong, and the field it is about (a name every
/// form shares, `new-password`, `username`…; empty for none): the page
/// marks that field invalid, ties the words to it and focuses it.
#[derive(Debug, Clone, Default)]
pub struct Problem {
    /// In the page's language.
    pub words: String,
    /// The field's shared name, or empty.
    pub field: &'static str,
}

impl Problem {
    /// `reason` in the page's language, on the field it is about.
    pub fn of(reason: &domain::Reason) -> Problem {
        Problem {
            words: said(reason),
            field: reason.field().unwrap_or(""),
        }
    }

    /// Catalog message `key`, about `field` (empty: no one field).
    pub fn about(field: &'static str, key: &str) -> Problem {
        Problem {
            words: current().t(key),
            field,
        }
    }
}

/// What templates call to say something in the page's language.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tr(pub Lang);

impl Tr {
    /// The language of the page being answered ([`current`]).
    pub fn current() -> Tr {
        Tr(current())
    }

    /// The page's language, for `<html lang>`.
    pub fn tag(&self) -> &'static str {
        self.0.tag()
    }

    /// Message `key`.
    pub fn t(&self, key: &str) -> String {
        self.0.t(key)
    }

    /// Message `key` with one number argument (plurals pick by it).
    pub fn n(&self, key: &str, name: &'static str, value: impl Count) -> String {
        self.0.t_with(key, &[(name, Arg::Number(value.count()))])
    }

    /// Message `key` with one text argument.
    pub fn s(&self, key: &str, name: &'static str, value: &str) -> String {
        self.0.t_with(key, &[(name, Arg::from(value))])
    }

    /// The switch's links: every language, and whether it is this one.
    pub fn choices(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .into_iter()
            .map(|lang| (lang.tag(), lang.name(), lang == self.0))
            .collect()
    }
}

/// A number a message counts, however a template holds it.
pub trait Count {
    /// As the catalogs take it.
    fn count(&self) -> u64;
}

impl Count for u64 {
    fn count(&self) -> u64 {
        *self
    }
}

impl Count for u32 {
    fn count(&self) -> u64 {
        u64::from(*self)
    }
}

impl Count for u8 {
    fn count(&self) -> u64 {
        u64::from(*self)
    }
}

impl Count for usize {
    fn count(&self) -> u64 {
        u64::try_from(*self).unwrap_or(u64::MAX)
    }
}

impl<T: Count + ?Sized> Count for &T {
    fn count(&self) -> u64 {
        (**self).count()
    }
}

/// Query of `GET /language`.
#[derive(Debug, serde::Deserialize)]
pub struct SwitchQuery {
    lang: Option<String>,
}

/// `GET /language?lang=es`: keeps the choice in this browser and, for a
/// signed-in user who followed the link from one of our pages, on the
/// account; then goes back to the page the link was on (its same-origin
/// `Referer`), else to the login page. An unknown language changes nothing.
///
/// A link on another site can change this browser's cookie (as it could set
/// any `Lax` cookie's page in motion) but not the account: that needs
/// `Sec-Fetch-Site: same-origin`, or without it our own page as `Referer`.
pub async fn switch(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<SwitchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, crate::AppError> {
    let from_our_page = headers
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|referer| same_origin_path(referer, &headers, &state.config.public_url))
        .filter(|path| crate::next::is_site_path(path) && !path.starts_with("/language"));
    let same_site = match headers.get("sec-fetch-site") {
        Some(site) => site.as_bytes() == b"same-origin",
        None => from_our_page.is_some(),
    };
    let back = from_our_page.unwrap_or_else(|| "/login".to_owned());
    let chosen = query
        .ok()
        .and_then(|q| q.0.lang)
        .and_then(|tag| Lang::from_tag(&tag));
    let Some(lang) = chosen else {
        return Ok(crate::pages::redirect(&back, &[]));
    };
    if same_site && let Ok(user) = crate::extract::signed_in(&state, &headers, &back).await {
        state.login.set_user_language(&user, Some(lang)).await?;
    }
    let set = cookies::set(
        LANG_COOKIE,
        lang.tag(),
        state.config.secure_cookies,
        "Lax",
        Some(KEEP_SECONDS),
    );
    Ok(crate::pages::redirect(&back, &[set]))
}

/// The path and query of `referer` when it is this site's own page.
fn same_origin_path(referer: &str, headers: &HeaderMap, public_url: &str) -> Option<String> {
    let rest = referer
        .strip_prefix("https://")
        .or_else(|| referer.strip_prefix("http://"))?;
    let (authority, path) = rest.split_at(rest.find('/')?);
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let public = public_url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next());
    let ours = host.is_some_and(|h| h.eq_ignore_ascii_case(authority))
        || public.is_some_and(|p| p.eq_ignore_ascii_case(authority));
    ours.then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_choice_beats_the_browser_which_beats_english() {
        assert_eq!(lang_of(&headers(&[])), Lang::En);
        assert_eq!(
            lang_of(&headers(&[("accept-language", "es-MX,es;q=0.9")])),
            Lang::Es
        );
        assert_eq!(
            lang_of(&headers(&[
                ("accept-language", "es-MX"),
                ("cookie", "tf_lang=en")
            ])),
            Lang::En
        );
        assert_eq!(
            lang_of(&headers(&[
                ("cookie", "tf_lang=<script>"),
                ("accept-language", "es")
            ])),
            Lang::Es,
            "a cookie that names nothing is ignored"
        );
    }

    /// The saved choice, then the browser's, then the practice's default
    /// (read only when nothing before it answers), then English.
    #[tokio::test]
    async fn a_settled_page_speaks_the_saved_then_the_browsers_then_the_default() {
        async fn settled(
            saved: Option<Lang>,
            browser: Option<Lang>,
            default: Option<Lang>,
        ) -> (Lang, bool) {
            let asked = std::sync::atomic::AtomicBool::new(false);
            let page = PageLang {
                browser,
                now: std::cell::Cell::new(browser.unwrap_or_default()),
            };
            let lang = PAGE_LANG
                .scope(page, async {
                    settle(saved, async {
                        asked.store(true, std::sync::atomic::Ordering::Relaxed);
                        default
                    })
                    .await;
                    current()
                })
                .await;
            (lang, asked.into_inner())
        }
        use Lang::{En, Es};
        assert_eq!(settled(Some(Es), Some(En), Some(En)).await, (Es, false));
        assert_eq!(settled(None, Some(En), Some(Es)).await, (En, false));
        assert_eq!(settled(None, None, Some(Es)).await, (Es, true));
        assert_eq!(settled(None, None, None).await, (En, true));
        // Outside a page nothing is settled and nothing is read.
        settle(Some(Es), async { unreachable!() }).await;
        assert_eq!(current(), En);
    }

    /// Every message id a template or handler names (`tr.t("…")`,
    /// `lang.t_with("…"`, …) is in the catalogs: a typo fails here, not
    /// on a clinician's screen.
    #[test]
    fn every_message_a_page_names_is_in_the_catalogs() {
        let known = i18n::catalog_ids(Lang::En);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [
            "templates",
            "src",
            "src/pages",
            "src/pages/admin",
            "../domain/src",
            "../domain/src/login",
        ] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                let path = entry.path();
                if path.is_file() {
                    files.push(path);
                }
            }
        }
        let mut named = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for call in [".t(\"", ".n(\"", ".s(\"", ".t_with(\"", ".t_with(\n"] {
                for piece in text.split(call).skip(1) {
                    let id: String = piece
                        .trim_start()
                        .trim_start_matches('"')
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                        .collect();
                    // Ids have a dash or are one known word; other calls
                    // named t/n/s are not messages.
                    if id.is_empty() || !(id.contains('-') || known.contains(&id)) {
                        continue;
                    }
                    named += 1;
                    assert!(known.contains(&id), "{}: no message {id:?}", path.display());
                }
            }
        }
        assert!(
            named > 40,
            "only {named} messages found: is the scan broken?"
        );
    }

    #[test]
    fn the_switch_goes_back_only_to_this_site() {
        let h = headers(&[("host", "127.0.0.1:8080")]);
        let public = "https://login.clinic.example";
        assert_eq!(
            same_origin_path("http://127.0.0.1:8080/login/2fa?next=/x", &h, public),
            Some("/login/2fa?next=/x".to_owned())
        );
        assert_eq!(
            same_origin_path("https://login.clinic.example/login", &h, public),
            Some("/login".to_owned())
        );
        for hostile in [
            "https://evil.example/login",
            "https://login.clinic.example.evil.example/login",
            "javascript:alert(1)",
            "//evil.example/x",
            "http://127.0.0.1:8080",
        ] {
            assert_eq!(same_origin_path(hostile, &h, public), None, "{hostile}");
        }
    }
}
