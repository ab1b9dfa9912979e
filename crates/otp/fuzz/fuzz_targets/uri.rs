//! Any text given to the otpauth:// parser returns a value or a typed error,
//! never a panic; whatever parses builds back to a URI that parses the same,
//! provided its names are ones the builder accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otp::OtpAuthUri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = OtpAuthUri::parse(text) {
        if uri.check_names().is_ok() {
            let again = OtpAuthUri::parse(&uri.to_uri()).expect("a built URI parses");
            assert_eq!(again, uri);
        }
    }
});
