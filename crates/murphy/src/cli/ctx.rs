//! What one client invocation works with: the server's client behind the disk cache,
//! the options, who the student is (asked of the server with `GET /api/v1/me`, since
//! the token already says), and client errors turned into sentences that say what to
//! do, with their exit status kept in the chain.

use std::path::PathBuf;
use std::time::Duration;

use murphy_client::{CachingClient, Client, Freshness};
use murphy_core::wire::MeAnswer;

use super::Common;
use super::exit::{refused, usage};

pub struct Ctx {
    pub common: Common,
    pub cache: CachingClient,
}

impl Ctx {
    /// Refuses to start without a token: every endpoint a command uses needs one.
    pub fn new(common: Common) -> anyhow::Result<Ctx> {
        // `MURPHY_TOKEN=` (empty) means no token, not the token "".
        let Some(token) = common.token.clone().filter(|t| !t.is_empty()) else {
            return Err(usage(
                "murphy needs your token: pass --token TOKEN or set MURPHY_TOKEN \
                 (the registrar issues tokens with `murphy admin token STUDENT`)",
            ));
        };
        let client = Client::new(common.url.clone(), Some(token));
        Ok(Ctx {
            cache: CachingClient::on_disk(client, cache_dir()),
            common,
        })
    }

    pub fn client(&self) -> &Client {
        self.cache.client()
    }

    pub fn json(&self) -> bool {
        self.common.json
    }

    pub fn freshness(&self) -> Freshness {
        match self.common.max_age {
            Some(s) => Freshness::StaleOk {
                max_age: Duration::from_secs(s),
            },
            None => Freshness::Revalidate,
        }
    }

    /// The student to act as: `--student` when given, else the token's own student.
    pub async fn student(&self) -> anyhow::Result<String> {
        if let Some(student) = self.common.student.clone().filter(|s| !s.is_empty()) {
            return Ok(student);
        }
        match self.client().me().await.map_err(|e| self.explain(e))? {
            MeAnswer::Student { student } => Ok(student),
            MeAnswer::Admin { .. } => Err(usage(
                "the admin token is no student's: pass --student ID (or set MURPHY_STUDENT) \
                 to act for one",
            )),
        }
    }

    /// Refuses, before anything is read or sent, a registrar's command run with a
    /// student's token: said so, not as whatever the first request would be refused with.
    pub async fn require_admin(&self) -> anyhow::Result<()> {
        match self.client().me().await.map_err(|e| self.explain(e))? {
            MeAnswer::Admin { .. } => Ok(()),
            MeAnswer::Student { student } => Err(refused(format!(
                "this needs the admin token: `murphy admin` commands are the registrar's, and \
                 this token is {student}'s (pass the admin token with --token or MURPHY_TOKEN)"
            ))),
        }
    }

    /// A client error as a sentence with what to do, the error itself kept as its
    /// cause (so `exit::status_of` still tells a refusal from a failure).
    pub fn explain(&self, e: murphy_client::Error) -> anyhow::Error {
        use murphy_client::Error::{Problem, Throttled, Transport, Unexpected};
        let url = &self.common.url;
        let sentence = match &e {
            Transport(t) if is_dns_failure(t) => {
                format!("cannot find the host of {url}: its name does not resolve (check --url or MURPHY_URL)")
            }
            Transport(t) if t.is_connect() => format!(
                "cannot reach murphy at {url}: is it running? (start it with `murphy serve`, \
                 or point --url or MURPHY_URL at it)"
            ),
            Transport(t) if t.is_timeout() => format!("murphy at {url} did not answer in time; try again"),
            Transport(_) => format!(
                "lost the connection to murphy at {url} before its answer; a write may or may not \
                 have been applied: look before trying again"
            ),
            Problem {
                status: 401, detail, ..
            } => format!("{detail} (pass --token or set MURPHY_TOKEN)"),
            Problem { code, detail, .. } => for_the_command_line(code, detail),
            Unexpected { status, .. } => format!(
                "murphy at {url} answered {status} with something this murphy cannot read: \
                 is --url a murphy of the same version?"
            ),
            Throttled => format!(
                "murphy at {url} is overloaded and refused most requests lately, so this one was not sent; \
                 nothing was applied: try again in a little while"
            ),
        };
        anyhow::Error::new(e).context(sentence)
    }
}

/// Whether a connection failed because the host's name did not resolve: no server to
/// start, a name to correct. reqwest says so only in its causes' words.
fn is_dns_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(c) = cause {
        if c.to_string().starts_with("dns error") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A problem's detail as the command line says it: a hint written for API users (an
/// endpoint to `GET`) becomes the command that does the same.
fn for_the_command_line(code: &str, detail: &str) -> String {
    let Some((said, _api_hint)) = detail.split_once("; GET /api/") else {
        return detail.to_owned();
    };
    match code {
        "no_such_section" => format!("{said}; `murphy sections` lists them"),
        _ => said.to_owned(),
    }
}

/// `MURPHY_CACHE_DIR`, else the platform cache dir (`$XDG_CACHE_HOME` or `~/.cache`) +
/// `murphy`. Done by hand: two variables do not justify another dependency.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MURPHY_CACHE_DIR") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("murphy")
}
