//! The encrypted vault: every account in one file, sealed with a key derived
//! from a passphrase (argon2id) under XChaCha20-Poly1305.
//!
//! Layout: `TFAV` magic, format version (1 byte), argon2 salt (16), a
//! 16-byte key check (SHA-256 of the derived key, truncated: tells a wrong
//! passphrase from a damaged file), nonce (24), then ciphertext and tag. The
//! header is the AEAD's associated data, so no byte of it can be changed.
//! Writes are atomic (temp file, fsync, rename) and keep the previous file as
//! `<vault>.bak`. A file that cannot be read is never written over.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::account::Account;

const MAGIC: &[u8; 4] = b"TFAV";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 16 + 16 + 24;

/// Why the vault could not be opened or saved. One line each.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The passphrase does not open this vault.
    #[error("wrong passphrase for the vault {0}")]
    WrongPassphrase(PathBuf),
    /// Not a vault, truncated, or altered.
    #[error(
        "the vault {0} is damaged or truncated; it was left untouched (a backup may be at {0}.bak)"
    )]
    Corrupt(PathBuf),
    /// Written by a newer authenticator.
    #[error(
        "the vault {path} has format version {version}; this authenticator reads version 1 — update it"
    )]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u8,
    },
    /// The file system refused.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: String,
    },
    /// Crypto or random source failure.
    #[error("{0}")]
    Crypto(String),
}

/// An open vault.
#[derive(Debug)]
pub struct Vault {
    path: PathBuf,
    key: Zeroizing<[u8; 32]>,
    salt: [u8; 16],
    /// The accounts, in the order they were added.
    pub accounts: Vec<Account>,
}

fn derive(passphrase: &str, salt: &[u8; 16]) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let params =
        Params::new(19_456, 2, 1, Some(32)).map_err(|e| VaultError::Crypto(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| VaultError::Crypto(e.to_string()))?;
    Ok(key)
}

fn key_check(key: &[u8; 32]) -> [u8; 16] {
    let digest = Sha256::digest([key.as_slice(), b"twofactor vault key check"].concat());
    let mut check = [0u8; 16];
    check.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    check
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> VaultError + '_ {
    move |e| VaultError::Io {
        path: path.to_path_buf(),
        error: e.to_string(),
    }
}

impl Vault {
    /// A new, empty vault at `path` (not written until [`Vault::save`]).
    pub fn create(path: &Path, passphrase: &str) -> Result<Self, VaultError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| VaultError::Crypto(e.to_string()))?;
        Ok(Vault {
            path: path.to_path_buf(),
            key: derive(passphrase, &salt)?,
            salt,
            accounts: Vec::new(),
        })
    }

    /// Whether a vault file exists at `path`.
    pub fn exists(path: &Path) -> bool {
        path.exists()
    }

    /// Opens and decrypts the vault at `path`.
    pub fn open(path: &Path, passphrase: &str) -> Result<Self, VaultError> {
        if path.is_dir() {
            return Err(VaultError::Io {
                path: path.to_path_buf(),
                error: "is a directory, not a vault file".into(),
            });
        }
        let bytes = fs::read(path).map_err(io(path))?;
        let corrupt = || VaultError::Corrupt(path.to_path_buf());
        let header = bytes.get(..HEADER_LEN).ok_or_else(corrupt)?;
        if header.get(..4) != Some(MAGIC.as_slice()) {
            return Err(corrupt());
        }
        let version = header.get(4).copied().ok_or_else(corrupt)?;
        if version > VERSION {
            return Err(VaultError::NewerVersion {
                path: path.to_path_buf(),
                version,
            });
        }
        if version != VERSION {
            return Err(corrupt());
        }
        let mut salt = [0u8; 16];
        salt.copy_from_slice(header.get(5..21).ok_or_else(corrupt)?);
        let check = header.get(21..37).ok_or_else(corrupt)?;
        let nonce = header.get(37..HEADER_LEN).ok_or_else(corrupt)?;
        let key = derive(passphrase, &salt)?;
        if key_check(&key).as_slice() != check {
            return Err(VaultError::WrongPassphrase(path.to_path_buf()));
        }
        let body = bytes.get(HEADER_LEN..).ok_or_else(corrupt)?;
        let plain = XChaCha20Poly1305::new_from_slice(key.as_slice())
            .map_err(|e| VaultError::Crypto(e.to_string()))?
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: header,
                },
            )
            .map_err(|_| corrupt())?;
        let plain = Zeroizing::new(plain);
        let mut accounts: Vec<Account> = serde_json::from_slice(&plain).map_err(|_| corrupt())?;
        // Accounts from before ids existed get theirs now, written at
        // once so that the id `list` shows still names the account next time.
        let upgraded = crate::account::fill_ids(&mut accounts)
            .map_err(|e| VaultError::Crypto(e.to_string()))?;
        let vault = Vault {
            path: path.to_path_buf(),
            key,
            salt,
            accounts,
        };
        if upgraded {
            vault.save()?;
        }
        Ok(vault)
    }

    /// Where the vault lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Encrypts and writes atomically, keeping the previous file as `.bak`.
    pub fn save(&self) -> Result<(), VaultError> {
        let plain = Zeroizing::new(
            serde_json::to_vec(&self.accounts).map_err(|e| VaultError::Crypto(e.to_string()))?,
        );
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| VaultError::Crypto(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + 16);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&key_check(&self.key));
        out.extend_from_slice(&nonce);
        let sealed = XChaCha20Poly1305::new_from_slice(self.key.as_slice())
            .map_err(|e| VaultError::Crypto(e.to_string()))?
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &out,
                },
            )
            .map_err(|e| VaultError::Crypto(e.to_string()))?;
        out.extend_from_slice(&sealed);

        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io(dir))?;
        let temp = self.path.with_extension("tmp");
        {
            let mut options = fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut file = options.open(&temp).map_err(io(&temp))?;
            file.write_all(&out).map_err(io(&temp))?;
            file.sync_all().map_err(io(&temp))?;
        }
        if self.path.exists() {
            let backup = backup_path(&self.path);
            fs::copy(&self.path, &backup).map_err(io(&backup))?;
        }
        fs::rename(&temp, &self.path).map_err(io(&self.path))?;
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// `<vault>.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".bak");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(label: &str) -> Account {
        Account {
            id: String::new(),
            issuer: Some("Clinic".into()),
            label: label.into(),
            secret: "JBSWY3DPEHPK3PXP".into(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: Some(30),
            counter: None,
        }
    }

    #[test]
    fn saved_vaults_open_with_the_passphrase_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault");
        let mut vault = Vault::create(&path, "pass phrase").unwrap();
        vault.accounts.push(account("alice"));
        vault.save().unwrap();
        let bytes = fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("JBSWY3DP"),
            "encrypted at rest"
        );
        let opened = Vault::open(&path, "pass phrase").unwrap().accounts;
        assert_eq!(opened.len(), 1);
        assert_eq!(opened[0].label, "alice");
        assert_eq!(opened[0].secret, "JBSWY3DPEHPK3PXP");
        // Saved without an id, it got one on opening, kept from then on.
        assert_eq!(opened[0].id.len(), 6);
        assert_eq!(Vault::open(&path, "pass phrase").unwrap().accounts, opened);
        assert!(matches!(
            Vault::open(&path, "wrong"),
            Err(VaultError::WrongPassphrase(_))
        ));
    }

    #[test]
    fn damage_is_reported_and_the_file_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault");
        let mut vault = Vault::create(&path, "p").unwrap();
        vault.accounts.push(account("alice"));
        vault.save().unwrap();
        let good = fs::read(&path).unwrap();

        for (name, bytes) in [
            ("truncated", good.get(..good.len() - 5).unwrap().to_vec()),
            ("header only", good.get(..HEADER_LEN).unwrap().to_vec()),
            ("short", b"TFAV".to_vec()),
            (
                "not a vault",
                b"hello world, this is not a vault at all, no no no no no no".to_vec(),
            ),
            ("flipped", {
                let mut b = good.clone();
                let last = b.len() - 1;
                b[last] ^= 1;
                b
            }),
        ] {
            fs::write(&path, &bytes).unwrap();
            assert!(
                matches!(Vault::open(&path, "p"), Err(VaultError::Corrupt(_))),
                "{name}"
            );
            assert_eq!(fs::read(&path).unwrap(), bytes, "{name} untouched");
        }
        let mut newer = good.clone();
        newer[4] = 9;
        fs::write(&path, &newer).unwrap();
        assert!(matches!(
            Vault::open(&path, "p"),
            Err(VaultError::NewerVersion { version: 9, .. })
        ));
        assert!(matches!(
            Vault::open(dir.path(), "p"),
            Err(VaultError::Io { .. })
        ));
    }

    #[test]
    fn every_save_keeps_one_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault");
        let mut vault = Vault::create(&path, "p").unwrap();
        vault.accounts.push(account("one"));
        vault.save().unwrap();
        vault.accounts.push(account("two"));
        vault.save().unwrap();
        let backup = Vault::open(&backup_path(&path), "p").unwrap();
        assert_eq!(backup.accounts.len(), 1);
        assert_eq!(Vault::open(&path, "p").unwrap().accounts.len(), 2);
        assert!(!path.with_extension("tmp").exists());
    }
}
