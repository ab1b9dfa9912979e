//! RFC 4648 base32, as authenticator secrets are written.
//!
//! Written by hand rather than taken from a crate because people type these
//! secrets: decoding must accept lower case, spaces and missing padding, and an
//! error must name the offending character so support staff can say "the 1
//! should be an I". It is forty lines and fuzzed (`fuzz/fuzz_targets/base32.rs`).

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why a base32 string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base32Error {
    /// A character outside `A-Z`, `a-z`, `2-7`, space and trailing `=`.
    #[error(
        "invalid character {character:?} at position {position} (base32 uses only the letters A-Z and the digits 2-7)"
    )]
    InvalidCharacter {
        /// The character as typed.
        character: char,
        /// Its 1-based position in the input, counting characters.
        position: usize,
    },
    /// The number of base32 characters cannot come from whole bytes
    /// (1, 3 or 6 characters past a multiple of 8).
    #[error("{0} base32 characters cannot encode whole bytes; a character is missing or extra")]
    InvalidLength(usize),
    /// Padding present but not the amount RFC 4648 prescribes.
    #[error("wrong amount of '=' padding at the end")]
    InvalidPadding,
}

/// Decodes RFC 4648 base32, forgiving what people do when they type a secret:
/// lower case, spaces anywhere, and no padding.
///
/// ```
/// use otp::base32::decode;
/// assert_eq!(decode("JBSWY3DPEHPK3PXP").unwrap(), b"Hello!\xDE\xAD\xBE\xEF");
/// assert_eq!(decode("jbsw y3dp ehpk 3pxp").unwrap(), b"Hello!\xDE\xAD\xBE\xEF");
/// assert_eq!(decode("MZXW6===").unwrap(), b"foo");
///
/// let err = decode("JBSW1").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid character '1' at position 5 (base32 uses only the letters A-Z and the digits 2-7)"
/// );
/// ```
pub fn decode(input: &str) -> Result<Vec<u8>, Base32Error> {
    let mut out = Vec::with_capacity(input.len() * 5 / 8);
    let (mut buffer, mut bits, mut symbols, mut padding) = (0u64, 0u32, 0usize, 0usize);
    for (index, character) in input.chars().enumerate() {
        let value = match character {
            ' ' => continue,
            '=' => {
                padding += 1;
                continue;
            }
            'A'..='Z' => character as u8 - b'A',
            'a'..='z' => character as u8 - b'a',
            '2'..='7' => character as u8 - b'2' + 26,
            _ => return Err(invalid(character, index)),
        };
        if padding > 0 {
            // Padding is only allowed at the very end.
            return Err(invalid('=', first_padding_position(input)));
        }
        symbols += 1;
        buffer = (buffer << 5) | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    let expected_padding = match symbols % 8 {
        0 => 0,
        2 => 6,
        4 => 4,
        5 => 3,
        7 => 1,
        _ => return Err(Base32Error::InvalidLength(symbols)),
    };
    if padding != 0 && padding != expected_padding {
        return Err(Base32Error::InvalidPadding);
    }
    Ok(out)
}

fn invalid(character: char, index: usize) -> Base32Error {
    Base32Error::InvalidCharacter {
        character,
        position: index + 1,
    }
}

fn first_padding_position(input: &str) -> usize {
    input.chars().position(|c| c == '=').unwrap_or(0)
}

/// Encodes bytes as upper-case RFC 4648 base32 without padding, the form
/// authenticator apps expect in `otpauth://` URIs.
///
/// ```
/// assert_eq!(otp::base32::encode(b"foobar"), "MZXW6YTBOI");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

fn symbol(value: u32) -> char {
    // `value & 31` is below 32, the alphabet's length.
    ALPHABET
        .get((value & 31) as usize)
        .map_or('A', |&b| b as char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 4648 section 10 test vectors.
    const RFC_VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "MY======"),
        ("fo", "MZXQ===="),
        ("foo", "MZXW6==="),
        ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI======"),
    ];

    #[test]
    fn rfc4648_vectors_decode_with_and_without_padding() {
        for (plain, encoded) in RFC_VECTORS {
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes(), "{encoded}");
            let bare = encoded.trim_end_matches('=');
            assert_eq!(decode(bare).unwrap(), plain.as_bytes(), "{bare}");
            assert_eq!(encode(plain.as_bytes()), bare);
        }
    }

    #[test]
    fn error_names_the_bad_character_and_its_position() {
        assert_eq!(
            decode("ab0d").unwrap_err(),
            Base32Error::InvalidCharacter {
                character: '0',
                position: 3
            }
        );
        assert_eq!(
            decode("MZXW6é").unwrap_err(),
            Base32Error::InvalidCharacter {
                character: 'é',
                position: 6
            }
        );
        assert_eq!(
            decode("MZ\tXW").unwrap_err(),
            Base32Error::InvalidCharacter {
                character: '\t',
                position: 3
            }
        );
    }

    #[test]
    fn padding_only_at_the_end_and_only_the_right_amount() {
        assert_eq!(
            decode("MY==MY").unwrap_err(),
            Base32Error::InvalidCharacter {
                character: '=',
                position: 3
            }
        );
        assert_eq!(decode("MY=").unwrap_err(), Base32Error::InvalidPadding);
        assert_eq!(
            decode("MZXW6YTB=").unwrap_err(),
            Base32Error::InvalidPadding
        );
    }

    #[test]
    fn impossible_lengths_are_refused() {
        for input in ["A", "ABC", "ABCDEF", "ABCDEFGHI"] {
            assert!(
                matches!(decode(input), Err(Base32Error::InvalidLength(_))),
                "{input}"
            );
        }
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn lower_case_and_spaces_do_not_change_the_result(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            every in 1usize..8,
        ) {
            let encoded = encode(&bytes);
            let spaced: String = encoded
                .to_lowercase()
                .chars()
                .enumerate()
                .flat_map(|(i, c)| if i % every == 0 { vec![' ', c] } else { vec![c] })
                .collect();
            prop_assert_eq!(decode(&spaced).unwrap(), bytes);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
            let _ = decode(&text);
        }
    }
}
