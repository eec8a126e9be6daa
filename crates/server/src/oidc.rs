//! Signing in with the university's identity provider: OpenID Connect, the
//! authorization code flow with PKCE (RFC 7636), murphy a confidential client (id and
//! secret). The provider is found from its issuer URL (`/.well-known/openid-
//! configuration`); the student is the value of a configured claim (`student_id`, say)
//! of the ID token or, when the ID token lacks it, of the userinfo answer; the
//! registrar is whoever has the configured admin claim (`groups=registrar`: a `groups`
//! claim that is or contains `registrar`; `registrar`: a claim that is `true`).
//!
//! The ID token comes straight from the provider's token endpoint, over a connection
//! murphy opened to the configured issuer, in exchange for a one-time code and murphy's
//! secret: OpenID Connect Core 1.0, 3.1.3.7, lets such a client rely on that channel
//! instead of checking the token's signature. Every other check is made: the issuer,
//! the audience (this client, and it is the authorized party), the expiry, and the
//! nonce this sign-in sent. The issuer must be `https`, except on the machine itself
//! (tests, a provider beside murphy).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Principal;

/// How long one call to the provider may take.
const PROVIDER_CALL_TIME_MAX: Duration = Duration::from_secs(10);
/// Largest answer read from the provider.
const PROVIDER_ANSWER_BYTES_MAX: usize = 256 * 1024;

/// What an operator configures.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// The provider's issuer URL, e.g. `https://login.example.edu/realms/students`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The claim whose value is the murphy student id.
    pub student_claim: String,
    /// `NAME=VALUE` or `NAME`: who is the registrar.
    pub admin_claim: Option<String>,
    /// Scopes asked for besides `openid`, space-separated.
    pub scopes: String,
    /// Where the provider sends the browser back; by default `http://<Host>` of the
    /// sign-in request and `/auth/oidc/callback`.
    pub redirect_url: Option<String>,
}

/// What a sign-in in progress keeps (signed, in a cookie) for the way back.
pub(crate) struct Pending {
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) verifier: String,
}

/// Why a sign-in failed: a short code the page turns into a sentence, and the detail
/// for the log.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

fn failure(code: &'static str, detail: impl Into<String>) -> Failure {
    Failure {
        code,
        detail: detail.into(),
    }
}

/// The provider's endpoints, from its discovery document.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: String,
    access_token: Option<String>,
}

pub(crate) struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
}

impl Oidc {
    pub(crate) fn new(config: OidcConfig) -> Result<Oidc, String> {
        let url = reqwest::Url::parse(&config.issuer).map_err(|e| format!("the OIDC issuer URL: {e}"))?;
        let local = url
            .host_str()
            .is_some_and(|h| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()));
        if url.scheme() != "https" && !local {
            return Err(format!(
                "the OIDC issuer {} must be https (plain http only to this machine)",
                config.issuer
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_CALL_TIME_MAX)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("an HTTP client for the OIDC provider: {e}"))?;
        Ok(Oidc { config, http })
    }

    /// The redirect URI this sign-in uses, given the `Host` the browser used.
    pub(crate) fn redirect_uri(&self, host: &str) -> String {
        self.config
            .redirect_url
            .clone()
            .unwrap_or_else(|| format!("http://{host}/auth/oidc/callback"))
    }

    /// The provider's authorization URL to send the browser to, and what to keep.
    pub(crate) async fn start(&self, redirect_uri: &str) -> Result<(String, Pending), Failure> {
        let discovery = self.discover().await?;
        let pending = Pending {
            state: random(),
            nonce: random(),
            verifier: random(),
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
        let scope = format!("openid {}", self.config.scopes).trim().to_owned();
        let url = reqwest::Url::parse_with_params(
            &discovery.authorization_endpoint,
            [
                ("response_type", "code"),
                ("client_id", self.config.client_id.as_str()),
                ("redirect_uri", redirect_uri),
                ("scope", scope.as_str()),
                ("state", pending.state.as_str()),
                ("nonce", pending.nonce.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .map_err(|e| failure("provider", format!("the authorization endpoint: {e}")))?;
        Ok((url.into(), pending))
    }

    /// Exchanges the code for the ID token and says who signed in.
    pub(crate) async fn finish(&self, code: &str, pending: &Pending, redirect_uri: &str) -> Result<Principal, Failure> {
        let discovery = self.discover().await?;
        let mut form = reqwest::Url::parse("x:").expect("a URL");
        form.query_pairs_mut()
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", &pending.verifier);
        let answer = self
            .http
            .post(&discovery.token_endpoint)
            .basic_auth(&self.config.client_id, Some(&self.config.client_secret))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.query().unwrap_or_default().to_owned())
            .send()
            .await
            .map_err(|e| failure("provider", format!("the token endpoint: {e}")))?;
        let tokens: TokenAnswer = read_json(answer, "the token endpoint").await?;
        let mut claims = self.id_token_claims(&tokens.id_token, &discovery, &pending.nonce)?;
        if claims.get(&self.config.student_claim).is_none()
            && let (Some(userinfo), Some(access)) = (&discovery.userinfo_endpoint, &tokens.access_token)
        {
            let answer = self
                .http
                .get(userinfo)
                .bearer_auth(access)
                .send()
                .await
                .map_err(|e| failure("provider", format!("the userinfo endpoint: {e}")))?;
            let info: serde_json::Map<String, Value> = read_json(answer, "the userinfo endpoint").await?;
            // The userinfo answer is about the ID token's subject, or about nobody.
            if info.get("sub") != claims.get("sub") {
                return Err(failure("provider", "the userinfo answer is about another subject"));
            }
            for (k, v) in info {
                claims.entry(k).or_insert(v);
            }
        }
        self.principal(&claims)
    }

    /// The ID token's claims, every check but the signature made (see the module).
    fn id_token_claims(
        &self,
        id_token: &str,
        discovery: &Discovery,
        nonce: &str,
    ) -> Result<serde_json::Map<String, Value>, Failure> {
        let bad = |what: &str| failure("provider", format!("the ID token {what}"));
        let payload = id_token.split('.').nth(1).ok_or_else(|| bad("is not a JWT"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| bad("is not base64url"))?;
        let claims: serde_json::Map<String, Value> =
            serde_json::from_slice(&bytes).map_err(|_| bad("does not hold JSON claims"))?;
        if claims.get("iss").and_then(Value::as_str) != Some(discovery.issuer.as_str()) {
            return Err(bad("was issued by another issuer"));
        }
        let client = self.config.client_id.as_str();
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == client,
            Some(Value::Array(auds)) => {
                auds.iter().any(|a| a.as_str() == Some(client))
                    && claims
                        .get("azp")
                        .and_then(Value::as_str)
                        .is_none_or(|azp| azp == client)
            }
            _ => false,
        };
        if !audience_ok {
            return Err(bad("is meant for another client"));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if claims.get("exp").and_then(Value::as_i64).is_none_or(|exp| exp <= now) {
            return Err(bad("has expired"));
        }
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(bad("answers another sign-in (its nonce differs)"));
        }
        Ok(claims)
    }

    /// The registrar, or the student the claim names.
    fn principal(&self, claims: &serde_json::Map<String, Value>) -> Result<Principal, Failure> {
        if let Some(admin) = &self.config.admin_claim {
            let (name, wanted) = match admin.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (admin.as_str(), None),
            };
            let holds = match (claims.get(name), wanted) {
                (Some(Value::Bool(true)), None) => true,
                (Some(Value::String(v)), Some(w)) => v == w,
                (Some(Value::Array(vs)), Some(w)) => vs.iter().any(|v| v.as_str() == Some(w)),
                _ => false,
            };
            if holds {
                return Ok(Principal::Admin);
            }
        }
        match claims.get(&self.config.student_claim) {
            Some(Value::String(id)) if murphy_core::command::check_id("student", id).is_ok() => {
                Ok(Principal::Student(id.clone()))
            }
            Some(Value::Number(n)) => Ok(Principal::Student(n.to_string())),
            _ => Err(failure(
                "no_student_claim",
                format!("the provider's answer has no {} claim", self.config.student_claim),
            )),
        }
    }

    async fn discover(&self) -> Result<Discovery, Failure> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let answer = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| failure("provider", format!("{url}: {e}")))?;
        let discovery: Discovery = read_json(answer, "the discovery document").await?;
        if discovery.issuer.trim_end_matches('/') != self.config.issuer.trim_end_matches('/') {
            return Err(failure(
                "provider",
                format!(
                    "the provider says it is {}, not {}",
                    discovery.issuer, self.config.issuer
                ),
            ));
        }
        Ok(discovery)
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(answer: reqwest::Response, what: &str) -> Result<T, Failure> {
    let status = answer.status();
    let bytes = answer
        .bytes()
        .await
        .map_err(|e| failure("provider", format!("{what}: {e}")))?;
    if bytes.len() > PROVIDER_ANSWER_BYTES_MAX {
        return Err(failure(
            "provider",
            format!("{what} answered over {PROVIDER_ANSWER_BYTES_MAX} bytes"),
        ));
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        return Err(failure("provider", format!("{what} answered {status}: {text}")));
    }
    serde_json::from_slice(&bytes).map_err(|e| failure("provider", format!("{what} is not the JSON expected: {e}")))
}

/// 32 random bytes, base64url: a state, a nonce, a PKCE verifier (43 characters).
fn random() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    URL_SAFE_NO_PAD.encode(bytes)
}
