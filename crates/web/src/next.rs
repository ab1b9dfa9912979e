//! `next=`: where to go after login. Only same-origin paths are followed;
//! everything else (`//evil`, `https://evil`, `/\evil`) becomes `/`.

/// The longest `next` followed: room for an application's sign-in
/// request (`/oidc/authorize?…`) with its state, nonce and redirect URI.
pub const MAX_NEXT_BYTES: usize = 4096;

/// A safe redirect target from an untrusted `next` value.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_local_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local_path(path: &str) -> bool {
    is_site_path(path) && !path.starts_with("/login") && !path.starts_with("/logout")
}

/// A path of this site (no scheme, no other host, nothing a browser reads
/// as one), login pages included: where the language switch may go back to.
pub fn is_site_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= MAX_NEXT_BYTES
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_paths_survive() {
        assert_eq!(
            safe_next(Some("/patients/7?tab=notes")),
            "/patients/7?tab=notes"
        );
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "\\\\evil",
            "javascript:alert(1)",
            "/\t/evil",
            "/%0d%0aSet-Cookie:x",
            "",
            "evil",
            "/login?next=//evil",
        ] {
            let out = safe_next(Some(hostile));
            assert!(
                out == "/" || out == "/%0d%0aSet-Cookie:x",
                "{hostile:?} -> {out}"
            );
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            safe_next(Some(&format!("/{}", "a".repeat(MAX_NEXT_BYTES)))),
            "/"
        );
    }
}
