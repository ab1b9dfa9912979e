//! Every word the pages say, in English and Spanish, from Fluent catalogs
//! (`locales/<lang>/*.ftl`, compiled in), and how a request's language is
//! chosen: the person's own choice, else the browser's `Accept-Language`,
//! else English.
//!
//! A message missing from one catalog fails the tests here; one missing at
//! run time falls back to English, then to its id, never to a panic.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader as _, static_loader};

static_loader! {
    static CATALOGS = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would show up
        // in plain-text emails and break tests that quote a sentence.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every language, in the order the switch lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 tag: `en`, `es`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// The language a tag names (`es`, `es-MX`, `EN-us`), if one we have.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|lang| lang.tag().eq_ignore_ascii_case(primary))
    }

    /// The first language of an `Accept-Language` header we have, by its
    /// weights (`es-MX,es;q=0.9,en;q=0.8`); `None` when none is ours.
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut offered: Vec<(u32, usize, Lang)> = accept_language
            .split(',')
            .take(32)
            .enumerate()
            .filter_map(|(order, item)| {
                let mut parts = item.split(';');
                let lang = Lang::from_tag(parts.next()?)?;
                let weight =
                    parts
                        .find_map(|p| p.trim().strip_prefix("q="))
                        .map_or(Some(1000), |q| {
                            q.trim()
                                .parse::<f32>()
                                .ok()
                                .filter(|q| (0.0..=1.0).contains(q))
                                .map(|q| (q * 1000.0) as u32)
                        })?;
                (weight > 0).then_some((weight, order, lang))
            })
            .collect();
        offered.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        offered.first().map(|(_, _, lang)| *lang)
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => fluent_templates::langid!("en"),
            Lang::Es => fluent_templates::langid!("es"),
        }
    }

    /// The message `key` in this language.
    pub fn t(self, key: &str) -> String {
        self.lookup(key, None)
    }

    /// The message `key` with its arguments (`{ $name }` in the catalog).
    pub fn t_with(self, key: &str, args: &[(&'static str, Arg)]) -> String {
        self.lookup(key, Some(&fluent_args(args)))
    }

    fn lookup(
        self,
        key: &str,
        args: Option<&HashMap<Cow<'static, str>, FluentValue<'_>>>,
    ) -> String {
        CATALOGS
            .try_lookup_complete(&self.id(), key, args)
            .or_else(|| CATALOGS.try_lookup_complete(&Lang::En.id(), key, args))
            .unwrap_or_else(|| key.to_owned())
    }
}

/// `args` as Fluent takes them.
fn fluent_args<'a>(args: &'a [(&'static str, Arg)]) -> HashMap<Cow<'static, str>, FluentValue<'a>> {
    args.iter()
        .map(|(name, value)| {
            let value = match value {
                Arg::Text(text) => FluentValue::from(text.as_str()),
                Arg::Number(n) => FluentValue::from(*n),
            };
            (Cow::Borrowed(*name), value)
        })
        .collect()
}

/// An argument of a message.
#[derive(Debug, Clone)]
pub enum Arg {
    /// Text, as it is.
    Text(String),
    /// A number: it picks the plural form (`one`, `other`).
    Number(u64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Arg::Text(text.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Self {
        Arg::Text(text.clone())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Arg::Text(text)
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Arg::Number(n)
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Arg::Number(u64::from(n))
    }
}

/// The message ids of one catalog's files (the `id =` lines), for the
/// tests that compare catalogs and find every id a page uses.
pub fn catalog_ids(lang: Lang) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("locales")
        .join(lang.tag());
    let mut ids = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return ids;
    };
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for line in text.lines() {
            if let Some((id, _)) = line.split_once(" =") {
                if !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    ids.push(id.to_owned());
                }
            }
        }
    }
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_every_language() {
        let english = catalog_ids(Lang::En);
        assert!(english.len() > 20, "{} messages", english.len());
        let mut unique = english.clone();
        unique.dedup();
        assert_eq!(unique.len(), english.len(), "an id is defined twice");
        for lang in Lang::ALL {
            let ids = catalog_ids(lang);
            let missing: Vec<&String> = english.iter().filter(|id| !ids.contains(id)).collect();
            let extra: Vec<&String> = ids.iter().filter(|id| !english.contains(id)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, only there {extra:?}",
                lang.tag()
            );
            // Every argument a message may take, so that each renders.
            let args: Vec<(&'static str, Arg)> = [
                "count", "minutes", "seconds", "days", "digits", "page", "pages", "min", "max",
            ]
            .into_iter()
            .map(|name| (name, Arg::Number(2)))
            .chain(
                [
                    "phone", "who", "name", "email", "first", "second", "factors", "site", "code",
                    "link", "query", "floor", "zone", "until", "user", "field", "issuer", "why",
                    "country", "uri", "scheme", "subject", "when", "ip", "button", "forgot",
                    "admin",
                ]
                .map(|name| (name, Arg::from("X"))),
            )
            .collect();
            let map = fluent_args(&args);
            for id in &ids {
                // In this language itself, not through the English fallback.
                let text = CATALOGS.try_lookup_complete(&lang.id(), id, Some(&map));
                assert!(
                    text.is_some_and(|t| !t.trim().is_empty()),
                    "{}: {id} does not render",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn the_browsers_languages_are_weighed() {
        assert_eq!(Lang::negotiate("es-MX,es;q=0.9,en;q=0.8"), Some(Lang::Es));
        assert_eq!(Lang::negotiate("fr-FR, en;q=0.5, es;q=0.7"), Some(Lang::Es));
        assert_eq!(Lang::negotiate("en-US"), Some(Lang::En));
        assert_eq!(Lang::negotiate("de, fr"), None);
        assert_eq!(Lang::negotiate("es;q=0"), None, "refused outright");
        for hostile in [
            "",
            ";;;",
            "es;q=abc",
            "es;q=7",
            "\u{0}",
            &"x,".repeat(10_000),
        ] {
            let _ = Lang::negotiate(hostile);
        }
        assert_eq!(Lang::negotiate("es;q=abc, en"), Some(Lang::En));
        assert_eq!(Lang::from_tag("ES_mx"), Some(Lang::Es));
        assert_eq!(Lang::from_tag("eng"), None);
    }

    #[test]
    fn arguments_and_plurals_fill_in() {
        assert_eq!(
            Lang::En.t_with("attempts-left", &[("count", 1u32.into())]),
            "1 attempt left."
        );
        assert_eq!(
            Lang::En.t_with("attempts-left", &[("count", 4u32.into())]),
            "4 attempts left."
        );
        assert_eq!(
            Lang::Es.t_with("attempts-left", &[("count", 1u32.into())]),
            "Queda 1 intento."
        );
        assert_eq!(
            Lang::Es.t_with("attempts-left", &[("count", 3u32.into())]),
            "Quedan 3 intentos."
        );
        assert_eq!(Lang::Es.t("no-such-message"), "no-such-message");
    }
}
