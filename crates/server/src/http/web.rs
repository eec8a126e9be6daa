//! The web page, embedded in the binary: `GET /`, its two assets and its icon. No build
//! step: the files under `web/` are served as they are.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("../../../../web/index.html");
const APP_JS: &str = include_str!("../../../../web/app.js");
const STYLE_CSS: &str = include_str!("../../../../web/style.css");
const FAVICON_SVG: &str = include_str!("../../../../web/favicon.svg");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    // Revalidated on every load, so a new murphy's page is never hidden by a cache.
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], body).into_response()
}

pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

pub async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

pub async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

/// An SVG at the path browsers ask for on their own (`/favicon.ico`): the content type,
/// not the name, tells them what it is.
pub async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON_SVG)
}
