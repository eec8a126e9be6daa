//! The front door's refusals, built once at start-up: a shed request costs a copy of
//! a reference to these bytes, never a JSON serialization. Each is a `503` problem
//! with `Retry-After`; the seconds are drawn from a range per refusal (jitter), so the
//! clients refused together do not all come back together.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::metrics::Shed;
use crate::problem::{Code, Problem};

/// The prebuilt refusals.
pub(crate) struct Answers {
    sojourn: Bytes,
    queue: Bytes,
    /// Whole raw HTTP answers, for connections turned away before HTTP: per refusal,
    /// one per `Retry-After` value.
    connections: Vec<Bytes>,
    address_share: Vec<Bytes>,
    student_share: String,
    retry_after: Vec<HeaderValue>,
    /// The jitter's generator: a counter, mixed (splitmix64).
    draws: AtomicU64,
}

impl Answers {
    /// `retry_after_s`: the range `Retry-After` is drawn from, in whole seconds.
    pub(crate) fn new(
        (connections_max, per_address_max, per_student_max): (usize, usize, usize),
        queue_wait_ms_max: u128,
        retry_after_s: std::ops::RangeInclusive<u64>,
    ) -> Answers {
        let body = |code, detail: String| Problem::unavailable(code, detail).body();
        let raw = |body: String| -> Vec<Bytes> {
            retry_after_s
                .clone()
                .map(|seconds| {
                    Bytes::from(format!(
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
                         retry-after: {seconds}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    ))
                })
                .collect()
        };
        Answers {
            sojourn: body(
                Code::Overloaded,
                "the server is overloaded: this request waited too long before it could be started, and \
                 was shed; nothing of it was read or applied. Retry after the seconds Retry-After says (with \
                 the same client and seq, a write applies once)"
                    .into(),
            )
            .into(),
            queue: body(
                Code::Overloaded,
                format!(
                    "the server has more writes than it can answer in time (they wait over {queue_wait_ms_max} \
                     ms); nothing of this request was read or applied. Retry after the seconds Retry-After \
                     says (with the same client and seq, a write applies once)"
                ),
            )
            .into(),
            connections: raw(body(
                Code::TooManyConnections,
                format!(
                    "the server has as many connections open as it may ({connections_max}); nothing was read \
                     or applied. Retry after the seconds Retry-After says"
                ),
            )),
            address_share: raw(body(
                Code::TooManyConnections,
                format!(
                    "your address has as many connections open as one address may ({per_address_max}); \
                     nothing was read or applied. Close some, or retry after the seconds Retry-After says"
                ),
            )),
            student_share: format!(
                "this student has as many connections open as one student may ({per_student_max}: tabs, \
                 live streams, programs); nothing was applied, and this connection closes. Close some, \
                 or retry after the seconds Retry-After says"
            ),
            retry_after: retry_after_s.map(HeaderValue::from).collect(),
            draws: AtomicU64::new(0),
        }
    }

    /// The `503` for a request refused for `why` (by its wait, or the write queue's).
    pub(crate) fn response(&self, why: Shed) -> Response {
        let body = match why {
            Shed::Sojourn => &self.sojourn,
            Shed::Queue => &self.queue,
            _ => unreachable!("connections are refused raw, students by a problem"),
        };
        let mut response = Response::new(Body::from(body.clone()));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        headers.insert(RETRY_AFTER, self.retry_after[self.draw(self.retry_after.len())].clone());
        response
    }

    /// What a student past its share of connections is told.
    pub(crate) fn student_share_detail(&self) -> String {
        self.student_share.clone()
    }

    /// The whole raw answer for a connection refused for `why`, before any HTTP.
    pub(crate) fn raw(&self, why: Shed) -> Bytes {
        let answers = match why {
            Shed::Connections => &self.connections,
            Shed::AddressShare => &self.address_share,
            _ => unreachable!("requests are refused through hyper"),
        };
        answers[self.draw(answers.len())].clone()
    }

    /// A number below `n`, spread evenly enough for jitter.
    fn draw(&self, n: usize) -> usize {
        let mut z = self.draws.fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_spread_over_its_range() {
        let answers = Answers::new((8, 4, 2), 20, 1..=3);
        let mut seen = [0u32; 4];
        for _ in 0..3000 {
            let response = answers.response(Shed::Sojourn);
            assert_eq!(response.status(), 503);
            let seconds: usize = response.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
            seen[seconds] += 1;
        }
        assert_eq!(seen[0], 0);
        for (seconds, &count) in seen.iter().enumerate().skip(1) {
            assert!((800..1200).contains(&count), "{seconds} s drawn {count} times of 3000");
        }
        let raw = answers.raw(Shed::Connections);
        let text = std::str::from_utf8(&raw).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 503 ") && text.contains("connection: close"),
            "{text}"
        );
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())), "{text}");
        assert!(body.contains("\"code\":\"too_many_connections\""), "{body}");
    }
}
