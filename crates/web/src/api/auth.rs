//! Who is calling: the bearer key, checked on every request, and its rate.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::ApiKey;

use super::Problem;
use crate::AppState;

/// A request from a live key, within its rate.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiKey);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, value) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
            })
            .ok_or_else(Problem::unauthorized)?;
        let key = state
            .login
            .authenticate_api_key(presented, state.now())
            .await?
            .ok_or_else(Problem::unauthorized)?;
        if let Err(wait) = state.api_rate.allow(key.id, state.now()) {
            return Err(Problem::rate_limited(
                wait,
                "this key made too many requests in the last minute",
            ));
        }
        Ok(Caller(key))
    }
}

/// Requests per key per minute, counted in fixed one-minute windows in this
/// process (each instance counts its own).
#[derive(Debug)]
pub struct RateLimiter<K = i64> {
    per_minute: u32,
    windows: Mutex<HashMap<K, (u64, u32)>>,
}

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    /// A limiter allowing `per_minute` requests per key.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` if key `id` may make a request at `now`; else the seconds until
    /// its window ends.
    pub fn allow(&self, id: K, now: u64) -> Result<(), u64> {
        let window = now / 60;
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() > 10_000 {
            windows.retain(|_, (w, _)| *w == window);
        }
        let entry = windows.entry(id).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.per_minute {
            return Err(60 - now % 60);
        }
        entry.1 += 1;
        Ok(())
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_per_minute_window() {
        let limiter = RateLimiter::new(2);
        assert_eq!(limiter.allow(1, 120), Ok(()));
        assert_eq!(limiter.allow(1, 130), Ok(()));
        assert_eq!(limiter.allow(1, 135), Err(45));
        assert_eq!(limiter.allow(2, 135), Ok(()), "keys are counted apart");
        assert_eq!(limiter.allow(1, 180), Ok(()), "a new minute starts afresh");
    }
}
