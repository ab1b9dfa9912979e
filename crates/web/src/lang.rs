//! Which language a page speaks, and the switch that changes it.
//!
//! The person's own choice (the switch, kept in a cookie) comes first, then
//! the browser's `Accept-Language`, then English.

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

tokio::task_local! {
    /// The language of the page being answered, for what is rendered far
    /// from the request's headers (an error page).
    static PAGE_LANG: Lang;
}

/// Answers the request with its language known to [`current`].
pub async fn scope(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = lang_of(request.headers());
    PAGE_LANG.scope(lang, next.run(request)).await
}

/// The language of the page being answered; English outside a page.
pub fn current() -> Lang {
    PAGE_LANG.try_with(|lang| *lang).unwrap_or_default()
}

/// The language of the page answering `headers`.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookies::get(headers, LANG_COOKIE)
        .and_then(|tag| Lang::from_tag(&tag))
        .or_else(|| {
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        })
        .unwrap_or_default()
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

/// `GET /language?lang=es`: keeps the choice and goes back to the page the
/// link was on (its same-origin `Referer`), else to the login page. An
/// unknown language changes nothing.
pub async fn switch(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<SwitchQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let back = headers
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|referer| same_origin_path(referer, &headers, &state.config.public_url))
        .filter(|path| crate::next::is_site_path(path) && !path.starts_with("/language"))
        .unwrap_or_else(|| "/login".to_owned());
    let chosen = query
        .ok()
        .and_then(|q| q.0.lang)
        .and_then(|tag| Lang::from_tag(&tag));
    let set: Vec<String> = chosen
        .map(|lang| {
            cookies::set(
                LANG_COOKIE,
                lang.tag(),
                state.config.secure_cookies,
                "Lax",
                Some(KEEP_SECONDS),
            )
        })
        .into_iter()
        .collect();
    crate::pages::redirect(&back, &set)
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
