//! The web page through the real socket: every file it loads is served, with its content
//! type, `Cache-Control: no-cache` and a strong ETag that revalidates to `304`. The modules are found the way a browser finds
//! them: index.html's `<script type="module">`, then the imports of every module served,
//! so a module the page imports that murphy does not serve fails here.

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

use common::TestServer;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_module_the_page_imports_is_served_as_javascript() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let index = fetch(&http, &server.url(), "/", None).await;
    assert_eq!(index.status, StatusCode::OK);
    let mut queue: VecDeque<String> = module_scripts(&index.body)
        .iter()
        .map(|src| resolve("/", src))
        .collect();
    assert!(!queue.is_empty(), "index.html loads no module");

    let mut served = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        if !served.insert(path.clone()) {
            continue;
        }
        let module = fetch(&http, &server.url(), &path, None).await;
        assert_eq!(
            module.status,
            StatusCode::OK,
            "{path}: the page imports it, murphy does not serve it"
        );
        assert!(
            is_javascript(&module.content_type),
            "{path} is served as {:?}, which a browser refuses to run as a module",
            module.content_type
        );
        assert_revalidates(&http, &server.url(), &path, &module).await;
        queue.extend(imports(&module.body).iter().map(|spec| resolve(&path, spec)));
    }
    // The walk reached every module there is, so it walked the real graph (and no
    // module on disk is left behind, never loaded).
    assert_eq!(
        served,
        modules_on_disk(),
        "the modules the page imports, and those under web/"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_its_style_and_its_icon_and_nothing_else() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/favicon.ico", "image/svg+xml"),
    ] {
        let file = fetch(&http, &server.url(), path, None).await;
        assert_eq!(file.status, StatusCode::OK, "{path}");
        assert_eq!(file.content_type, content_type, "{path}");
        assert_revalidates(&http, &server.url(), path, &file).await;
    }
    // A file murphy does not embed is the API's 404 problem: the walk above can fail.
    let missing = fetch(&http, &server.url(), "/js/missing.js", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.content_type, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(&missing.body).expect("a problem body");
    assert_eq!(problem["code"], "no_such_route");
}

/// A file served with `no-cache` and a strong ETag: asked again with that tag it is a
/// `304` with no body, and asked with another tag it is the whole file again.
async fn assert_revalidates(http: &reqwest::Client, base: &str, path: &str, file: &Fetched) {
    assert_eq!(file.cache_control, "no-cache", "{path}");
    let etag = &file.etag;
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "{path}: ETag {etag:?} is not strong"
    );
    let again = fetch(http, base, path, Some(etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
    assert_eq!(
        (again.etag.as_str(), again.body.as_str()),
        (etag.as_str(), ""),
        "{path}"
    );
    assert_eq!(again.cache_control, "no-cache", "{path}");
    let other = fetch(http, base, path, Some(r#""another version""#)).await;
    assert_eq!(
        (other.status, other.body.as_str()),
        (StatusCode::OK, file.body.as_str()),
        "{path}"
    );
}

#[test]
fn imports_are_read_from_statements_only() {
    let source = r#"// A comment that says: import { x } from "./comment.js";
import { a, b } from "./a.js";
import {
  c,
} from '../c.js';
import "./side-effect.js";
export { d } from "/d.js";
export function e() { return "import { f } from './no.js';"; }
"#;
    assert_eq!(imports(source), ["./a.js", "../c.js", "./side-effect.js", "/d.js"]);
    assert_eq!(resolve("/js/x.js", "../c.js"), "/c.js");
    assert_eq!(resolve("/app.js", "./js/a.js"), "/js/a.js");
    assert_eq!(
        module_scripts(r#"<script src="/old.js"></script><script type="module" src="/app.js"></script>"#),
        ["/app.js"]
    );
}

struct Fetched {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    etag: String,
    body: String,
}

async fn fetch(http: &reqwest::Client, base: &str, path: &str, if_none_match: Option<&str>) -> Fetched {
    let mut request = http.get(format!("{base}{path}"));
    if let Some(tag) = if_none_match {
        request = request.header(IF_NONE_MATCH, tag);
    }
    let response = request.send().await.expect(path);
    let header = |name| {
        let value = response.headers().get(name);
        value
            .map(|v| v.to_str().expect("an ASCII header").to_owned())
            .unwrap_or_default()
    };
    let (content_type, cache_control, etag) = (header(CONTENT_TYPE), header(CACHE_CONTROL), header(ETAG));
    Fetched {
        status: response.status(),
        content_type,
        cache_control,
        etag,
        body: response.text().await.expect(path),
    }
}

/// The JavaScript MIME types a browser runs a module script of.
fn is_javascript(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    matches!(essence, "text/javascript" | "application/javascript")
}

/// The `src` of each `<script type="module">` of a page.
fn module_scripts(html: &str) -> Vec<String> {
    html.split("<script")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>')?];
            tag.contains(r#"type="module""#).then(|| attribute(tag, "src"))?
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(r#"{name}=""#))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

/// The specifiers of a module's static `import` and `export ... from` statements. A
/// statement starts a line (as the page's modules are written), so comments and
/// strings that mention an import are not read as one.
fn imports(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = source.lines().map(str::trim_start);
    while let Some(line) = lines.next() {
        let starts = |word: &str| {
            line.strip_prefix(word)
                .is_some_and(|rest| rest.starts_with([' ', '{', '"', '\'', '*']))
        };
        if !(starts("import") || line.starts_with("export {") || line.starts_with("export *")) {
            continue;
        }
        let mut statement = line.to_owned();
        while !statement.contains(';') {
            match lines.next() {
                Some(more) => statement.push_str(more),
                None => break,
            }
        }
        if statement.starts_with("import") || statement.contains(" from ") {
            found.extend(last_quoted(&statement));
        }
    }
    found
}

/// The last string literal of a statement: its module specifier.
fn last_quoted(statement: &str) -> Option<String> {
    let end = statement.rfind(['"', '\''])?;
    let quote = statement[end..].chars().next()?;
    let start = statement[..end].rfind(quote)? + 1;
    Some(statement[start..end].to_owned())
}

/// The path a specifier names, from the module at `base`. The page loads only its own
/// files, so a bare or remote specifier fails the test.
fn resolve(base: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = if spec.starts_with('/') {
        Vec::new()
    } else if spec.starts_with("./") || spec.starts_with("../") {
        let dir = &base[..base.rfind('/').expect("an absolute path")];
        dir.split('/').filter(|p| !p.is_empty()).collect()
    } else {
        panic!("{base} imports {spec:?}: the page imports only its own files, by path");
    };
    for part in spec.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The page's modules in the source tree: `web/app.js` and `web/js/*.js`, as the paths
/// they are served at.
fn modules_on_disk() -> BTreeSet<String> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let mut modules = BTreeSet::from(["/app.js".to_owned()]);
    for entry in std::fs::read_dir(web.join("js")).expect("web/js") {
        let name = entry
            .expect("a directory entry")
            .file_name()
            .into_string()
            .expect("a UTF-8 name");
        if name.ends_with(".js") {
            modules.insert(format!("/js/{name}"));
        }
    }
    modules
}

/// The page may not be framed, sniffed or leak its URL, and runs no inline script: its
/// CSP allows scripts from murphy alone, and index.html has none inline to allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers_and_the_page_a_strict_csp() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for path in ["/", "/app.js", "/style.css", "/healthz", "/api/v1/me", "/no-such-page"] {
        let response = http.get(format!("{}{path}", server.url())).send().await.unwrap();
        let h = response.headers();
        let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp:?}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: {csp:?}"
        );
        if path == "/" {
            assert!(csp.contains("script-src 'self'"), "{csp}");
            assert!(csp.contains("default-src 'none'"), "{csp}");
        }
    }
    let index = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/index.html")).unwrap();
    let lower = index.to_ascii_lowercase();
    for script in lower.split("<script").skip(1) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(
            tag.contains("src="),
            "an inline script, which the CSP blocks: <script{tag}>"
        );
    }
    for attribute in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onerror=",
        " style=",
        "javascript:",
    ] {
        assert!(
            !lower.contains(attribute),
            "index.html has {attribute}, which the CSP blocks"
        );
    }
}
