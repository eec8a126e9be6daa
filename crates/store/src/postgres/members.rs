//! The register of the cluster's nodes (`Members`): one row per node URL with the
//! newest rules its binary knows, the highest LSN it has served, and when it was last
//! seen, by the database's clock. The register is rewritten every few moments by the
//! nodes themselves, so after the database is restored to an older point it soon says
//! again what the live nodes have served: more than the restored log holds.

use std::time::Duration;

use ::postgres::Client;
use murphy_core::RulesVersion;

use crate::{Member, Result, StoreError};

/// Readers' sessions are read-only by default; the register's writes say otherwise.
pub(super) fn register(client: &mut Client, url: &str, rules: RulesVersion, seen_lsn: u64) -> Result<()> {
    let seen_lsn =
        i64::try_from(seen_lsn).map_err(|_| StoreError::Corrupt(format!("lsn {seen_lsn} is out of range")))?;
    let mut tx = client.build_transaction().read_only(false).start()?;
    tx.execute(
        "INSERT INTO nodes (url, rules, seen_lsn, seen_at) VALUES ($1, $2, $3, now()) \
         ON CONFLICT (url) DO UPDATE SET rules = $2, seen_lsn = $3, seen_at = now()",
        &[&url, &rules_column(rules)?, &seen_lsn],
    )?;
    Ok(tx.commit()?)
}

pub(super) fn leave(client: &mut Client, url: &str) -> Result<()> {
    let mut tx = client.build_transaction().read_only(false).start()?;
    tx.execute("DELETE FROM nodes WHERE url = $1", &[&url])?;
    Ok(tx.commit()?)
}

pub(super) fn live(client: &mut Client, within: Duration) -> Result<Vec<Member>> {
    let rows = client.query(
        "SELECT url, rules, seen_lsn FROM nodes WHERE seen_at > now() - make_interval(secs => $1) ORDER BY url",
        &[&within.as_secs_f64()],
    )?;
    rows.iter()
        .map(|r| {
            let rules: i32 = r.try_get(1)?;
            let seen_lsn: Option<i64> = r.try_get(2)?;
            Ok(Member {
                url: r.try_get(0)?,
                rules_version_max: crate::codec::rules_version(Some(u64::try_from(rules).unwrap_or(u64::MAX)))?,
                seen_lsn: seen_lsn.map_or(0, |lsn| u64::try_from(lsn).unwrap_or(0)),
            })
        })
        .collect()
}

fn rules_column(rules: RulesVersion) -> Result<i32> {
    i32::try_from(rules.number()).map_err(|_| StoreError::Corrupt(format!("rules version {rules} is out of range")))
}
