//! One HTTP/1.1 keep-alive connection per simulated client, through hyper's connection
//! API: no pool, no per-request allocation beyond the request itself. A connection that
//! fails is reconnected by the caller.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, HOST, HeaderValue, IF_NONE_MATCH, RETRY_AFTER};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("timed out")]
    Timeout,
}

/// What came back: the status, the ETag and `Retry-After` if any, and the body.
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    /// The server's `Retry-After` in seconds (the HTTP-date form is not used by murphy).
    pub retry_after: Option<Duration>,
    pub body: Bytes,
}

pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    authorization: Option<HeaderValue>,
}

impl Connection {
    pub async fn open(addr: SocketAddr, token: Option<&str>) -> Result<Connection, HttpError> {
        let stream = TcpStream::connect(addr).await.map_err(HttpError::Connect)?;
        stream.set_nodelay(true).map_err(HttpError::Connect)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let host = HeaderValue::from_str(&addr.to_string()).expect("an address is a valid header");
        let authorization = token.map(|t| HeaderValue::from_str(&format!("Bearer {t}")).expect("tokens are ASCII"));
        Ok(Connection {
            sender,
            host,
            authorization,
        })
    }

    pub async fn get(&mut self, path: &str, etag: Option<&str>) -> Result<Answer, HttpError> {
        let mut request = self.request(Method::GET, path, Bytes::new());
        if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            request.headers_mut().insert(IF_NONE_MATCH, etag);
        }
        self.send(request).await
    }

    pub async fn post_json(&mut self, path: &str, body: Bytes) -> Result<Answer, HttpError> {
        let mut request = self.request(Method::POST, path, body);
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.send(request).await
    }

    fn request(&self, method: Method, path: &str, body: Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(body))
            .expect("valid request");
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        if let Some(authorization) = &self.authorization {
            headers.insert(AUTHORIZATION, authorization.clone());
        }
        request
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, HttpError> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            etag,
            retry_after,
            body,
        })
    }
}
