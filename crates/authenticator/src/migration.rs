//! Google Authenticator's export, `otpauth-migration://offline?data=…`: a
//! base64 protobuf `MigrationPayload` holding many accounts.
//!
//! The protobuf is read by hand: four fields of one message type, a varint
//! and length-delimited reader, far less than a protobuf code generator.
//! Every read is bounds-checked; malformed input is an error, not a panic.

use base64::Engine as _;
use otp::{Algorithm, Digits, OtpAuthUri, OtpKind, Period, Secret};

/// Why an export could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    /// Not `otpauth-migration://offline?data=…`.
    #[error("not an otpauth-migration://offline?data=… URI")]
    NotMigration,
    /// The data is not base64.
    #[error("the export's data is not valid base64")]
    Base64,
    /// The protobuf is malformed or truncated.
    #[error("the export's data is damaged ({0})")]
    Protobuf(&'static str),
    /// An account uses something authenticators here cannot compute.
    #[error("account {0:?} uses an unsupported algorithm or digit count")]
    Unsupported(String),
}

/// Parses an export into one URI per account.
pub fn parse(uri: &str) -> Result<Vec<OtpAuthUri>, MigrationError> {
    let rest = uri
        .strip_prefix("otpauth-migration://offline?")
        .ok_or(MigrationError::NotMigration)?;
    let data = rest
        .split('&')
        .find_map(|pair| pair.strip_prefix("data="))
        .ok_or(MigrationError::NotMigration)?;
    let data = percent_decode(data).ok_or(MigrationError::Base64)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(data.trim()))
        .map_err(|_| MigrationError::Base64)?;
    let mut accounts = Vec::new();
    let mut reader = Reader(&bytes);
    while let Some((field, value)) = reader.field()? {
        if let (1, Value::Bytes(message)) = (field, value) {
            accounts.push(account(message)?);
        }
    }
    Ok(accounts)
}

fn account(message: &[u8]) -> Result<OtpAuthUri, MigrationError> {
    let (mut secret, mut name, mut issuer) = (Vec::new(), String::new(), String::new());
    let (mut algorithm, mut digits, mut kind, mut counter) = (0u64, 0u64, 0u64, 0u64);
    let mut reader = Reader(message);
    while let Some((field, value)) = reader.field()? {
        match (field, value) {
            (1, Value::Bytes(b)) => secret = b.to_vec(),
            (2, Value::Bytes(b)) => name = String::from_utf8_lossy(b).into_owned(),
            (3, Value::Bytes(b)) => issuer = String::from_utf8_lossy(b).into_owned(),
            (4, Value::Varint(v)) => algorithm = v,
            (5, Value::Varint(v)) => digits = v,
            (6, Value::Varint(v)) => kind = v,
            (7, Value::Varint(v)) => counter = v,
            _ => {}
        }
    }
    // Google puts "Issuer:account" in the name when it has both.
    let account = match name.split_once(':') {
        Some((prefix, rest)) if prefix == issuer => rest.trim().to_owned(),
        _ => name.trim().to_owned(),
    };
    let unsupported = || MigrationError::Unsupported(account.clone());
    let algorithm = match algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        _ => return Err(unsupported()),
    };
    let digits = match digits {
        0 | 1 => Digits::SIX,
        2 => Digits::EIGHT,
        _ => return Err(unsupported()),
    };
    let kind = match kind {
        1 => OtpKind::Hotp { counter },
        _ => OtpKind::Totp {
            period: Period::DEFAULT,
        },
    };
    let uri = OtpAuthUri {
        kind,
        issuer: Some(issuer)
            .filter(|i| !i.trim().is_empty())
            .map(|i| i.trim().to_owned()),
        account,
        secret: Secret::from_bytes(secret).map_err(|_| MigrationError::Protobuf("empty secret"))?,
        algorithm,
        digits,
    };
    uri.check_names()
        .map_err(|_| MigrationError::Protobuf("unusable account name"))?;
    Ok(uri)
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, MigrationError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self
                .0
                .split_first()
                .ok_or(MigrationError::Protobuf("truncated varint"))?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(MigrationError::Protobuf("varint too long"))
    }

    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, MigrationError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| MigrationError::Protobuf("length"))?;
                if len > self.0.len() {
                    return Err(MigrationError::Protobuf("truncated field"));
                }
                let (bytes, rest) = self.0.split_at(len);
                self.0 = rest;
                Value::Bytes(bytes)
            }
            5 => {
                self.skip(4)?;
                Value::Varint(0)
            }
            1 => {
                self.skip(8)?;
                Value::Varint(0)
            }
            _ => return Err(MigrationError::Protobuf("unknown wire type")),
        };
        Ok(Some((key >> 3, value)))
    }

    fn skip(&mut self, n: usize) -> Result<(), MigrationError> {
        if n > self.0.len() {
            return Err(MigrationError::Protobuf("truncated field"));
        }
        self.0 = self.0.get(n..).unwrap_or_default();
        Ok(())
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One account of an export, with the protobuf's enum numbers:
/// (secret, name, issuer, algorithm 1-3, digits 1=six 2=eight, type 1=HOTP
/// 2=TOTP, counter).
pub type ExportEntry<'a> = (&'a [u8], &'a str, &'a str, u64, u64, u64, u64);

/// Builds an export, as Google Authenticator writes one (used by tests).
pub fn encode(accounts: &[ExportEntry<'_>]) -> String {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn bytes(out: &mut Vec<u8>, field: u64, b: &[u8]) {
        varint(out, field << 3 | 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
    let mut payload = Vec::new();
    for (secret, name, issuer, algorithm, digits, kind, counter) in accounts {
        let mut m = Vec::new();
        bytes(&mut m, 1, secret);
        bytes(&mut m, 2, name.as_bytes());
        bytes(&mut m, 3, issuer.as_bytes());
        for (field, value) in [(4, *algorithm), (5, *digits), (6, *kind), (7, *counter)] {
            varint(&mut m, field << 3);
            varint(&mut m, value);
        }
        bytes(&mut payload, 1, &m);
    }
    let data = base64::engine::general_purpose::STANDARD.encode(payload);
    format!(
        "otpauth-migration://offline?data={}",
        data.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_account_of_an_export() {
        let uri = encode(&[
            (
                b"12345678901234567890",
                "Clinic:alice",
                "Clinic",
                1,
                1,
                2,
                0,
            ),
            (b"abcdefghij", "bob@example.org", "", 2, 2, 1, 7),
        ]);
        let accounts = parse(&uri).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].issuer.as_deref(), Some("Clinic"));
        assert_eq!(accounts[0].account, "alice");
        assert_eq!(accounts[0].secret.expose_bytes(), b"12345678901234567890");
        assert_eq!(accounts[1].issuer, None);
        assert_eq!(accounts[1].algorithm, Algorithm::Sha256);
        assert_eq!(accounts[1].digits, Digits::EIGHT);
        assert_eq!(accounts[1].kind, OtpKind::Hotp { counter: 7 });
    }

    #[test]
    fn malformed_exports_are_errors() {
        assert_eq!(
            parse("otpauth://totp/x?secret=AA"),
            Err(MigrationError::NotMigration)
        );
        assert_eq!(
            parse("otpauth-migration://offline?nodata=1"),
            Err(MigrationError::NotMigration)
        );
        assert_eq!(
            parse("otpauth-migration://offline?data=!!!"),
            Err(MigrationError::Base64)
        );
        // A length prefix pointing past the end.
        let truncated = base64::engine::general_purpose::STANDARD.encode([0x0a, 0x7f, 0x01]);
        assert!(matches!(
            parse(&format!("otpauth-migration://offline?data={truncated}")),
            Err(MigrationError::Protobuf(_))
        ));
        let endless = base64::engine::general_purpose::STANDARD.encode([0xff; 12]);
        assert!(parse(&format!("otpauth-migration://offline?data={endless}")).is_err());
        let md5 = encode(&[(b"12345678901234567890", "x", "", 4, 1, 2, 0)]);
        assert!(matches!(parse(&md5), Err(MigrationError::Unsupported(_))));
    }
}
