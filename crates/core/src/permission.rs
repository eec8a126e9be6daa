//! Permission numbers: a single-use code the registrar issues for one student and one
//! section. Enrolling with it overrides the prerequisites, the appointment and a
//! reservation; never the capacity, the unit cap or a time conflict.
//!
//! The code is made from the LSN of the command that issued it, so a replay issues the
//! same code (core has no randomness). It need not be secret: it works only for the
//! student and section it names, so knowing another student's code grants nothing.

use serde::{Deserialize, Serialize};

/// One code, kept in its student's record so that issuing and using it change that
/// student (and the store writes it with them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub code: String,
    /// The section it opens: the `section` of the `enroll` that may use it.
    pub section: String,
    /// The LSN of the `issue_permission` that made it.
    pub issued: u64,
    /// The LSN of the `enroll` that used it; `None` while it is unused.
    pub used: Option<u64>,
}

/// Crockford's base32 alphabet: no I, L, O or U to misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a code, not counting the dash in its middle.
const CODE_CHARS: usize = 8;

/// The code issued at `lsn`, on its `attempt`-th try (a later try only when an earlier
/// one collides with a code the student already holds): `7K3M-Q2XD`.
pub fn code_for(lsn: u64, attempt: u64) -> String {
    let mut bits = splitmix64(lsn ^ attempt.wrapping_mul(0xA076_1D64_78BD_642F));
    let mut code = String::with_capacity(CODE_CHARS + 1);
    for i in 0..CODE_CHARS {
        if i == CODE_CHARS / 2 {
            code.push('-');
        }
        code.push(ALPHABET[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    code
}

/// A bijective mix of 64 bits (Steele, Lea and Flood's SplitMix64 finalizer).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_readable_and_distinct() {
        assert_eq!(code_for(7, 0), code_for(7, 0), "a replay issues the same code");
        let code = code_for(7, 0);
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(crate::command::check_id("permission", &code).is_ok());
        let distinct: std::collections::BTreeSet<String> = (0..10_000).map(|lsn| code_for(lsn, 0)).collect();
        assert_eq!(distinct.len(), 10_000);
        assert_ne!(code_for(7, 0), code_for(7, 1));
    }
}
