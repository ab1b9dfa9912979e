//! Reading the `Cookie` header and writing `Set-Cookie` values. Small enough
//! to keep here: we only ever set two cookies with fixed attributes.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The value of cookie `name`, if the request carries one.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite`, `Path=/`, `Secure` when
/// behind TLS; a session cookie when `max_age` is `None`.
pub fn set(name: &str, value: &str, secure: bool, same_site: &str, max_age: Option<u64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// A `Set-Cookie` value that deletes `name`.
pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", secure, "Lax", Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_many_and_ignores_junk() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; tf_session=abc; junk; b="),
        );
        assert_eq!(get(&headers, "tf_session"), Some("abc".into()));
        assert_eq!(get(&headers, "b"), None);
        assert_eq!(get(&headers, "missing"), None);
    }

    #[test]
    fn set_cookie_has_the_safe_attributes() {
        let c = set("__Host-tf_session", "v", true, "Lax", None);
        assert_eq!(
            c,
            "__Host-tf_session=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(clear("tf_session", false).contains("Max-Age=0"));
    }
}
