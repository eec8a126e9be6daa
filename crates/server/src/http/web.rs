//! The web page, embedded in the binary: `GET /`, its style, its JavaScript modules and
//! its icon. No build step: the files under `web/` are served as they are, each at a
//! path of its own, listed once in `FILES`.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::handlers::client_has;

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
/// The icon is an SVG at the path browsers ask for on their own (`/favicon.ico`): the
/// content type, not the name, tells them what it is.
const SVG: &str = "image/svg+xml";

/// Embeds `web/<file>`.
macro_rules! web_file {
    ($file:literal) => {
        include_str!(concat!("../../../../web/", $file))
    };
}

/// The page's Content-Security-Policy: its scripts, styles and images only from murphy
/// itself and none inline (so an injected `<script>` or `onclick` never runs), requests
/// only to murphy, never in a frame (clickjacking), no `<base>` or plugins.
pub(super) const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every file of the page: (path, content type, body). A module the page imports and
/// this table lacks is a 404 in the browser, and fails `tests/web_assets.rs`.
const FILES: &[(&str, &str, &str)] = &[
    ("/", HTML, web_file!("index.html")),
    ("/style.css", CSS, web_file!("style.css")),
    ("/favicon.ico", SVG, web_file!("favicon.svg")),
    ("/app.js", JS, web_file!("app.js")),
    ("/js/act.js", JS, web_file!("js/act.js")),
    ("/js/admin-controls.js", JS, web_file!("js/admin-controls.js")),
    ("/js/api.js", JS, web_file!("js/api.js")),
    ("/js/dom.js", JS, web_file!("js/dom.js")),
    ("/js/events.js", JS, web_file!("js/events.js")),
    ("/js/line.js", JS, web_file!("js/line.js")),
    ("/js/log-words.js", JS, web_file!("js/log-words.js")),
    ("/js/log.js", JS, web_file!("js/log.js")),
    ("/js/message.js", JS, web_file!("js/message.js")),
    ("/js/reads.js", JS, web_file!("js/reads.js")),
    ("/js/schedule-controls.js", JS, web_file!("js/schedule-controls.js")),
    ("/js/schedule.js", JS, web_file!("js/schedule.js")),
    ("/js/sections-controls.js", JS, web_file!("js/sections-controls.js")),
    ("/js/sections.js", JS, web_file!("js/sections.js")),
    ("/js/signin.js", JS, web_file!("js/signin.js")),
    ("/js/state.js", JS, web_file!("js/state.js")),
    ("/js/words.js", JS, web_file!("js/words.js")),
];

/// A route for every file of `FILES`, to merge into the API's router. Each file's ETag
/// is computed once, here.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    FILES.iter().fold(Router::new(), |router, &(path, content_type, body)| {
        let etag = etag_of(body);
        router.route(
            path,
            get(move |headers: HeaderMap| {
                let etag = etag.clone();
                async move { asset(&headers, content_type, etag, body) }
            }),
        )
    })
}

/// A strong ETag from the file's bytes: the same file has the same tag across restarts
/// and a cluster's nodes, and a murphy whose file changed has a new one.
fn etag_of(body: &str) -> HeaderValue {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex digits and quotes")
}

/// The file, or `304` with no body when the client has this version of it.
fn asset(headers: &HeaderMap, content_type: &'static str, etag: HeaderValue, body: &'static str) -> Response {
    let mut response = if client_has(headers, etag.to_str().expect("ASCII")) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = response.headers_mut();
    h.insert(ETAG, etag);
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    // Revalidated on every load, so a new murphy's page is never hidden by a cache; the
    // ETag makes that a `304` when nothing changed.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
