//! A place in line, signed: the server hands each waiter a pass and keeps no row of its
//! own. A pass names the student, the window, the ticket (its arrival number, which
//! gives its place), when it was issued and when it expires, with an HMAC-SHA-256 over
//! all of them. The key is derived from the admin token, which every node of a cluster
//! shares: a pass issued by one primary is good with the next.
//!
//! Text form: `mp1.<window>.<ticket>.<issued>.<expires>.<mac>.<student>`, times in Unix
//! seconds, the MAC the first 128 bits in hex. The student comes last because ids may
//! contain dots.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::auth::TokenHash;

type HmacSha256 = hmac::Hmac<Sha256>;

const VERSION: &str = "mp1";
/// The MAC's bytes kept in a pass: 128 bits, far beyond forging.
const MAC_BYTES: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pass {
    pub(crate) student: String,
    pub(crate) window: u64,
    pub(crate) ticket: u64,
    /// Unix seconds.
    pub(crate) issued: u64,
    pub(crate) expires: u64,
}

/// Why a pass is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not a pass, or not signed by this registrar: made up or altered.
    Forged,
    Expired,
}

/// The key passes are signed with.
#[derive(Clone)]
pub(crate) struct PassKey(HmacSha256);

impl PassKey {
    /// The key of the registrar whose admin token hashes to `admin`: a domain-separated
    /// digest of it, never the token itself.
    pub(crate) fn derive(admin: &TokenHash) -> PassKey {
        let mut mac = HmacSha256::new_from_slice(&admin.0).expect("HMAC takes any key length");
        mac.update(b"murphy waiting-room pass key v1");
        let key = mac.finalize().into_bytes();
        PassKey(HmacSha256::new_from_slice(&key).expect("HMAC takes any key length"))
    }

    pub(crate) fn sign(&self, pass: &Pass) -> String {
        let signed = signed_part(pass);
        let mac = self.mac(&signed, &pass.student);
        format!("{signed}.{}.{}", hex(&mac[..MAC_BYTES]), pass.student)
    }

    /// The pass `text` stands for, if this key signed it and it has not expired at `now_s`.
    pub(crate) fn read(&self, text: &str, now_s: u64) -> Result<Pass, Refused> {
        let (pass, mac_hex) = parse(text).ok_or(Refused::Forged)?;
        let given = unhex(mac_hex).ok_or(Refused::Forged)?;
        let mut mac = self.0.clone();
        mac.update(signed_part(&pass).as_bytes());
        mac.update(b".");
        mac.update(pass.student.as_bytes());
        mac.verify_truncated_left(&given).map_err(|_| Refused::Forged)?;
        if pass.expires <= now_s {
            return Err(Refused::Expired);
        }
        Ok(pass)
    }

    fn mac(&self, signed: &str, student: &str) -> Vec<u8> {
        let mut mac = self.0.clone();
        mac.update(signed.as_bytes());
        mac.update(b".");
        mac.update(student.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Everything but the MAC and the student, as signed.
fn signed_part(pass: &Pass) -> String {
    format!(
        "{VERSION}.{}.{}.{}.{}",
        pass.window, pass.ticket, pass.issued, pass.expires
    )
}

/// The pass a text claims to be, and the MAC it carries (unchecked).
fn parse(text: &str) -> Option<(Pass, &str)> {
    let mut parts = text.splitn(7, '.');
    if parts.next()? != VERSION {
        return None;
    }
    let mut number = || parts.next()?.parse::<u64>().ok();
    let (window, ticket, issued, expires) = (number()?, number()?, number()?, number()?);
    let mac = parts.next()?;
    let student = parts.next()?;
    if mac.len() != 2 * MAC_BYTES || murphy_core::command::check_id("student", student).is_err() {
        return None;
    }
    let pass = Pass {
        student: student.to_owned(),
        window,
        ticket,
        issued,
        expires,
    };
    Some((pass, mac))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PassKey {
        PassKey::derive(&TokenHash([seed; 32]))
    }

    fn pass() -> Pass {
        Pass {
            student: "s0001.x:y".into(),
            window: 7,
            ticket: 4213,
            issued: 1_000,
            expires: 2_000,
        }
    }

    #[test]
    fn a_signed_pass_reads_back() {
        let text = key(1).sign(&pass());
        assert!(text.starts_with("mp1.7.4213.1000.2000."), "{text}");
        assert_eq!(key(1).read(&text, 1_500), Ok(pass()));
    }

    #[test]
    fn a_forged_or_expired_pass_is_refused() {
        let text = key(1).sign(&pass());
        assert_eq!(key(2).read(&text, 1_500), Err(Refused::Forged), "another registrar's");
        // A better ticket, a later expiry, another student: each breaks the MAC.
        for (from, to) in [(".4213.", ".1."), (".2000.", ".9999."), (".s0001", ".s0002")] {
            let altered = text.replacen(from, to, 1);
            assert_eq!(key(1).read(&altered, 1_500), Err(Refused::Forged), "{altered}");
        }
        for junk in ["", "mp1", "mp1.7.4213.1000.2000.zz.s1", "mp2.7.4213.1000.2000.00.s1"] {
            assert_eq!(key(1).read(junk, 1_500), Err(Refused::Forged), "{junk}");
        }
        assert_eq!(key(1).read(&text, 2_000), Err(Refused::Expired));
    }
}
