//! A reader of Server-Sent Events for tests: opens `GET /api/v1/events` and parses its
//! events one by one, skipping heartbeats.

use std::time::Duration;

use murphy_core::wire::SectionEvent;
use reqwest::header::AUTHORIZATION;

use super::TestServer;

/// One parsed event: its name, id and data.
#[derive(Debug)]
pub struct Sse {
    pub event: String,
    pub id: String,
    pub data: String,
}

/// Reads events off a streaming response.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    pub async fn open(server: &TestServer, query: &str, token: Option<&str>, last_event_id: Option<u64>) -> Events {
        let mut request = reqwest::Client::new().get(format!("{}/api/v1/events{query}", server.url()));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        Events::of(request.send().await.unwrap()).await
    }

    /// The events of a stream's answer, which must be `200`.
    pub async fn of(response: reqwest::Response) -> Events {
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// The next event, or `None` if none comes within `wait`.
    pub async fn within(&mut self, wait: Duration) -> Option<Sse> {
        tokio::time::timeout(wait, self.next()).await.ok()
    }

    pub async fn next(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_owned())
                        .unwrap_or_default()
                };
                if block.lines().all(|l| l.starts_with(':')) {
                    continue; // a heartbeat comment
                }
                return Sse {
                    event: field("event:"),
                    id: field("id:"),
                    data: field("data:"),
                };
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.response.chunk())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next `section` event (the caller's own `student` events are skipped).
    pub async fn next_section(&mut self) -> SectionEvent {
        let mut event = self.next().await;
        while event.event == "student" {
            event = self.next().await;
        }
        assert_eq!(event.event, "section", "{event:?}");
        let section: SectionEvent = serde_json::from_str(&event.data).unwrap();
        assert_eq!(event.id, section.version.to_string(), "the id is the version");
        section
    }
}
