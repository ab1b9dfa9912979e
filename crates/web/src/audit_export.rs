//! The audit trail as CSV (RFC 4180) or JSON Lines: one format for the
//! `/admin/audit` download and `twofactor audit export`.

use domain::AuditEvent;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// `csv` or `jsonl`.
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The Content-Type of a download.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/jsonl; charset=utf-8",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }

    /// What comes before the first event (the CSV header line).
    pub fn header(self) -> &'static str {
        match self {
            Format::Csv => "id,time,user_id,username,event,outcome,ip,user_agent,detail\n",
            Format::JsonLines => "",
        }
    }

    /// One event as one line, newline included.
    pub fn line(self, id: i64, event: &AuditEvent) -> String {
        let user_id = event.user_id.map(|u| u.0);
        match self {
            Format::Csv => {
                let fields = [
                    id.to_string(),
                    domain::time::rfc3339(event.at),
                    user_id.map(|u| u.to_string()).unwrap_or_default(),
                    event.username.clone(),
                    event.kind.clone(),
                    event.outcome.clone(),
                    event.ip.clone(),
                    event.user_agent.clone(),
                    event.detail.clone(),
                ];
                let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                format!("{}\n", row.join(","))
            }
            Format::JsonLines => {
                let value = serde_json::json!({
                    "id": id,
                    "at": event.at,
                    "time": domain::time::rfc3339(event.at),
                    "user_id": user_id,
                    "username": event.username,
                    "event": event.kind,
                    "outcome": event.outcome,
                    "ip": event.ip,
                    "user_agent": event.user_agent,
                    "detail": event.detail,
                });
                format!("{value}\n")
            }
        }
    }
}

/// One CSV field (RFC 4180 quoting). Text that a spreadsheet would run as
/// a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`: the
/// trail holds typed usernames and user agents, i.e. attacker text.
pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn lines_carry_every_field_and_stay_one_line() {
        let event = AuditEvent {
            at: 1_700_000_000,
            user_id: Some(domain::UserId(7)),
            username: "jane\nx".into(),
            kind: "password_login".into(),
            outcome: "success".into(),
            ip: "127.0.0.1".into(),
            user_agent: "=cmd".into(),
            detail: "a \"b\"".into(),
        };
        let json = Format::JsonLines.line(3, &event);
        assert_eq!(json.matches('\n').count(), 1);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["username"], "jane\nx");
        assert_eq!(value["user_id"], 7);
        let csv = Format::Csv.line(3, &event);
        assert!(csv.starts_with("3,2023-11-14T22:13:20Z,7,\"jane\nx\",password_login"));
        assert!(csv.contains(",'=cmd,"));
        assert_eq!(Format::parse("xml"), None);
    }
}
