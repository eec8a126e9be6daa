//! Who is calling: the admin (the registrar) or one student. Tokens are random, shown
//! once, and stored only as SHA-256 digests; the admin token may come from the
//! operator or be generated at first start into a 0600 file in the data directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Random bytes in a token: 256 bits, far beyond guessing.
const TOKEN_RANDOM_BYTES: usize = 32;
pub(crate) const ADMIN_TOKEN_FILE: &str = "admin-token";

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    Admin,
    Student(String),
}

impl Principal {
    /// The name a session is owned by. The admin's has an `@`, which no student id
    /// may contain, so a student named `admin` cannot share the registrar's sessions.
    pub(crate) fn owner(&self) -> &str {
        match self {
            Principal::Admin => murphy_core::session::REGISTRAR_OWNER,
            Principal::Student(id) => id,
        }
    }

    /// Whether this principal may act or read as `student`.
    pub(crate) fn may_act_as(&self, student: &str) -> bool {
        match self {
            Principal::Admin => true,
            Principal::Student(me) => me == student,
        }
    }
}

/// A fresh token: `prefix` then 64 hex digits of OS randomness.
pub(crate) fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; TOKEN_RANDOM_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    format!("{prefix}{}", hex(&bytes))
}

/// What is kept of a token: its SHA-256 digest. Compared as bytes on every request;
/// written as hex only where people read it (the store).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub(crate) fn to_hex(self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(64);
        for b in self.0 {
            text.push(DIGITS[usize::from(b >> 4)] as char);
            text.push(DIGITS[usize::from(b & 15)] as char);
        }
        text
    }

    /// The digest written by `to_hex`; `None` for anything else.
    pub(crate) fn from_hex(text: &str) -> Option<TokenHash> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let mut hash = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            hash[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(TokenHash(hash))
    }
}

/// The stored form of a token.
pub(crate) fn hash_token(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the admin token came from, for the start-up message.
#[derive(Debug)]
pub enum AdminTokenSource {
    Given,
    File(PathBuf),
    Generated(PathBuf),
}

/// The admin token to use: the given one, else the one in `data_dir/admin-token`,
/// else a new one written there with mode 0600 (owner read/write only).
pub(crate) fn admin_token(given: Option<&str>, data_dir: &Path) -> std::io::Result<(String, AdminTokenSource)> {
    if let Some(token) = given {
        return Ok((token.to_owned(), AdminTokenSource::Given));
    }
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok((text.trim().to_owned(), AdminTokenSource::File(path))),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = new_token("madm_");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    writeln!(file, "{token}")?;
    file.sync_all()?;
    Ok((token, AdminTokenSource::Generated(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hashes_stable() {
        let (a, b) = (new_token("t_"), new_token("t_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 + 2 * TOKEN_RANDOM_BYTES);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        let hash = hash_token(&a);
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(hash.to_hex(), hex(&hash.0));
        assert_eq!(TokenHash::from_hex("not hex"), None);
    }

    #[test]
    fn generated_admin_token_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (token, source) = admin_token(None, dir.path()).unwrap();
        assert!(matches!(source, AdminTokenSource::Generated(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ADMIN_TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, source) = admin_token(None, dir.path()).unwrap();
        assert_eq!(token, again);
        assert!(matches!(source, AdminTokenSource::File(_)));
    }
}
