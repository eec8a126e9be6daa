//! `murphy hello`: the lecture's `app.js`, the yardstick for the benchmarks. Every
//! request, whatever it asks, gets `200`, `text/plain`, `Hello, World!`.

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use tokio::net::TcpListener;

pub const GREETING: &str = "Hello, World!\n";

pub fn router() -> Router {
    Router::new().fallback(|| async { ([(CONTENT_TYPE, "text/plain")], GREETING).into_response() })
}

pub async fn serve(listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, router()).with_graceful_shutdown(shutdown).await
}
