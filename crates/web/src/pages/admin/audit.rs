//! `/admin/audit`: the trail, newest first, filtered, and its streamed export.

use super::*;

/// Events per audit page.
const AUDIT_PAGE: u32 = 50;
/// Events per database read while exporting.
const EXPORT_CHUNK: u32 = 1000;

/// Query of `GET /admin/audit` and its export.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    user: Option<String>,
    event: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    format: Option<String>,
}

/// The filter the query asks for, within the administrator's practice, or
/// the message saying which field is wrong.
async fn audit_filter(
    state: &AppState,
    admin: &User,
    zone: &domain::time::Zone,
    params: &AuditQuery,
) -> Result<Result<AuditFilter, crate::lang::Problem>, AppError> {
    use crate::lang::Problem;
    let lang = crate::lang::current();
    let mut filter = AuditFilter {
        practice: Some(admin.practice_id),
        until: u64::MAX,
        ..AuditFilter::default()
    };
    let text = |value: &Option<String>| value.as_deref().unwrap_or("").trim().to_owned();
    let user = text(&params.user);
    if !user.is_empty() {
        let found = state.login.user_by_name(&user).await?;
        match found.filter(|u| u.practice_id == admin.practice_id) {
            Some(u) => filter.user = Some(u.id),
            None => {
                return Ok(Err(Problem {
                    words: lang.t_with("audit-no-such-user", &[("user", user.into())]),
                    field: "audit-user",
                }));
            }
        }
    }
    let event = text(&params.event);
    if !event.is_empty() {
        if !AuditKind::ALL.iter().any(|k| k.as_str() == event) {
            return Ok(Err(Problem::about("audit-event", "audit-unknown-event")));
        }
        filter.kind = Some(event);
    }
    let outcome = text(&params.outcome);
    if !outcome.is_empty() {
        if !crate::words::OUTCOMES.contains(&outcome.as_str()) {
            return Ok(Err(Problem::about("audit-outcome", "audit-bad-outcome")));
        }
        filter.outcome = Some(outcome);
    }
    // Dates are the practice's days, as the times on the page are.
    let from = text(&params.from);
    if !from.is_empty() {
        match zone.day(&from) {
            Some((start, _)) => filter.since = start,
            None => return Ok(Err(Problem::about("audit-from", "audit-bad-from"))),
        }
    }
    let to = text(&params.to);
    if !to.is_empty() {
        match zone.day(&to) {
            Some((_, end)) => filter.until = end,
            None => return Ok(Err(Problem::about("audit-to", "audit-bad-to"))),
        }
    }
    if filter.since >= filter.until {
        return Ok(Err(Problem::about("audit-from", "audit-from-after-to")));
    }
    Ok(Ok(filter))
}

/// The filter fields as a query string (for paging and export links).
fn filter_query(params: &AuditQuery) -> String {
    let pairs = [
        ("user", &params.user),
        ("event", &params.event),
        ("outcome", &params.outcome),
        ("from", &params.from),
        ("to", &params.to),
    ];
    pairs
        .iter()
        .map(|(key, value)| {
            let value: String = value.as_deref().unwrap_or("").chars().take(64).collect();
            format!("{key}={}", encode_next(value.trim()))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// An option of a select, and whether it is the chosen one.
pub struct Choice {
    value: &'static str,
    /// The value in words.
    words: String,
    selected: bool,
}

fn choices(
    values: impl Iterator<Item = &'static str>,
    words: fn(i18n::Lang, &str) -> String,
    chosen: &str,
) -> Vec<Choice> {
    let lang = crate::lang::current();
    values
        .map(|value| Choice {
            value,
            words: words(lang, value),
            selected: value == chosen,
        })
        .collect()
}

/// An event row as shown.
pub struct EventView {
    time: crate::words::When,
    username: String,
    /// The stable code (kept in `data-event` and exports).
    kind: String,
    /// The code in words.
    kind_words: String,
    outcome: String,
    outcome_words: String,
    ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage<'a> {
    tr: crate::lang::Tr,
    error: Option<&'a str>,
    /// The filter field the error is about.
    invalid: &'a str,
    user: String,
    from: String,
    to: String,
    kinds: Vec<Choice>,
    outcomes: Vec<Choice>,
    filter_query: String,
    events: Vec<EventView>,
    newer: Option<String>,
    older: Option<String>,
}

/// `GET /admin/audit`: newest first, 50 a page.
pub async fn audit(
    State(state): State<AppState>,
    Admin { user: admin, .. }: Admin,
    _headers: HeaderMap,
    params: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let params = query(params)?;
    let before = match params.before.as_deref() {
        None | Some("") => i64::MAX,
        Some(text) => match text.parse::<i64>() {
            Ok(id) if id > 0 => id,
            _ => return Err(AppError::BadRequest("before must be an event id".into())),
        },
    };
    let shown = |value: &Option<String>| -> String {
        value
            .as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(64)
            .collect()
    };
    let zone = state.login.practice_zone(admin.practice_id).await?;
    let (events, error, older) = match audit_filter(&state, &admin, &zone, &params).await? {
        Ok(filter) => {
            let mut found = state
                .login
                .audit_search(&filter, before, true, AUDIT_PAGE + 1)
                .await?;
            let more = found.len() > AUDIT_PAGE as usize;
            found.truncate(AUDIT_PAGE as usize);
            let older = match (more, found.last()) {
                (true, Some((id, _))) => Some(format!(
                    "/admin/audit?{}&before={id}",
                    filter_query(&params)
                )),
                _ => None,
            };
            (found, None, older)
        }
        Err(error) => (Vec::new(), Some(error), None),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let tr = crate::lang::Tr::current();
    let events = events
        .into_iter()
        .map(|(_, e)| EventView {
            time: crate::words::When::at(&zone, e.at),
            username: e.username,
            kind_words: crate::words::event_words(tr.0, &e.kind),
            kind: e.kind,
            outcome_words: crate::words::outcome_words(tr.0, &e.outcome),
            outcome: e.outcome,
            ip: e.ip,
            detail: e.detail,
        })
        .collect();
    page(
        status,
        &AuditPage {
            tr,
            error: error.as_ref().map(|p| p.words.as_str()),
            invalid: error.as_ref().map_or("", |p| p.field),
            user: shown(&params.user),
            from: shown(&params.from),
            to: shown(&params.to),
            kinds: choices(
                AuditKind::ALL.iter().map(|k| k.as_str()),
                crate::words::event_words,
                &shown(&params.event),
            ),
            outcomes: choices(
                crate::words::OUTCOMES.into_iter(),
                crate::words::outcome_words,
                &shown(&params.outcome),
            ),
            filter_query: filter_query(&params),
            events,
            newer: (before != i64::MAX).then(|| format!("/admin/audit?{}", filter_query(&params))),
            older,
        },
        &[],
    )
}

/// A body fed by a channel: the exporter task pages through the trail and
/// waits whenever the client is slower than the database, so memory stays
/// at a few chunks however long the export.
struct ChannelBody(tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>);

impl futures_core::Stream for ChannelBody {
    type Item = Result<axum::body::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// `GET /admin/audit/export?format=csv|jsonl&…filters`: the filtered set,
/// oldest first, streamed.
pub async fn export(
    State(state): State<AppState>,
    Admin { user: admin, .. }: Admin,
    _headers: HeaderMap,
    params: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let params = query(params)?;
    let Some(format) = Format::parse(params.format.as_deref().unwrap_or("")) else {
        return Err(AppError::BadRequest("format must be csv or jsonl".into()));
    };
    let zone = state.login.practice_zone(admin.practice_id).await?;
    let filter = match audit_filter(&state, &admin, &zone, &params).await? {
        Ok(filter) => filter,
        Err(error) => return Err(AppError::BadRequest(error.words)),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let login = state.login.clone();
    tokio::spawn(async move {
        let mut chunk = String::from(format.header());
        let mut after = 0;
        loop {
            let page = match login
                .audit_search(&filter, after, false, EXPORT_CHUNK)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "audit export stopped: database error");
                    let _ = sender
                        .send(Err(std::io::Error::other("database unavailable")))
                        .await;
                    return;
                }
            };
            for (id, event) in &page {
                chunk.push_str(&format.line(*id, event));
            }
            let done = page.len() < EXPORT_CHUNK as usize;
            if let Some((last, _)) = page.last() {
                after = *last;
            }
            let bytes = axum::body::Bytes::from(std::mem::take(&mut chunk));
            if !bytes.is_empty() && sender.send(Ok(bytes)).await.is_err() {
                return; // the client went away
            }
            if done {
                return;
            }
        }
    });
    let mut response = Body::from_stream(ChannelBody(receiver)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"audit-{}.{}\"",
        domain::time::rfc3339(state.now()).replace(':', ""),
        format.extension()
    )) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
