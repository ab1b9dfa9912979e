//! Small helpers for the words pages say.

/// A time as the pages show it: in the practice's zone, with UTC on hover
/// (`title`) and for machines (`datetime`).
#[derive(Debug, Clone)]
pub struct When {
    /// `2026-12-07 08:15 CST`.
    pub local: String,
    /// `2026-12-07 14:15 UTC`.
    pub utc: String,
    /// `2026-12-07T14:15:00Z`.
    pub iso: String,
}

impl When {
    /// `unix` in `zone`.
    pub fn at(zone: &domain::time::Zone, unix: u64) -> When {
        When {
            local: zone.readable(unix),
            utc: domain::time::readable(unix),
            iso: domain::time::rfc3339(unix),
        }
    }
}

/// What an audit event's stable code means, in words (exports keep the
/// code). Unknown codes (from a newer version) are shown as they are.
pub fn event_words(lang: i18n::Lang, code: &str) -> String {
    match domain::AuditKind::ALL
        .iter()
        .find(|kind| kind.as_str() == code)
    {
        Some(kind) => lang.t(&event_id(*kind)),
        None => code.to_owned(),
    }
}

/// The catalog id of `kind`'s words: `event-` and its code, dashed.
fn event_id(kind: domain::AuditKind) -> String {
    format!("event-{}", kind.as_str().replace('_', "-"))
}

/// The audit outcomes, by their stable codes.
pub const OUTCOMES: [&str; 3] = ["success", "failure", "blocked"];

/// An audit outcome's code in words.
pub fn outcome_words(lang: i18n::Lang, code: &str) -> String {
    if OUTCOMES.contains(&code) {
        lang.t(&format!("outcome-{code}"))
    } else {
        code.to_owned()
    }
}

#[cfg(test)]
mod event_tests {
    use super::*;

    #[test]
    fn every_event_and_outcome_has_words_in_every_language() {
        for lang in i18n::Lang::ALL {
            let ids = i18n::catalog_ids(lang);
            for kind in domain::AuditKind::ALL {
                assert!(ids.contains(&event_id(kind)), "{}: {kind:?}", lang.tag());
                let words = event_words(lang, kind.as_str());
                assert!(words.chars().next().is_some_and(char::is_uppercase));
            }
            for outcome in OUTCOMES {
                assert!(ids.contains(&format!("outcome-{outcome}")));
            }
        }
        assert_eq!(
            event_words(i18n::Lang::En, "remembered_device_theft"),
            "Copied remembered-browser cookie refused"
        );
        assert_eq!(
            event_words(i18n::Lang::Es, "from_the_future"),
            "from_the_future"
        );
        assert_eq!(outcome_words(i18n::Lang::Es, "failure"), "Fallo");
        assert_eq!(outcome_words(i18n::Lang::En, "<b>"), "<b>");
    }

    #[test]
    fn a_time_is_local_with_utc_beside_it() {
        let zone = domain::time::Zone::named("America/Chicago").unwrap();
        let when = When::at(&zone, 1_796_652_900);
        assert_eq!(when.local, "2026-12-07 08:15 CST");
        assert_eq!(when.utc, "2026-12-07 14:15 UTC");
        assert_eq!(when.iso, "2026-12-07T14:15:00Z");
    }
}
