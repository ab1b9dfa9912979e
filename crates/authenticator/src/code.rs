//! Picking an account by name and showing its code the way the clinic's
//! phones do: `Main St Clinic token is: 75 091 92`, `expires in 20s`.

use crate::account::Account;

/// Why no single account was picked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    /// The vault is empty.
    #[error("the vault has no accounts yet; add one with `authenticator add`")]
    Empty,
    /// Nothing matches.
    #[error("no account matches {0:?}; `authenticator list` shows them")]
    NoMatch(String),
    /// A position past the end of the list.
    #[error(
        "there is no account number {position}: the vault has {count}; `authenticator list` numbers them"
    )]
    NoPosition {
        /// What was asked.
        position: String,
        /// How many accounts there are.
        count: usize,
    },
    /// Several match.
    #[error(
        "{query:?} matches several accounts: {candidates}; name one by its number or id, as `authenticator list` shows them"
    )]
    Ambiguous {
        /// What was asked.
        query: String,
        /// The names that matched.
        candidates: String,
    },
}

/// The account `query` names. A number is a position in `list` (from 1,
/// `#2` too) unless it is an account's id; else an exact (case-insensitive) issuer
/// or label, then a substring of either, then the letters in order (fuzzy).
/// Without a query, the only account.
pub fn pick<'a>(accounts: &'a [Account], query: Option<&str>) -> Result<usize, PickError> {
    if accounts.is_empty() {
        return Err(PickError::Empty);
    }
    let query = query.map(|q| q.trim().to_lowercase());
    if let Some(query) = &query {
        // Ids are six characters, so they only look like a position in a
        // vault of a hundred thousand accounts.
        if let Some(i) = accounts.iter().position(|a| a.id == *query) {
            return Ok(i);
        }
        let number = query.strip_prefix('#').unwrap_or(query);
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            return number
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=accounts.len()).contains(n))
                .map(|n| n - 1)
                .ok_or(PickError::NoPosition {
                    position: number.to_owned(),
                    count: accounts.len(),
                });
        }
    }
    let Some(query) = query else {
        return match accounts.len() {
            1 => Ok(0),
            _ => Err(PickError::Ambiguous {
                query: String::new(),
                candidates: names(accounts, &(0..accounts.len()).collect::<Vec<_>>()),
            }),
        };
    };
    let fields = |a: &'a Account| {
        [
            a.issuer.clone().unwrap_or_default(),
            a.label.clone(),
            a.display_name(),
        ]
        .map(|s| s.to_lowercase())
    };
    let tiers: [&dyn Fn(&str) -> bool; 3] = [
        &|field: &str| field == query,
        &|field: &str| field.contains(&query),
        &|field: &str| subsequence(&query, field),
    ];
    for tier in tiers {
        let hits: Vec<usize> = accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| fields(a).iter().any(|f| tier(f)))
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [] => continue,
            [one] => return Ok(*one),
            many => {
                return Err(PickError::Ambiguous {
                    query: query.clone(),
                    candidates: names(accounts, many),
                });
            }
        }
    }
    Err(PickError::NoMatch(query))
}

fn names(accounts: &[Account], indexes: &[usize]) -> String {
    indexes
        .iter()
        .filter_map(|&i| Some((i, accounts.get(i)?)))
        .map(|(i, a)| format!("{} {} (id {})", i + 1, a.display_name(), a.id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn subsequence(needle: &str, haystack: &str) -> bool {
    let mut rest = haystack.chars();
    needle.chars().all(|c| rest.any(|h| h == c))
}

/// The two lines `authenticator code` prints.
pub fn lines(account: &Account, grouped_code: &str, seconds_left: Option<u32>) -> String {
    let mut out = format!("{} token is: {grouped_code}", account.short_name());
    if let Some(left) = seconds_left {
        out.push_str(&format!("\nexpires in {left}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(issuer: Option<&str>, label: &str) -> Account {
        Account {
            id: format!("{:06x}", label.len() * 4099 + issuer.map_or(0, str::len)),
            issuer: issuer.map(str::to_owned),
            label: label.into(),
            secret: "JBSWY3DPEHPK3PXP".into(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: Some(30),
            counter: None,
        }
    }

    #[test]
    fn picks_by_issuer_or_label_fuzzy_and_case_insensitive() {
        let accounts = vec![
            account(Some("drchrono"), "smith"),
            account(Some("Main St Clinic"), "smith"),
            account(None, "personal@mail.example"),
        ];
        assert_eq!(pick(&accounts, Some("DrChrono")), Ok(0));
        assert_eq!(pick(&accounts, Some("main st")), Ok(1));
        assert_eq!(pick(&accounts, Some("mstc")), Ok(1));
        assert_eq!(pick(&accounts, Some("personal")), Ok(2));
        assert!(matches!(
            pick(&accounts, Some("smith")),
            Err(PickError::Ambiguous { .. })
        ));
        let err = pick(&accounts, Some("smith")).unwrap_err().to_string();
        assert!(
            err.contains("1 drchrono (smith) (id") && err.contains("2 Main St Clinic (smith) (id"),
            "{err}"
        );
        assert_eq!(
            pick(&accounts, Some("zzz")),
            Err(PickError::NoMatch("zzz".into()))
        );
        assert!(pick(&accounts, None).is_err());
        assert_eq!(pick(&accounts[..1], None), Ok(0));
        assert_eq!(pick(&[], None), Err(PickError::Empty));
    }

    #[test]
    fn twins_are_picked_by_position_or_id() {
        let mut accounts = vec![
            account(Some("Main St Clinic"), "smith"),
            account(Some("Main St Clinic"), "smith"),
            account(None, "7"),
        ];
        accounts[0].id = "a1b2c3".into();
        accounts[1].id = "d4e5f6".into();
        accounts[2].id = "000777".into();
        assert!(matches!(
            pick(&accounts, Some("main st clinic")),
            Err(PickError::Ambiguous { .. })
        ));
        assert_eq!(pick(&accounts, Some("1")), Ok(0));
        assert_eq!(pick(&accounts, Some(" #2 ")), Ok(1));
        assert_eq!(pick(&accounts, Some("D4E5F6")), Ok(1));
        assert_eq!(pick(&accounts, Some("a1b2c3")), Ok(0));
        // A number is always a position: the account labelled "7" is
        // reached by its id or position instead.
        assert_eq!(
            pick(&accounts, Some("7")),
            Err(PickError::NoPosition {
                position: "7".into(),
                count: 3
            })
        );
        assert_eq!(pick(&accounts, Some("000777")), Ok(2));
        for hostile in ["0", "#0", "99999999999999999999999", "-1", "#"] {
            assert!(pick(&accounts, Some(hostile)).is_err(), "{hostile}");
        }
        let message = pick(&accounts, Some("0")).unwrap_err().to_string();
        assert!(message.contains("the vault has 3"), "{message}");
    }

    #[test]
    fn prints_like_the_phone_app() {
        let a = account(Some("drchrono"), "smith");
        assert_eq!(
            lines(&a, "75 091 92", Some(20)),
            "drchrono token is: 75 091 92\nexpires in 20s"
        );
        assert_eq!(
            lines(&account(None, "bob"), "123 456", None),
            "bob token is: 123 456"
        );
    }
}
