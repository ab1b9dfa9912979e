//! Which authenticator steps a code is accepted in, what a phone's clock
//! offset is learned as, and what a wrong code that matches some other step
//! may tell: the rules, with no I/O.
//!
//! A phone whose clock runs a little fast or slow is followed: the offset
//! of each accepted code is stored (at most [`MAX_OFFSET`] steps) and the
//! next login accepts the steps around it, and always the steps around
//! the true time too (a phone whose clock was corrected, or another app
//! with the same secret, is not refused).
//!
//! A wrong code is searched further (±[`crate::Policy::drift_hint_seconds`])
//! only to help the user: a match in the past means the phone's clock is
//! behind, and saying so gives a guesser nothing (a past code never works
//! again). A match in the future is a code that would work later: saying
//! so would make every guess an oracle for codes to come, so nothing is
//! said, and that step and every step before it are used up at once
//! ([`WrongCode::Future`]), so the code can never be used.

/// The largest clock offset learned, in steps (a minute at 30 s).
pub(crate) const MAX_OFFSET: i64 = 2;

/// The steps accepted around now, as (behind, ahead): `window` either
/// side of now and either side of the learned `offset`.
pub(crate) fn accepted_window(offset: i64, window: u32) -> (u32, u32) {
    let window = i64::from(window);
    let offset = offset.clamp(-MAX_OFFSET, MAX_OFFSET);
    let behind = window.max(window - offset);
    let ahead = window.max(window + offset);
    (
        u32::try_from(behind).unwrap_or(u32::MAX),
        u32::try_from(ahead).unwrap_or(u32::MAX),
    )
}

/// The offset to store after a code matched `step` when now is `now_step`.
pub(crate) fn learned_offset(step: u64, now_step: u64) -> i64 {
    let offset = i128::from(step) - i128::from(now_step);
    i64::try_from(offset.clamp(i128::from(-MAX_OFFSET), i128::from(MAX_OFFSET))).unwrap_or_default()
}

/// What a wrong code that matches `step` (outside the accepted steps)
/// means when now is `now_step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WrongCode {
    /// A past step: the phone's clock is behind by about this many
    /// minutes, which the page may say.
    Behind {
        /// Minutes.
        minutes: u64,
    },
    /// A future step: say nothing, and use that step up.
    Future {
        /// The step to claim.
        step: u64,
    },
}

/// Classifies a match at `step` (`period` seconds a step).
pub(crate) fn wrong_code(step: u64, now_step: u64, period: u64) -> WrongCode {
    if step > now_step {
        return WrongCode::Future { step };
    }
    let seconds = (now_step - step).saturating_mul(period);
    WrongCode::Behind {
        minutes: seconds.div_ceil(60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_phone_and_keeps_the_true_time() {
        assert_eq!(accepted_window(0, 1), (1, 1));
        assert_eq!(accepted_window(1, 1), (1, 2));
        assert_eq!(accepted_window(2, 1), (1, 3));
        assert_eq!(accepted_window(-2, 1), (3, 1));
        // A stored offset beyond the limit (an older row) is held to it.
        assert_eq!(accepted_window(40, 1), (1, 3));
        assert_eq!(accepted_window(i64::MIN, 1), (3, 1));
    }

    #[test]
    fn offsets_are_learned_up_to_the_limit() {
        assert_eq!(learned_offset(100, 100), 0);
        assert_eq!(learned_offset(101, 100), 1);
        assert_eq!(learned_offset(103, 100), 2);
        assert_eq!(learned_offset(90, 100), -2);
        assert_eq!(learned_offset(u64::MAX, 0), 2);
        assert_eq!(learned_offset(0, u64::MAX), -2);
    }

    /// A phone running ahead by one step more at every login: +1, +2, +3.
    /// Each code is accepted, and the true time's code still is after.
    #[test]
    fn a_phone_drifting_ahead_is_followed_and_the_true_code_still_works() {
        let mut offset = 0;
        let mut now = 1_000;
        for ahead in 1..=3u64 {
            now += 10;
            let (_, front) = accepted_window(offset, 1);
            let step = now + ahead;
            assert!(step <= now + u64::from(front), "+{ahead} accepted");
            offset = learned_offset(step, now);
        }
        assert_eq!(offset, 2);
        let (behind, front) = accepted_window(offset, 1);
        assert!(behind >= 1 && front >= 3, "the true code and +3 both work");
    }

    #[test]
    fn only_the_past_is_named() {
        assert_eq!(wrong_code(92, 100, 30), WrongCode::Behind { minutes: 4 });
        assert_eq!(wrong_code(99, 100, 30), WrongCode::Behind { minutes: 1 });
        assert_eq!(wrong_code(106, 100, 30), WrongCode::Future { step: 106 });
        assert!(
            matches!(wrong_code(0, u64::MAX, 30), WrongCode::Behind { minutes } if minutes > 0)
        );
    }
}
