//! Property: the staff page's search finds an account exactly when its
//! username, name or email contains the typed text, case-insensitively, with
//! LIKE's `%`, `_` and `\` taken literally (they are ordinary characters in
//! names, and a search must never become a pattern).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use domain::ports::*;
use domain::{NewUser, Role};
use proptest::prelude::*;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn store() -> &'static store::SqlStore {
    static STORE: OnceLock<store::SqlStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("twofactor-staff-search-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}?mode=rwc", path.display());
        runtime()
            .block_on(store::connect(&url, true, None))
            .expect("sqlite store")
    })
}

static CASE: AtomicU32 = AtomicU32::new(0);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn search_matches_exactly_the_accounts_containing_the_text(
        name in "[ -~]{0,16}",
        needle in "[ -~]{1,4}",
    ) {
        let case = CASE.fetch_add(1, Ordering::Relaxed);
        let store = store();
        let (found, expected) = runtime().block_on(async {
            let practice = store.ensure_practice(&format!("p{case}"), 0).await.unwrap();
            let username = format!("user{case}");
            let email = format!("m{case}@clinic.example");
            store
                .create_user(
                    &NewUser {
                        practice_id: practice,
                        username: username.clone(),
                        email: email.clone(),
                        phone: None,
                        role: Role::Staff,
                        password_hash: None,
                        display_name: name.clone(),
                    },
                    0,
                )
                .await
                .unwrap();
            let typed = needle.trim();
            let (rows, total) = store.staff_page(practice, typed, None, 0, 10).await.unwrap();
            assert_eq!(rows.len() as u64, total);
            let lower = typed.to_lowercase();
            let expected = [&username, &email, &name]
                .iter()
                .any(|field| field.to_lowercase().contains(&lower));
            (total == 1, expected)
        });
        prop_assert_eq!(found, expected, "name {:?} search {:?}", name, needle);
    }
}
