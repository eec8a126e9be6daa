//! An ID token's signature checked against the provider's published keys (its JWKS,
//! RFC 7517): the JWS compact form (RFC 7515) with RS256 (RSA PKCS#1 v1.5, SHA-256,
//! which every OpenID provider supports) or ES256 (ECDSA P-256, SHA-256). The key is the
//! one the token's header names (`kid`), or the only one of its type. `none`, HMAC
//! algorithms (the client secret as a key) and anything else are refused. The
//! arithmetic is ring's, already in the tree under rustls.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;

/// The provider's keys, as its `jwks_uri` answers them.
#[derive(Debug, Deserialize)]
pub(crate) struct KeySet {
    keys: Vec<Key>,
}

/// One key; fields of other key types are read and left alone.
#[derive(Debug, Deserialize)]
struct Key {
    kty: String,
    kid: Option<String>,
    /// `sig` or absent; an encryption key (`enc`) never verifies a signature.
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    // RSA.
    n: Option<String>,
    e: Option<String>,
    // EC.
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// Checks `token`'s signature against `keys`; the error completes "the ID token ...".
pub(crate) fn verify(token: &str, keys: &KeySet) -> Result<(), String> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("is not a signed JWT (three dot-separated parts)".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| "is not base64url".to_owned());
    let header: Header = serde_json::from_slice(&decode(header_b64)?)
        .map_err(|_| "has a header that is not the JSON expected".to_owned())?;
    let signature = decode(signature_b64)?;
    let kty = match header.alg.as_str() {
        "RS256" => "RSA",
        "ES256" => "EC",
        other => return Err(format!("is signed with {other:?}; murphy accepts RS256 and ES256")),
    };
    let candidates: Vec<&Key> = keys
        .keys
        .iter()
        .filter(|k| k.kty == kty && k.usage.as_deref().is_none_or(|u| u == "sig"))
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == header.alg))
        .collect();
    let key = match &header.kid {
        Some(kid) => candidates.iter().find(|k| k.kid.as_deref() == Some(kid.as_str())),
        None if candidates.len() == 1 => candidates.first(),
        None => None,
    }
    .ok_or_else(|| {
        format!(
            "is signed with a key the provider does not publish ({} {})",
            header.alg,
            header.kid.as_deref().unwrap_or("without a kid")
        )
    })?;
    // What is signed: the header and payload as sent, base64url and all.
    let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
    let verified = match header.alg.as_str() {
        "RS256" => {
            let (n, e) = (component(&key.n, "n")?, component(&key.e, "e")?);
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
                .is_ok()
        }
        _ => {
            if key.crv.as_deref() != Some("P-256") {
                return Err("names an EC key that is not on P-256".into());
            }
            let (x, y) = (component(&key.x, "x")?, component(&key.y, "y")?);
            // The uncompressed point: 0x04, then x and y.
            let point: Vec<u8> = [&[4u8][..], &x, &y].concat();
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &signature)
                .is_ok()
        }
    };
    if verified {
        Ok(())
    } else {
        Err(
            "has a signature that does not verify with the provider's key: it was altered, or not made by the provider"
                .into(),
        )
    }
}

/// A key's base64url number or coordinate.
fn component(value: &Option<String>, name: &str) -> Result<Vec<u8>, String> {
    value
        .as_deref()
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .ok_or_else(|| format!("names a key whose {name:?} is missing or not base64url"))
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    use super::*;

    /// A P-256 key pair and its JWKS entry.
    fn key(kid: &str) -> (EcdsaKeyPair, serde_json::Value) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        (pair, jwk)
    }

    fn sign(pair: &EcdsaKeyPair, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = pair.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn keys(jwks: &[&serde_json::Value]) -> KeySet {
        serde_json::from_value(serde_json::json!({ "keys": jwks })).unwrap()
    }

    #[test]
    fn a_token_verifies_with_its_key_and_not_once_altered_or_with_another() {
        let (pair, jwk) = key("k1");
        let (_, other) = key("k2");
        let header = serde_json::json!({"alg": "ES256", "kid": "k1"});
        let claims = serde_json::json!({"sub": "ada", "student_id": "s0001"});
        let token = sign(&pair, &header, &claims);
        assert_eq!(verify(&token, &keys(&[&other, &jwk])), Ok(()));

        // The payload changed on the way (the registrar's group added), signature kept.
        let forged_claims = serde_json::json!({"sub": "ada", "student_id": "s0001", "groups": ["registrar"]});
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(forged_claims.to_string());
        let forged = parts.join(".");
        let refused = verify(&forged, &keys(&[&jwk])).unwrap_err();
        assert!(refused.contains("does not verify"), "{refused}");

        // Signed by a key the provider does not publish under that kid.
        let (stranger, _) = key("k1");
        let refused = verify(&sign(&stranger, &header, &claims), &keys(&[&jwk])).unwrap_err();
        assert!(refused.contains("does not verify"), "{refused}");
        let unknown = serde_json::json!({"alg": "ES256", "kid": "k9"});
        let refused = verify(&sign(&pair, &unknown, &claims), &keys(&[&jwk])).unwrap_err();
        assert!(refused.contains("does not publish"), "{refused}");
    }

    #[test]
    fn unsigned_and_secret_keyed_tokens_are_refused() {
        let (pair, jwk) = key("k1");
        let claims = serde_json::json!({"sub": "ada"});
        let token = sign(&pair, &serde_json::json!({"alg": "ES256", "kid": "k1"}), &claims);
        let body: Vec<&str> = token.split('.').collect();
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": alg}).to_string());
            let refused = verify(&format!("{header}.{}.{}", body[1], body[2]), &keys(&[&jwk])).unwrap_err();
            assert!(refused.contains("murphy accepts RS256 and ES256"), "{alg}: {refused}");
        }
        let refused = verify(&format!("{}.{}.", body[0], body[1]), &keys(&[&jwk])).unwrap_err();
        assert!(refused.contains("does not verify"), "an empty signature: {refused}");
        assert!(verify("a.b", &keys(&[&jwk])).is_err());
    }
}
