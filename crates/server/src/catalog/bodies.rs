//! The catalog's answers as bytes on the wire: the content-coding a client accepts
//! (`Encoding`), and `Bodies`, every answer made and compressed once per content (its
//! tag) and kept within a byte budget, so a reload wave of one page serializes and
//! compresses it once.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_ENCODING;

/// Bodies smaller than this are sent as they are: compressing them saves too little.
const COMPRESS_BYTES_MIN: usize = 512;
/// gzip's level: 6, zlib's default, is near its best ratio on JSON at a fraction of
/// the time of 9.
const GZIP_LEVEL: u32 = 6;
/// brotli's quality: 5 compresses JSON better than gzip -9 and still fast enough to do
/// once per content.
const BROTLI_QUALITY: i32 = 5;

/// A content-coding of the catalog's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Br,
}

impl Encoding {
    /// The best coding `headers`' `Accept-Encoding` allows: br, then gzip, then none.
    pub fn accepted(headers: &HeaderMap) -> Encoding {
        let q = |name: &str| -> f32 {
            let mut star = 0.0;
            for item in headers
                .get_all(ACCEPT_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
            {
                let mut parts = item.split(';').map(str::trim);
                let coding = parts.next().unwrap_or_default();
                let weight = parts
                    .find_map(|p| p.strip_prefix("q="))
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(1.0);
                if coding.eq_ignore_ascii_case(name) {
                    return weight;
                }
                if coding == "*" {
                    star = weight;
                }
            }
            star
        };
        if q("br") > 0.0 {
            Encoding::Br
        } else if q("gzip") > 0.0 {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// The `Content-Encoding` value, and the suffix of the ETag of that coding's bytes.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Br => Some("br"),
        }
    }

    fn compress(self, json: &[u8]) -> Bytes {
        match self {
            Encoding::Identity => Bytes::copy_from_slice(json),
            Encoding::Gzip => {
                let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
                out.write_all(json).expect("writing to memory");
                out.finish().expect("writing to memory").into()
            }
            Encoding::Br => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: BROTLI_QUALITY,
                    ..Default::default()
                };
                let mut out = Vec::with_capacity(json.len() / 4);
                brotli::BrotliCompress(&mut &json[..], &mut out, &params).expect("writing to memory");
                out.into()
            }
        }
    }
}

/// Answers kept by (content tag, coding), oldest dropped first past `bytes_max`.
pub struct Bodies {
    kept: Mutex<Kept>,
    bytes_max: usize,
}

#[derive(Default)]
struct Kept {
    bodies: HashMap<(String, Encoding), Bytes>,
    order: VecDeque<(String, Encoding)>,
    bytes: usize,
}

impl Bodies {
    pub fn new(bytes_max: usize) -> Bodies {
        Bodies {
            kept: Mutex::new(Kept::default()),
            bytes_max,
        }
    }

    /// The bytes of the content tagged `tag` in `wanted` coding (or plain, when it is
    /// too small to compress), and the coding they are in. `json` makes the content
    /// when it is not kept yet.
    pub fn get(&self, tag: &str, wanted: Encoding, json: impl FnOnce() -> String) -> (Bytes, Encoding) {
        if let Some(found) = self.find(tag, wanted) {
            return found;
        }
        let plain = match self.find(tag, Encoding::Identity) {
            Some((plain, _)) => plain,
            None => {
                let plain = Bytes::from(json());
                self.keep(tag, Encoding::Identity, plain.clone());
                plain
            }
        };
        if wanted == Encoding::Identity || plain.len() < COMPRESS_BYTES_MIN {
            return (plain, Encoding::Identity);
        }
        let packed = wanted.compress(&plain);
        self.keep(tag, wanted, packed.clone());
        (packed, wanted)
    }

    fn find(&self, tag: &str, encoding: Encoding) -> Option<(Bytes, Encoding)> {
        let kept = self.kept.lock().expect("not poisoned");
        let body = kept.bodies.get(&(tag.to_owned(), encoding))?;
        Some((body.clone(), encoding))
    }

    fn keep(&self, tag: &str, encoding: Encoding, body: Bytes) {
        if body.len() > self.bytes_max {
            return;
        }
        let mut kept = self.kept.lock().expect("not poisoned");
        let key = (tag.to_owned(), encoding);
        if kept.bodies.contains_key(&key) {
            return;
        }
        kept.bytes += body.len();
        kept.bodies.insert(key.clone(), body);
        kept.order.push_back(key);
        while kept.bytes > self.bytes_max {
            let oldest = kept.order.pop_front().expect("bytes kept are in the order");
            let gone = kept.bodies.remove(&oldest).expect("ordered bodies are kept");
            kept.bytes -= gone.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accepting(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        Encoding::accepted(&headers)
    }

    #[test]
    fn the_best_accepted_coding_is_chosen() {
        assert_eq!(accepting("gzip, deflate, br"), Encoding::Br);
        assert_eq!(accepting("gzip, deflate"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(accepting("identity"), Encoding::Identity);
        assert_eq!(accepting("*"), Encoding::Br);
        assert_eq!(Encoding::accepted(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn bodies_are_made_once_and_kept_within_their_budget() {
        let bodies = Bodies::new(4096);
        let json = "x".repeat(1000);
        let (plain, coding) = bodies.get("a", Encoding::Identity, || json.clone());
        assert_eq!((plain.len(), coding), (1000, Encoding::Identity));
        let (packed, coding) = bodies.get("a", Encoding::Gzip, || unreachable!("the plain body is kept"));
        assert_eq!(coding, Encoding::Gzip);
        assert!(packed.len() < 100, "{}", packed.len());
        for tag in ["b", "c", "d", "e"] {
            bodies.get(tag, Encoding::Identity, || json.clone());
        }
        let kept = bodies.kept.lock().unwrap();
        assert!(kept.bytes <= 4096 && !kept.bodies.contains_key(&("a".to_owned(), Encoding::Identity)));
    }
}
