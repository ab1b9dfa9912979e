//! The statements on the hot paths use indexes, so their cost does not grow
//! with the number of users or events: SQLite's query
//! plan has no `SCAN` of a table, PostgreSQL's no `Seq Scan`. The plans are
//! made on the server's own connections, after ANALYZE has seen the tables
//! nearly empty: a plan chosen then is kept until the next ANALYZE, and
//! must still be an index lookup when a flood of wrong codes has filled
//! `failures` (with PostgreSQL's default settings it was a table scan).

use testkit::TestApp;

/// Whether a plan reads a whole table: SQLite's `SCAN t` (not a search),
/// PostgreSQL's `Seq Scan`, or an index scan without an `Index Cond`.
fn full_scans(plan: &[String]) -> bool {
    plan.iter().enumerate().any(|(i, line)| {
        if line.starts_with("SCAN ") || line.contains("Seq Scan") {
            return true;
        }
        if line.contains("Index Scan") || line.contains("Index Only Scan") {
            let details = plan[i + 1..].iter().take_while(|next| !next.contains("->"));
            return !details.into_iter().any(|next| next.contains("Index Cond"));
        }
        false
    })
}

async fn hot_queries_use_indexes(app: &TestApp) {
    let store = &app.app.store;
    // The tables that are empty most of the time in service, as ANALYZE
    // sees them then (PostgreSQL: this test's schema only).
    let analyze = match app.backend() {
        testkit::Backend::Postgres => {
            "ANALYZE failures, locks, sessions, outbox, audit_events, audit_chain"
        }
        testkit::Backend::Sqlite => "ANALYZE",
    };
    // The audit trail is never small in service: a read that joins the
    // chain's hashes must not walk them all (a merge join over the whole
    // of audit_chain was the sealer's plan once the trail had grown).
    store
        .execute_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
             INSERT INTO audit_events (at, username, kind, outcome, ip, user_agent, detail) \
             SELECT i, 'bulk', 'password_login', 'failure', '127.0.0.1', 'test', 'x' FROM n",
        )
        .await
        .unwrap();
    store
        .execute_sql("INSERT INTO audit_chain (id, chain_hash) SELECT id, 'x' FROM audit_events")
        .await
        .unwrap();
    store.execute_sql(analyze).await.unwrap();
    let mut problems = Vec::new();
    for (name, sql, args) in store::hot_queries(store.backend()) {
        let plan = store.explain(&sql, &args).await.unwrap();
        assert!(!plan.is_empty(), "{name}: no plan");
        if full_scans(&plan) {
            problems.push(format!("{name}: {plan:?}"));
        }
    }
    assert!(problems.is_empty(), "table scans:\n{}", problems.join("\n"));
}
both!(hot_queries_use_indexes);

/// The check itself fails on a query that has no index to use.
async fn a_table_scan_is_reported(app: &TestApp) {
    let plan = app
        .app
        .store
        .explain(
            "SELECT id FROM users WHERE display_name = $1",
            &[store::ExplainArg::Text("x")],
        )
        .await
        .unwrap();
    assert!(full_scans(&plan), "{plan:?}");
    // An index walked end to end (to sort by id, filtering every row) is
    // a scan too.
    let plan = app
        .app
        .store
        .explain(
            "SELECT id FROM users WHERE display_name = $1 ORDER BY id LIMIT 1",
            &[store::ExplainArg::Text("x")],
        )
        .await
        .unwrap();
    assert!(full_scans(&plan), "{plan:?}");
}
both!(a_table_scan_is_reported);
