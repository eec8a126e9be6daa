//! `murphy admin import` is all or nothing under `kill -9`: the real server is killed
//! while the real CLI imports a large catalog, at moments spread over how long a whole
//! import takes; restarted, it holds every section of the file or none, and after none
//! a rerun imports everything. (Sent in chunks, an import killed half-way left some
//! chunks behind, and a rerun was refused as "already exist".)

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use common::{CSV_HEADER, Murphy, both};
use murphy_client::Client;

const ADMIN_TOKEN: &str = "import-kill9-admin-token";
const SECTIONS: usize = 10_000;

fn csv() -> String {
    let mut text = CSV_HEADER.to_owned();
    for i in 0..SECTIONS {
        text.push_str(&format!("KILL-{i},Section {i},4,30,5,MWF,09:00,09:50\n"));
    }
    text
}

fn import(url: &str, file: &Path, cache: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["admin", "import"])
        .arg(file)
        .env("MURPHY_URL", url)
        .env("MURPHY_TOKEN", ADMIN_TOKEN)
        .env("MURPHY_CACHE_DIR", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("murphy admin import starts")
}

async fn count(url: &str) -> usize {
    let client = Client::new(url, Some(ADMIN_TOKEN.into()));
    client.sections().await.expect("the catalog").sections.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_in_the_middle_leaves_nothing_and_a_rerun_imports_everything() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("catalog.csv");
    std::fs::write(&file, csv()).unwrap();

    // How long a whole import takes here, from the CLI's start to its answer.
    let data = tempfile::tempdir().unwrap();
    let server = Murphy::serve(data.path(), ADMIN_TOKEN);
    let started = Instant::now();
    let whole = import(&server.url, &file, work.path()).wait_with_output().unwrap();
    let took = started.elapsed();
    assert!(whole.status.success(), "{}", both(&whole));
    assert_eq!(count(&server.url).await, SECTIONS);
    drop(server);

    let mut interrupted = 0;
    for eighths in 1..=7u32 {
        let data = tempfile::tempdir().unwrap();
        let mut server = Murphy::serve(data.path(), ADMIN_TOKEN);
        let mut cli = import(&server.url, &file, work.path());
        std::thread::sleep(took * eighths / 8);
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        let _ = cli.kill();
        let _ = cli.wait();

        let server = Murphy::serve(data.path(), ADMIN_TOKEN);
        let found = count(&server.url).await;
        println!("killed at {eighths}/8 of {took:?}: {found} sections after restart");
        assert!(
            found == 0 || found == SECTIONS,
            "killed at {eighths}/8 of an import: {found} of {SECTIONS} sections, neither all nor none"
        );
        if found == 0 {
            interrupted += 1;
            let rerun = import(&server.url, &file, work.path()).wait_with_output().unwrap();
            assert!(rerun.status.success(), "the rerun: {}", both(&rerun));
            assert_eq!(count(&server.url).await, SECTIONS, "the rerun imported everything");
        }
        // Every restart replays the log against the tables: what was kept is whole.
        drop(server);
        let verified = common::murphy(&["verify", "--data-dir", data.path().to_str().unwrap()]);
        assert!(verified.status.success(), "{}", both(&verified));
    }
    assert!(
        interrupted > 0,
        "no kill came before the import was durable; the test did not interrupt one"
    );
}
