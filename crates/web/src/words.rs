//! Small helpers for the words pages say.

/// `n` with its noun in the right number: "1 attempt", "4 attempts".
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(count(1u32, "attempt", "attempts"), "1 attempt");
        assert_eq!(count(0u32, "attempt", "attempts"), "0 attempts");
        assert_eq!(count(4u64, "minute", "minutes"), "4 minutes");
    }
}
