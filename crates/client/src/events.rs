//! `GET /api/v1/events`: live seat counts as Server-Sent Events, read chunk by chunk
//! (no stream feature needed) and parsed line by line as the SSE format says.

use murphy_core::wire::SectionEvent;
use reqwest::Response;

use crate::{Client, Error, Result, expect_ok};

/// An open event stream; `next` yields each section event, `None` when it ends.
pub struct EventStream {
    response: Response,
    buffer: String,
    /// The `event:` and `data:` fields of the event being read.
    kind: String,
    data: String,
    last_id: Option<u64>,
}

impl Client {
    /// Opens the event stream, of one section when `section` is given, resuming after
    /// version `after` (`Last-Event-ID`) when given.
    pub async fn events(&self, section: Option<&str>, after: Option<u64>) -> Result<EventStream> {
        let path = match section {
            Some(id) => format!("/api/v1/events?section={id}"),
            None => "/api/v1/events".to_owned(),
        };
        let mut request = self.request(self.http.get(self.url(&path)));
        if let Some(after) = after {
            request = request.header("last-event-id", after.to_string());
        }
        let response = expect_ok(request.send().await?).await?;
        Ok(EventStream {
            response,
            buffer: String::new(),
            kind: String::new(),
            data: String::new(),
            last_id: after,
        })
    }
}

impl EventStream {
    /// The id of the last event read: pass it as `after` to resume.
    pub fn last_id(&self) -> Option<u64> {
        self.last_id
    }

    /// The next `section` event (the `ready` event and heartbeats are skipped).
    pub async fn next(&mut self) -> Result<Option<SectionEvent>> {
        loop {
            while let Some(end) = self.buffer.find('\n') {
                let line: String = self.buffer.drain(..=end).collect();
                if let Some(event) = self.line(line.trim_end_matches(['\n', '\r']))? {
                    return Ok(Some(event));
                }
            }
            match self.response.chunk().await? {
                Some(bytes) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                None => return Ok(None),
            }
        }
    }

    /// Takes one line; a blank line ends an event and dispatches it.
    fn line(&mut self, line: &str) -> Result<Option<SectionEvent>> {
        if line.is_empty() {
            let kind = std::mem::take(&mut self.kind);
            let data = std::mem::take(&mut self.data);
            if kind != "section" {
                return Ok(None);
            }
            let event: SectionEvent = serde_json::from_str(&data).map_err(|e| Error::Unexpected {
                status: 200,
                body: format!("{e}: {data}"),
            })?;
            return Ok(Some(event));
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.kind = value.to_owned(),
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            "id" => self.last_id = value.parse().ok().or(self.last_id),
            _ => {} // comments (heartbeats) and fields we do not use
        }
        Ok(None)
    }
}
