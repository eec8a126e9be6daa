//! Addresses as people type them: `--listen` takes `127.0.0.1:3000`, `localhost:3000`,
//! `[::1]:3000` or a bare port (`3000`, on 127.0.0.1), and a server's URL may leave out
//! its scheme (`127.0.0.1:3000` is `http://127.0.0.1:3000`). Both are clap value
//! parsers: their error is the sentence clap prints after the flag's name.

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs as _};

/// The address to listen on. A host name is resolved once, here; of its addresses the
/// first IPv4 one is taken (`localhost` is 127.0.0.1 to every client).
pub fn listen(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let how = "write it as 127.0.0.1:3000, localhost:3000 or a port such as 3000";
    if !text.contains(':') {
        return Err(format!("{text:?} names no port: {how}"));
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("{text:?} is not an address to listen on ({e}): {how}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address: {how}"))
}

/// A server's URL, `http://` when no scheme is given; a bare port is a local server.
pub fn server_url(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    if text.is_empty() {
        return Err("the URL is empty: write it as http://127.0.0.1:3000".into());
    }
    if text.parse::<u16>().is_ok() {
        return Ok(format!("http://127.0.0.1:{text}"));
    }
    match text.split_once("://") {
        None => Ok(format!("http://{text}")),
        Some(("http" | "https", rest)) if !rest.is_empty() => Ok(text.to_owned()),
        Some((scheme, _)) => Err(format!(
            "{text:?} is not a murphy URL: murphy speaks http:// (or https://), not {scheme}://; \
             write it as http://127.0.0.1:3000"
        )),
    }
}

/// Several servers' URLs, comma-separated (the nodes of a cluster), each as `server_url`.
pub fn server_urls(text: &str) -> Result<String, String> {
    let urls: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(server_url)
        .collect::<Result<_, _>>()?;
    if urls.is_empty() {
        return Err("no URL: write it as http://127.0.0.1:3000 (several: comma-separated)".into());
    }
    Ok(urls.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_an_address_a_host_name_or_a_bare_port() {
        assert_eq!(listen("3001").unwrap().to_string(), "127.0.0.1:3001");
        assert_eq!(listen("127.0.0.1:0").unwrap().to_string(), "127.0.0.1:0");
        assert_eq!(listen("[::1]:3001").unwrap().to_string(), "[::1]:3001");
        assert_eq!(listen("localhost:3001").unwrap().to_string(), "127.0.0.1:3001");
        assert!(listen("localhost").unwrap_err().contains("names no port"));
        assert!(listen("127.0.0.1:99999").unwrap_err().contains("localhost:3000"));
    }

    #[test]
    fn a_url_without_a_scheme_is_http() {
        assert_eq!(server_url("127.0.0.1:3000").unwrap(), "http://127.0.0.1:3000");
        assert_eq!(server_url("localhost:3000/").unwrap(), "http://localhost:3000");
        assert_eq!(server_url("3000").unwrap(), "http://127.0.0.1:3000");
        assert_eq!(server_url("https://murphy.example").unwrap(), "https://murphy.example");
        assert!(server_url("ftp://host").unwrap_err().contains("murphy speaks http://"));
        assert_eq!(
            server_urls("127.0.0.1:3001, http://127.0.0.1:3002").unwrap(),
            "http://127.0.0.1:3001,http://127.0.0.1:3002"
        );
        assert!(server_urls(",").is_err());
    }
}
