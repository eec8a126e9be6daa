//! The registrar's rules through the real binary: a CSV with a lecture, its labs, a
//! prerequisite and reserved seats imports (labs first, whatever the file's order) and
//! reads back; a completions CSV records courses, and a file naming an unknown student
//! imports nothing; a lecture without its lab and a missing prerequisite are refused in
//! sentences; a permission number issued by the registrar opens the section once; a
//! lecture is dropped with its lab.

mod common;

use common::{CliServer as Server, both, stdout};

const SECTIONS: &str = "\
section,title,units,capacity,waitlist_capacity,days,start,end,prerequisites,linked,reserved
DESIGN-1,Digital Design,2,40,5,T,16:00,17:50,LOGIC,DESIGN-1A DESIGN-1B,major:COMSCI=10@2099-01-01T00:00:00Z
DESIGN-1A,\"Digital Design, lab A\",0,20,0,W,16:00,17:50,,,
DESIGN-1B,\"Digital Design, lab B\",0,20,0,R,16:00,17:50,,,
";

#[test]
fn lectures_labs_prerequisites_and_permission_numbers_in_sentences() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let imported = server.import(dir.path(), SECTIONS);
    assert!(imported.status.success(), "{}", both(&imported));
    let shown = stdout(&server.murphy(&["section", "DESIGN-1"]));
    for line in [
        "seats: 0 of 40 taken, 40 open, 10 of them held for reservations; waitlist: 0 of 5",
        "reserved: 10 seats for major:COMSCI until 2099-01-01T00:00:00Z, 10 still held",
        "requires: LOGIC",
        "taken with one of: DESIGN-1A, DESIGN-1B (enroll with --with)",
    ] {
        assert!(shown.contains(line), "{line:?} in:\n{shown}");
    }
    let lab = stdout(&server.murphy(&["section", "DESIGN-1B"]));
    assert!(
        lab.contains("taken with: DESIGN-1 (murphy enroll DESIGN-1 --with DESIGN-1B)"),
        "{lab}"
    );

    let [ada, bo] = &server.students(&["s1", "s2"])[..] else {
        panic!("two tokens")
    };
    let alone = server.murphy_as(ada, &["enroll", "DESIGN-1"]);
    assert_eq!(alone.status.code(), Some(1), "{}", both(&alone));
    assert_eq!(
        stdout(&alone).trim(),
        "DESIGN-1 is taken together with one of DESIGN-1A, DESIGN-1B: enroll in the lecture with \
         --with and its discussion or lab"
    );
    let missing = server.murphy_as(ada, &["enroll", "DESIGN-1", "--with", "DESIGN-1A"]);
    assert_eq!(
        stdout(&missing).trim(),
        "DESIGN-1 requires LOGIC, which is not on your record as completed; the registrar can \
         give you a permission number"
    );

    // Completions by CSV: an unknown student imports nothing; then s1 completes LOGIC.
    let file = dir.path().join("completions.csv");
    std::fs::write(&file, "student,course\ns1,LOGIC\ns9,LOGIC\n").unwrap();
    let refused = server.murphy(&["admin", "import", file.to_str().unwrap()]);
    assert!(
        both(&refused).contains("no such student(s): s9; nothing was imported"),
        "{}",
        both(&refused)
    );
    std::fs::write(&file, "student,course\ns1,LOGIC\n").unwrap();
    let recorded = server.murphy(&["admin", "import", file.to_str().unwrap()]);
    assert_eq!(
        stdout(&recorded).trim(),
        "recorded 1 completion(s)",
        "{}",
        both(&recorded)
    );
    let pair = server.murphy_as(ada, &["enroll", "DESIGN-1", "--with", "DESIGN-1A"]);
    assert_eq!(
        stdout(&pair).trim(),
        "you are enrolled in DESIGN-1 and DESIGN-1A",
        "{}",
        both(&pair)
    );

    // s2 has no LOGIC: the registrar's permission number opens DESIGN-1 once.
    let issued = server.murphy(&["admin", "permission", "s2", "DESIGN-1"]);
    let said = stdout(&issued);
    let code = said.rsplit("--permission ").next().unwrap().trim().to_owned();
    assert!(said.starts_with("permission number ") && code.len() == 9, "{said}");
    let opened = server.murphy_as(
        bo,
        &["enroll", "DESIGN-1", "--with", "DESIGN-1B", "--permission", &code],
    );
    assert_eq!(
        stdout(&opened).trim(),
        format!("you are enrolled in DESIGN-1 and DESIGN-1B (permission number {code} used)"),
        "{}",
        both(&opened)
    );
    let dropped = server.murphy_as(bo, &["drop", "DESIGN-1"]);
    assert_eq!(stdout(&dropped).trim(), "you dropped DESIGN-1 and its linked DESIGN-1B");
    let again = server.murphy_as(
        bo,
        &["enroll", "DESIGN-1", "--with", "DESIGN-1B", "--permission", &code],
    );
    assert!(
        stdout(&again).starts_with("that permission number does not open DESIGN-1"),
        "{}",
        both(&again)
    );
}
