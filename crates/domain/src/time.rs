//! Unix seconds as calendar text, for the audit trail and pages. UTC is
//! hand-written (Howard Hinnant's civil-from-days, a dozen lines): exports
//! and the audit trail's own text use it. A practice's local time, on its
//! pages, comes from the IANA database (`jiff`, bundled).

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days).
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ` into Unix
/// seconds (Howard Hinnant's days-from-civil); `None` for anything else,
/// including impossible dates and times before 1970.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (date_ok, time) = match bytes.len() {
        10 => (true, (0, 0, 0)),
        20 if bytes.get(10) == Some(&b'T') && bytes.get(19) == Some(&b'Z') => {
            if bytes.get(13) != Some(&b':') || bytes.get(16) != Some(&b':') {
                return None;
            }
            (true, (number(11..13)?, number(14..16)?, number(17..19)?))
        }
        _ => (false, (0, 0, 0)),
    };
    if !date_ok || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(month - 1).ok()?)?;
    if !(1..=max_day).contains(&day) || time.0 > 23 || time.1 > 59 || time.2 > 59 {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + time.0 * 3600 + time.1 * 60 + time.2).ok()
}

/// `YYYY-MM-DD HH:MM UTC`, for people.
pub fn readable(unix: u64) -> String {
    let text = rfc3339(unix);
    format!(
        "{} {} UTC",
        text.get(..10).unwrap_or(""),
        text.get(11..16).unwrap_or("")
    )
}

/// A practice's time zone, for the times its pages show.
#[derive(Debug, Clone)]
pub struct Zone {
    zone: jiff::tz::TimeZone,
}

/// Longest time-zone name taken from a form.
const MAX_ZONE_NAME: usize = 64;

impl Zone {
    /// The zone named `name` (IANA, e.g. `America/Chicago`); empty is the
    /// server's own. `Err` says why a name is refused.
    pub fn named(name: &str) -> Result<Zone, crate::Reason> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(Zone::server());
        }
        if name.len() > MAX_ZONE_NAME || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(crate::Reason::ZoneForm);
        }
        jiff::tz::TimeZone::get(name)
            .map(|zone| Zone { zone })
            .map_err(|_| crate::Reason::ZoneUnknown {
                name: name.to_owned(),
            })
    }

    /// The server's zone (its `TZ` or `/etc/localtime`), else UTC.
    pub fn server() -> Zone {
        Zone {
            zone: jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }

    /// UTC.
    pub fn utc() -> Zone {
        Zone {
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// Its IANA name, when it has one.
    pub fn name(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }

    /// The local date `YYYY-MM-DD` as the Unix times of its first instant
    /// and of the next day's, in this zone: a practice's "from 3 March to
    /// 4 March" means its own days, however long daylight saving makes
    /// them. `None` for anything but a real date in that form.
    pub fn day(&self, text: &str) -> Option<(u64, u64)> {
        // The strict parser decides what a date is; jiff only places it.
        if text.len() != 10 || parse_rfc3339(&format!("{text}T00:00:00Z")).is_none() {
            return None;
        }
        let date: jiff::civil::Date = text.parse().ok()?;
        let start = |d: jiff::civil::Date| -> Option<u64> {
            let at = d
                .to_zoned_datetime(self.zone.clone())
                .ok()?
                .start_of_day()
                .ok()?;
            u64::try_from(at.timestamp().as_second()).ok()
        };
        Some((start(date)?, start(date.tomorrow().ok()?)?))
    }

    /// `unix` as `YYYY-MM-DD HH:MM` and the zone's abbreviation there
    /// (`2026-12-07 08:15 CST`); UTC text if the instant is out of range.
    pub fn readable(&self, unix: u64) -> String {
        let at = i64::try_from(unix)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok());
        match at {
            Some(at) => {
                let local = at.to_zoned_datetime(self.zone.clone());
                format!(
                    "{} {}",
                    local.strftime("%Y-%m-%d %H:%M"),
                    local.strftime("%Z")
                )
            }
            None => readable(unix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_practice_zone_shows_local_time_with_its_abbreviation() {
        let chicago = Zone::named("America/Chicago").unwrap();
        // 2026-12-07T14:15:00Z is 08:15 in Chicago (standard time) …
        assert_eq!(chicago.readable(1_796_652_900), "2026-12-07 08:15 CST");
        // … and 2026-07-01T12:00:00Z is 07:00 in summer.
        assert_eq!(chicago.readable(1_782_907_200), "2026-07-01 07:00 CDT");
        assert_eq!(chicago.name(), "America/Chicago");
        assert_eq!(Zone::utc().readable(0), "1970-01-01 00:00 UTC");
        assert_eq!(Zone::named("").unwrap().name(), Zone::server().name());
        // Stray spaces around a pasted name are forgiven.
        assert_eq!(
            Zone::named(" Europe/Madrid\n").unwrap().name(),
            "Europe/Madrid"
        );
        for hostile in [
            "Mars/Olympus",
            "America/\nChicago",
            "../../etc/passwd",
            "America/ Chicago",
            &"A".repeat(65),
            "\0",
        ] {
            assert!(Zone::named(hostile).is_err(), "{hostile:?}");
        }
        assert!(
            Zone::named("Mars/Olympus")
                .unwrap_err()
                .to_string()
                .contains("no time zone named")
        );
    }

    #[test]
    fn a_day_is_the_practices_own_day() {
        let chicago = Zone::named("America/Chicago").unwrap();
        // 7 December 2026 starts at 06:00 UTC in Chicago and lasts 24 hours.
        assert_eq!(
            chicago.day("2026-12-07"),
            Some((1_796_623_200, 1_796_623_200 + 86_400))
        );
        // The day clocks go forward (8 March 2026) has 23 hours, the day
        // they go back (1 November 2026) has 25.
        let (start, end) = chicago.day("2026-03-08").unwrap();
        assert_eq!(end - start, 23 * 3600);
        let (start, end) = chicago.day("2026-11-01").unwrap();
        assert_eq!(end - start, 25 * 3600);
        assert_eq!(
            Zone::utc().day("2026-12-07"),
            Some((1_796_601_600, 1_796_688_000))
        );
        for bad in [
            "",
            "2026-12-7",
            "2026-02-30",
            "2026-12-07T00:00:00Z",
            " 2026-12-07",
            "+02026-12-07",
            "１９７０-01-01",
            "1969-12-31",
        ] {
            assert_eq!(chicago.day(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parsing_inverts_formatting_and_refuses_nonsense() {
        for unix in [0, 951_782_400, 1_700_000_000, 1_800_000_010, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(unix)), Some(unix));
        }
        assert_eq!(parse_rfc3339("2000-02-29"), Some(951_782_400));
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2026-02-29",
            "2026-04-31",
            "1969-12-31",
            "2026-01-01T24:00:00Z",
            "2026-01-01T10:00:00",
            "2026-01-01 10:00:00Z",
            "+026-01-01",
            "2026-1-01",
            "２０２６-01-01",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_time_round_trips(unix in 0u64..253_402_300_799) {
            proptest::prop_assert_eq!(parse_rfc3339(&rfc3339(unix)), Some(unix));
        }

        #[test]
        fn any_text_parses_without_panic(text in ".{0,24}") {
            let _ = parse_rfc3339(&text);
            let _ = Zone::utc().day(&text);
        }

        #[test]
        fn every_real_date_is_a_day_that_ends_after_it_starts(
            days in 0u64..50_000,
        ) {
            let date = &rfc3339(days * 86_400)[..10];
            let (start, end) = Zone::named("America/Chicago").unwrap().day(date).unwrap();
            proptest::prop_assert!((23 * 3600..=25 * 3600).contains(&(end - start)));
        }
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(readable(1_700_000_000), "2023-11-14 22:13 UTC");
    }
}
