//! The registrar's `import`: a whole file in one command, all rows or none. Applied,
//! it is one log entry; a refused row (anywhere, the last one too) leaves nothing; its
//! body may be as large as `import_body_bytes_max` for the admin token only; its rows
//! are bounded; a log at rules version 2 refuses it before the log.

mod common;

use common::{TestServer, create_section, create_student, functional_limits};
use murphy_client::Error;
use murphy_core::command::IMPORT_ROWS_MAX;
use murphy_core::{Command, LinkProblem, Outcome, RulesVersion};
use murphy_server::Limits;

/// `n` sections, `IMP-0` to `IMP-{n-1}`.
fn sections(n: usize) -> Vec<Command> {
    (0..n).map(|i| create_section(&format!("IMP-{i}"), 30, 5)).collect()
}

/// A lecture taken with `part`, at another time than `sections` meet (they meet at none).
fn linking(lecture: &str, part: &str) -> Command {
    let mut command = create_section(lecture, 30, 5);
    if let Command::CreateSection { linked, .. } = &mut command {
        linked.push(part.into());
    }
    command
}

#[tokio::test]
async fn an_import_is_one_entry_and_a_refused_row_leaves_nothing() {
    let server = TestServer::start().await;
    server
        .setup(vec![create_student("s1"), create_section("TAKEN-1A", 10, 0)])
        .await;
    server.setup(vec![linking("TAKEN-1", "TAKEN-1A")]).await;
    let before_log = server.log_len().await;

    // 450 rows, the last of which links a section another lecture has: refused, so the
    // 449 before it are not there either.
    let mut rows = sections(449);
    rows.push(linking("IMP-LECTURE", "TAKEN-1A"));
    let answer = server
        .admin
        .commands(vec![Command::Import { rows: rows.clone() }])
        .await
        .expect("an import is answered");
    assert_eq!(
        answer.results[0].outcome,
        Outcome::ImportRefused {
            row: 450,
            refusal: Box::new(Outcome::CannotLink {
                section: "TAKEN-1A".into(),
                reason: LinkProblem::LinkedElsewhere,
            }),
        }
    );
    let catalog = server.admin.sections().await.unwrap();
    assert_eq!(catalog.sections.len(), 2, "nothing of the refused import was applied");
    assert_eq!(
        server.log_len().await,
        before_log + 1,
        "the refusal is one entry, as any"
    );

    // Without the bad row: every row, one LSN, one entry; a row may link one before it.
    rows.pop();
    rows.push(linking("IMP-LECTURE", "IMP-0"));
    rows.push(Command::RecordCompletion {
        student: "s1".into(),
        course: "MATH-31A".into(),
    });
    let answer = server.admin.commands(vec![Command::Import { rows }]).await.unwrap();
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Imported {
            rows: 451,
            already_recorded: 0
        }
    );
    let lsn = answer.results[0].lsn;
    let catalog = server.admin.sections().await.unwrap();
    assert_eq!(catalog.sections.len(), 2 + 450);
    assert!(
        catalog
            .sections
            .iter()
            .filter(|s| s.id.starts_with("IMP-"))
            .all(|s| s.version == lsn)
    );
    assert_eq!(server.log_len().await, before_log + 2);
    let s1 = server.admin.student("s1").await.unwrap();
    assert!(s1.completed.contains(&"MATH-31A".to_string()));
}

/// The admin token may send an import up to `import_body_bytes_max`; a student's body
/// stays held to `request_body_bytes_max`, and an import past its rows or its body
/// limit is refused whole.
#[tokio::test]
async fn the_import_has_its_limits() {
    let limits = Limits {
        import_body_bytes_max: 2 << 20,
        ..functional_limits()
    };
    let server = TestServer::start_with(limits.clone()).await;
    let student = server.student("s1").await;

    // About 750 KiB: over the 64 KiB of every request, within the registrar's 2 MiB.
    let rows = sections(2_000);
    let answer = server
        .admin
        .commands(vec![Command::Import { rows: rows.clone() }])
        .await;
    let outcome = &answer.expect("the registrar's import is accepted").results[0].outcome;
    assert_eq!(
        outcome,
        &Outcome::Imported {
            rows: 2_000,
            already_recorded: 0
        }
    );

    // The same body from a student is too large before anything else is asked.
    let refused = student.commands(vec![Command::Import { rows }]).await.unwrap_err();
    assert!(matches!(refused, Error::Problem { status: 413, .. }), "{refused:?}");

    // Past the registrar's own limit: 413, nothing applied.
    let big: Vec<Command> = (0..IMPORT_ROWS_MAX)
        .map(|i| create_section(&format!("BIG-{i}"), 1, 0))
        .collect();
    let refused = server
        .admin
        .commands(vec![Command::Import { rows: big }])
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Problem { status: 413, .. }), "{refused:?}");

    // More rows than one import carries, and rows that are not the registrar's
    // creations: 400, naming the limit.
    let many = vec![
        Command::RecordCompletion {
            student: "s1".into(),
            course: "X".into()
        };
        IMPORT_ROWS_MAX + 1
    ];
    let refused = server
        .admin
        .commands(vec![Command::Import { rows: many }])
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::Problem { status: 400, detail, .. } if detail.contains(&IMPORT_ROWS_MAX.to_string())),
        "{refused:?}"
    );
    let enroll = vec![Command::enroll("s1", "IMP-1", false)];
    let refused = server
        .admin
        .commands(vec![Command::Import { rows: enroll }])
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Problem { status: 400, .. }), "{refused:?}");
    let catalog = server.admin.sections().await.unwrap();
    assert_eq!(catalog.sections.len(), 2_000, "the refused imports left nothing");
}

/// A log at rules version 2 (a cluster not yet upgraded) refuses an import before the
/// log, saying how to move on; after `upgrade_rules` to 3 it is accepted.
#[tokio::test]
async fn an_import_waits_for_rules_version_3() {
    let limits = Limits {
        rules_version_max: RulesVersion::V2,
        ..functional_limits()
    };
    let mut server = TestServer::start_with(limits).await;
    server.setup(vec![create_student("s1")]).await;
    let refused = server
        .admin
        .commands(vec![Command::Import { rows: sections(2) }])
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::Problem { status: 409, code, .. } if code == "rules_not_finalized"),
        "{refused:?}"
    );
    assert_eq!(server.log_len().await, 1, "refused before the log");

    // A build that knows version 3, on the log at version 2: refused still, until the
    // registrar upgrades.
    server.restart(functional_limits()).await;
    let refused = server
        .admin
        .commands(vec![Command::Import { rows: sections(2) }])
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::Problem { status: 409, detail, .. } if detail.contains("murphy admin upgrade")),
        "{refused:?}"
    );
    let upgrade = Command::UpgradeRules {
        rules: RulesVersion::V3,
    };
    let upgraded = server.admin.commands(vec![upgrade]).await.unwrap();
    assert!(!upgraded.results[0].outcome.is_refusal(), "{upgraded:?}");
    let answer = server
        .admin
        .commands(vec![Command::Import { rows: sections(2) }])
        .await
        .unwrap();
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Imported {
            rows: 2,
            already_recorded: 0
        }
    );
}
