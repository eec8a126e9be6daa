//! The web page's sign-in, kept in a cookie the page's script cannot read: `HttpOnly`
//! (no script, so no injected one, ever sees it), `Secure` (never over plain HTTP but
//! to the machine itself), `SameSite=Strict` (no other site's page makes the browser
//! send it). Its value is signed, not stored: `v1.<who>.<expires>.<mac>`, the MAC an
//! HMAC-SHA256 under a key derived from the admin token, so every node of a cluster
//! (which share that token) accepts it, a changed byte is refused, and rotating the
//! admin token signs everyone out. It lasts `sign_in_time_max`; signing out clears it
//! in the browser (a copy taken before stays valid until it expires, as a bearer token
//! would).
//!
//! The same signing keeps the short-lived state of an OpenID Connect sign-in (its
//! `state`, `nonce` and PKCE verifier) between the redirect out and the way back.

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::auth::Principal;

/// The sign-in cookie's name.
pub const SESSION_COOKIE: &str = "murphy_session";
/// The cookie holding an OpenID Connect sign-in in progress.
pub const OIDC_COOKIE: &str = "murphy_oidc";
const VERSION: &str = "v1";

/// Signs and checks cookie values.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

/// Why a cookie was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not made by this server (or changed since): never trusted.
    Invalid,
    /// Made here, but its time is over.
    Expired,
}

impl Signer {
    /// The key is derived from the admin token, never the token itself.
    pub fn from_admin_token(admin_token: &str) -> Signer {
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(admin_token.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(b"murphy sign-in cookie key v1");
        Signer {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// The cookie value for `principal`, valid until `expires`.
    pub fn session(&self, principal: &Principal, expires: OffsetDateTime) -> String {
        self.sign(&[principal.owner(), &expires.unix_timestamp().to_string()])
    }

    /// The principal a session cookie value names, if this server made it and it has
    /// not expired at `now`.
    pub fn principal(&self, value: &str, now: OffsetDateTime) -> Result<Principal, Refused> {
        let [who, expires] = self.open::<2>(value).ok_or(Refused::Invalid)?;
        let expires: i64 = expires.parse().map_err(|_| Refused::Invalid)?;
        if now.unix_timestamp() >= expires {
            return Err(Refused::Expired);
        }
        Ok(match who {
            w if w == murphy_core::session::REGISTRAR_OWNER => Principal::Admin,
            student => Principal::Student(student.to_owned()),
        })
    }

    /// `fields` (none containing `.`) with a MAC over them.
    pub fn sign(&self, fields: &[&str]) -> String {
        debug_assert!(fields.iter().all(|f| !f.contains('.')));
        let body = std::iter::once(VERSION)
            .chain(fields.iter().copied())
            .collect::<Vec<_>>()
            .join(".");
        let tag = hex(&self.mac(body.as_bytes()));
        format!("{body}.{tag}")
    }

    /// The `N` fields of a value `sign` made, if its MAC is right.
    pub fn open<'a, const N: usize>(&self, value: &'a str) -> Option<[&'a str; N]> {
        let (body, tag) = value.rsplit_once('.')?;
        let tag = unhex(tag)?;
        let mut mac = self.hmac();
        mac.update(body.as_bytes());
        // Compared in constant time: a MAC is not guessed byte by byte.
        mac.verify_slice(&tag).ok()?;
        let mut parts = body.split('.');
        (parts.next()? == VERSION).then_some(())?;
        let fields: Vec<&str> = parts.collect();
        fields.try_into().ok()
    }

    fn mac(&self, bytes: &[u8]) -> [u8; 32] {
        let mut mac = self.hmac();
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }

    fn hmac(&self) -> hmac::Hmac<Sha256> {
        <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("a 32-byte key")
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn find<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// A `Set-Cookie` value: `HttpOnly; Secure`, with `same_site` and the path; `max_age`
/// 0 clears it.
pub fn set(name: &str, value: &str, path: &str, same_site: &str, max_age_s: i64) -> String {
    format!("{name}={value}; Path={path}; Max-Age={max_age_s}; HttpOnly; Secure; SameSite={same_site}")
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

    #[test]
    fn a_session_cookie_names_its_principal_until_it_expires_and_no_changed_one_passes() {
        let signer = Signer::from_admin_token("secret");
        let now = OffsetDateTime::now_utc();
        let later = now + time::Duration::hours(1);
        let value = signer.session(&Principal::Student("s0001".into()), later);
        assert_eq!(signer.principal(&value, now), Ok(Principal::Student("s0001".into())));
        assert_eq!(signer.principal(&value, later), Err(Refused::Expired));
        let admin = signer.session(&Principal::Admin, later);
        assert_eq!(signer.principal(&admin, now), Ok(Principal::Admin));
        // Another student's name, a later expiry, another key: all refused.
        let forged = value.replace("s0001", "s0002");
        assert_eq!(signer.principal(&forged, now), Err(Refused::Invalid));
        let (body, tag) = value.rsplit_once('.').unwrap();
        let (head, _) = body.rsplit_once('.').unwrap();
        let extended = format!("{head}.{}.{tag}", later.unix_timestamp() + 3600);
        assert_eq!(signer.principal(&extended, now), Err(Refused::Invalid));
        let other = Signer::from_admin_token("another");
        assert_eq!(other.principal(&value, now), Err(Refused::Invalid));
        assert_eq!(signer.principal("garbage", now), Err(Refused::Invalid));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "a=1; murphy_session=v1.x; b=2".parse().unwrap(),
        );
        assert_eq!(find(&headers, SESSION_COOKIE), Some("v1.x"));
        assert_eq!(find(&headers, "c"), None);
    }
}
