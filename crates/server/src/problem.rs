//! The one error type of the HTTP boundary: RFC 9457 `application/problem+json`, with a
//! stable `code` for programs and a `detail` sentence for people.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Declares `Code` and its `ALL` from one list, so no code can be sent that `ALL`
/// (and so the OpenAPI test) does not know.
macro_rules! codes {
    ($($variant:ident => $text:literal,)*) => {
        /// Every `code` a problem may carry: stable, snake_case, what programs match
        /// on. The OpenAPI document's `Problem.code` lists exactly these (a test checks).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    MalformedJson => "malformed_json",
    InvalidRequest => "invalid_request",
    InvalidQuery => "invalid_query",
    InvalidPath => "invalid_path",
    InvalidHeader => "invalid_header",
    BadBody => "bad_body",
    BodyTimeout => "body_timeout",
    MissingToken => "missing_token",
    MalformedToken => "malformed_token",
    InvalidToken => "invalid_token",
    TooManyAuthFailures => "too_many_auth_failures",
    SignInInvalid => "sign_in_invalid",
    SignInExpired => "sign_in_expired",
    CrossSite => "cross_site",
    Forbidden => "forbidden",
    NoSuchSection => "no_such_section",
    NoSuchStudent => "no_such_student",
    NoSuchRoute => "no_such_route",
    NoProvider => "no_provider",
    MethodNotAllowed => "method_not_allowed",
    SessionGap => "session_gap",
    SessionExpired => "session_expired",
    SessionSeqForgotten => "session_seq_forgotten",
    Overloaded => "overloaded",
    Stopping => "stopping",
    Timeout => "timeout",
    TooManySessions => "too_many_sessions",
    TooManyConnections => "too_many_connections",
    TooManyStreams => "too_many_streams",
    StreamShareUsed => "stream_share_used",
    InvalidTicket => "invalid_ticket",
    StorageUnavailable => "storage_unavailable",
    StorageFailed => "storage_failed",
    NoPrimary => "no_primary",
    NotPrimary => "not_primary",
    OutcomeUnknown => "outcome_unknown",
    Behind => "behind",
    RulesNotFinalized => "rules_not_finalized",
    UpgradeRefused => "upgrade_refused",
    InLine => "in_line",
    BadPass => "bad_pass",
    PassExpired => "pass_expired",
    LineFull => "line_full",
    Internal => "internal",
}

#[derive(Debug)]
pub(crate) struct Problem {
    pub status: StatusCode,
    pub code: Code,
    /// What happened and what to do about it.
    pub detail: String,
    pub retry_after_seconds: Option<u64>,
    /// A member added to the body (RFC 9457 extensions), such as `line` for `in_line`.
    pub extension: Option<(&'static str, serde_json::Value)>,
}

impl Problem {
    pub fn new(status: StatusCode, code: Code, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            code,
            detail: detail.into(),
            retry_after_seconds: None,
            extension: None,
        }
    }

    pub fn bad_request(code: Code, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(code: Code, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, Code::Forbidden, detail)
    }

    /// `503` with `Retry-After`: the server is shedding load, try again shortly.
    pub fn unavailable(code: Code, detail: impl Into<String>) -> Problem {
        Problem {
            retry_after_seconds: Some(1),
            ..Problem::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
        }
    }

    /// The same problem with another code.
    pub fn with_code(self, code: Code) -> Problem {
        Problem { code, ..self }
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, detail)
    }
}

impl Problem {
    /// The `application/problem+json` body: the one place its shape is written.
    pub fn body(&self) -> String {
        let mut body = json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "code": self.code.as_str(),
            "detail": self.detail,
        });
        if let Some((name, value)) = &self.extension {
            body[*name] = value.clone();
        }
        body.to_string()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
