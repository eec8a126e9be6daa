//! A cache of `GET` answers keyed by URL (and token), each kept with its ETag.
//!
//! Every use revalidates with `If-None-Match`: a `304` costs no body and the cached
//! value is used. In stale-OK mode (`Freshness::StaleOk`) a value younger than the
//! caller's max age is answered without asking the server at all, with its age, so the
//! caller can say how old it is. Entries live in memory, or on disk (one small JSON file
//! per URL) so that separate runs of the command line share them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use murphy_core::wire::{SectionView, SectionsAnswer, StudentView};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Client, Error, Fetched, Result};

/// How much the caller trusts a cached answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Always ask the server (conditionally, so an unchanged answer costs no body).
    Revalidate,
    /// Answer from the cache without asking while the entry is younger than this.
    StaleOk { max_age: Duration },
}

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The server sent the body (nothing cached, or it changed).
    Downloaded,
    /// The server answered `304 Not Modified`: the cached body is current.
    Revalidated,
    /// Not asked: the cached body, younger than the caller's max age.
    Cache,
}

/// An answer and how fresh it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Cached<T> {
    pub value: T,
    /// Time since the server last confirmed this value (zero when just fetched).
    pub age: Duration,
    pub source: Source,
}

impl<T> Cached<T> {
    /// Whether the server confirmed the cached value with a `304`.
    pub fn revalidated(&self) -> bool {
        self.source == Source::Revalidated
    }
}

/// What is stored per URL: the body as JSON, so one store serves every answer type.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    url: String,
    etag: String,
    /// When the server last confirmed the body, in milliseconds since the Unix epoch:
    /// wall-clock, because disk entries outlive the process.
    confirmed_unix_ms: u64,
    body: serde_json::Value,
}

impl Entry {
    fn age(&self) -> Duration {
        Duration::from_millis(now_unix_ms().saturating_sub(self.confirmed_unix_ms))
    }
}

enum Store {
    Memory(Mutex<HashMap<String, Entry>>),
    Disk(PathBuf),
}

/// A `Client` whose reads go through a cache.
pub struct CachingClient {
    client: Client,
    store: Store,
}

impl CachingClient {
    pub fn in_memory(client: Client) -> CachingClient {
        CachingClient {
            client,
            store: Store::Memory(Mutex::new(HashMap::new())),
        }
    }

    /// Keeps entries as files in `dir` (created when first needed).
    pub fn on_disk(client: Client, dir: impl Into<PathBuf>) -> CachingClient {
        CachingClient {
            client,
            store: Store::Disk(dir.into()),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn section(&self, id: &str, freshness: Freshness) -> Result<Cached<SectionView>> {
        self.get(&format!("/api/v1/sections/{id}"), freshness).await
    }

    pub async fn sections(&self, freshness: Freshness) -> Result<Cached<SectionsAnswer>> {
        self.get("/api/v1/sections", freshness).await
    }

    pub async fn student(&self, id: &str, freshness: Freshness) -> Result<Cached<StudentView>> {
        self.get(&format!("/api/v1/students/{id}"), freshness).await
    }

    /// `GET path` through the cache.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, freshness: Freshness) -> Result<Cached<T>> {
        let key = self.key(path);
        let cached = self.load(&key);
        if let (Some(entry), Freshness::StaleOk { max_age }) = (&cached, freshness)
            && entry.age() < max_age
        {
            return Ok(Cached {
                value: decode(&entry.body)?,
                age: entry.age(),
                source: Source::Cache,
            });
        }
        let etag = cached.as_ref().map(|e| e.etag.as_str());
        match self.client.get_if_none_match::<serde_json::Value>(path, etag).await? {
            Fetched::NotModified => {
                let mut entry = cached.ok_or_else(|| Error::Unexpected {
                    status: 304,
                    body: "304 to a request that sent no ETag".into(),
                })?;
                entry.confirmed_unix_ms = now_unix_ms();
                self.save(&key, &entry);
                Ok(Cached {
                    value: decode(&entry.body)?,
                    age: Duration::ZERO,
                    source: Source::Revalidated,
                })
            }
            Fetched::Modified { value, etag } => {
                let decoded = decode(&value)?;
                // An answer without an ETag cannot be revalidated, so it is not kept.
                if !etag.is_empty() {
                    let url = self.client.url(path);
                    let confirmed_unix_ms = now_unix_ms();
                    let entry = Entry {
                        url,
                        etag,
                        confirmed_unix_ms,
                        body: value,
                    };
                    self.save(&key, &entry);
                }
                Ok(Cached {
                    value: decoded,
                    age: Duration::ZERO,
                    source: Source::Downloaded,
                })
            }
        }
    }

    /// The URL plus a digest of the token: a student's private answers are never
    /// served to another token, even in stale-OK mode.
    fn key(&self, path: &str) -> String {
        let token = fnv1a(self.client.token().unwrap_or("").as_bytes());
        format!("{token:016x} {}", self.client.url(path))
    }

    fn load(&self, key: &str) -> Option<Entry> {
        match &self.store {
            Store::Memory(map) => map.lock().expect("cache lock").get(key).cloned(),
            Store::Disk(dir) => {
                let text = std::fs::read(file_for(dir, key)).ok()?;
                // A corrupt or old-format file is only a miss.
                serde_json::from_slice(&text).ok()
            }
        }
    }

    fn save(&self, key: &str, entry: &Entry) {
        match &self.store {
            Store::Memory(map) => {
                map.lock().expect("cache lock").insert(key.to_owned(), entry.clone());
            }
            // A cache that cannot be written only costs a download next time.
            Store::Disk(dir) => {
                let _ = write_atomically(&file_for(dir, key), entry);
            }
        }
    }
}

fn decode<T: DeserializeOwned>(body: &serde_json::Value) -> Result<T> {
    T::deserialize(body).map_err(|e| Error::Unexpected {
        status: 200,
        body: format!("{e}: {body}"),
    })
}

/// One file per key, named by a stable digest (URLs hold characters file names cannot).
fn file_for(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{:016x}.json", fnv1a(key.as_bytes())))
}

/// Write then rename, so a concurrent reader sees the old entry or the new, never half.
fn write_atomically(path: &Path, entry: &Entry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec(entry).map_err(std::io::Error::other)?)?;
    std::fs::rename(&tmp, path)
}

/// FNV-1a, 64 bits: stable across builds and Rust versions, unlike `DefaultHasher`,
/// so cache file names stay the same from one release to the next.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
