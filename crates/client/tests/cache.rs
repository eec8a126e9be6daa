//! The in-memory cache against a real server: the first read downloads, the next is a
//! `304` revalidation with the same value, a change is downloaded again, and stale-OK
//! mode answers from the cache (with its age) without asking.

use std::time::Duration;

use murphy_client::{CachingClient, Client, Freshness, Source};
use murphy_core::{Command, Outcome};
use murphy_server::{Config, Limits, Server};
use tokio::net::TcpListener;

const ADMIN_TOKEN: &str = "cache-admin-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_revalidate_and_stale_ok_reads_do_not_ask() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_owned(),
        admin_token: Some(ADMIN_TOKEN.into()),
        limits: Limits::default(),
        database: None,
        oidc: None,
    };
    let server = Server::open(config).expect("server opens");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
    let admin = Client::new(url.clone(), Some(ADMIN_TOKEN.into()));
    let create = Command::create_section("MATH-31A-1", "Differential Calculus", 4, 10, 0, vec![]);
    assert_eq!(
        admin.commands(vec![create]).await.unwrap().results[0].outcome,
        Outcome::Created
    );

    let cache = CachingClient::in_memory(admin.clone());
    let first = cache.section("MATH-31A-1", Freshness::Revalidate).await.unwrap();
    assert_eq!(first.source, Source::Downloaded);
    let again = cache.section("MATH-31A-1", Freshness::Revalidate).await.unwrap();
    assert_eq!(again.source, Source::Revalidated);
    assert!(again.revalidated());
    assert_eq!(again.value, first.value);

    let raise = Command::SetCapacity {
        section: "MATH-31A-1".into(),
        capacity: 12,
    };
    admin.commands(vec![raise]).await.unwrap();
    let changed = cache.section("MATH-31A-1", Freshness::Revalidate).await.unwrap();
    assert_eq!((changed.source, changed.value.capacity), (Source::Downloaded, 12));

    tokio::time::sleep(Duration::from_millis(30)).await;
    let stale_ok = Freshness::StaleOk {
        max_age: Duration::from_secs(60),
    };
    let cached = cache.section("MATH-31A-1", stale_ok).await.unwrap();
    assert_eq!((cached.source, cached.value.capacity), (Source::Cache, 12));
    assert!(
        cached.age >= Duration::from_millis(30),
        "says how old: {:?}",
        cached.age
    );
    let too_old = Freshness::StaleOk {
        max_age: Duration::from_millis(1),
    };
    assert_eq!(
        cache.section("MATH-31A-1", too_old).await.unwrap().source,
        Source::Revalidated
    );
}
