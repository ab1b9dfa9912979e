//! The master key that seals TOTP seeds: from configuration, or from a 0600
//! key file created in the data directory on first start. Its id (the first
//! bytes of its SHA-256) is stored beside every sealed seed.

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A 32-byte key and its id.
pub struct MasterKey {
    /// Short id stored with sealed values.
    pub id: String,
    /// The key bytes.
    pub bytes: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({}, redacted)", self.id)
    }
}

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The configured value is not 32 bytes of hex or base64.
    #[error("master_key (TWOFACTOR_MASTER_KEY) must be 32 bytes as 64 hex digits or base64")]
    BadValue,
    /// The key file could not be read or written.
    #[error("master key file {path}: {error}")]
    File {
        /// Path of the key file.
        path: String,
        /// What failed.
        error: String,
    },
}

impl MasterKey {
    fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        let id = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        MasterKey { id, bytes }
    }

    /// Parses 64 hex digits or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(text.get(i * 2..i * 2 + 2).unwrap_or("zz"), 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| MasterKeyError::BadValue)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| MasterKeyError::BadValue)?
        };
        let bytes: [u8; 32] = decoded.try_into().map_err(|_| MasterKeyError::BadValue)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The configured key, or the key file in `data_dir` (created if missing).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, MasterKeyError> {
        if let Some(text) = configured {
            return Self::parse(text);
        }
        let path = data_dir.join("master.key");
        let file_error = |error: std::io::Error| MasterKeyError::File {
            path: path.display().to_string(),
            error: error.to_string(),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).map_err(|_| MasterKeyError::File {
                path: path.display().to_string(),
                error: "does not hold a 32-byte key (64 hex digits)".into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::app::create_private_dir(data_dir).map_err(file_error)?;
                let mut bytes = [0u8; 32];
                getrandom_fill(&mut bytes).map_err(file_error)?;
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt as _;
                    options.mode(0o600);
                }
                let mut file = options.open(&path).map_err(file_error)?;
                file.write_all(hex.as_bytes())
                    .and_then(|()| file.write_all(b"\n"))
                    .and_then(|()| file.sync_all())
                    .map_err(file_error)?;
                Ok(Self::from_bytes(bytes))
            }
            Err(e) => Err(file_error(e)),
        }
    }
}

fn getrandom_fill(bytes: &mut [u8]) -> Result<(), std::io::Error> {
    getrandom::fill(bytes).map_err(|e| std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_base64_and_refuses_the_rest() {
        let hex = "00".repeat(32);
        assert_eq!(MasterKey::parse(&hex).unwrap().bytes, [0; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert_eq!(MasterKey::parse(&b64).unwrap().bytes, [7; 32]);
        for bad in ["", "00", "zz".repeat(32).as_str(), "not base64!"] {
            assert!(MasterKey::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{:?}", MasterKey::parse(&hex).unwrap()).contains("0000"));
    }
}
