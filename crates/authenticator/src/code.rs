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
    /// Several match.
    #[error("{query:?} matches several accounts: {candidates}; be more specific")]
    Ambiguous {
        /// What was asked.
        query: String,
        /// The names that matched.
        candidates: String,
    },
}

/// The account `query` names: exact (case-insensitive) issuer or label
/// first, then a substring of either, then the letters in order (fuzzy).
/// Without a query, the only account.
pub fn pick<'a>(accounts: &'a [Account], query: Option<&str>) -> Result<usize, PickError> {
    if accounts.is_empty() {
        return Err(PickError::Empty);
    }
    let Some(query) = query.map(str::to_lowercase) else {
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
        .filter_map(|&i| accounts.get(i))
        .map(Account::display_name)
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
            err.contains("drchrono (smith)") && err.contains("Main St Clinic (smith)"),
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
