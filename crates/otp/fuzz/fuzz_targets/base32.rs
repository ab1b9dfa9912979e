//! Any text given to the base32 decoder returns bytes or an error naming a
//! character that is really in the input, never a panic; decoded bytes encode
//! back to the canonical form of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otp::base32::{Base32Error, decode, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode(text) {
        Ok(bytes) => {
            assert_eq!(decode(&encode(&bytes)).expect("encoded text decodes"), bytes);
        }
        Err(Base32Error::InvalidCharacter { character, position }) => {
            assert_eq!(text.chars().nth(position - 1), Some(character));
        }
        Err(_) => {}
    }
});
