//! Money: deposits add the amount, withdrawals take the amount and the reported fee
//! (the lecture's overdraft fee below zero, refused past the limit), transfers move
//! money without creating any; the balances always add up to what came in and went out.

use murphy_core::Command;
use murphy_core::Outcome;
use murphy_core::state::{OVERDRAFT_CENTS_MAX, OVERDRAFT_FEE_CENTS};
use proptest::prelude::*;

use super::fail;
use super::step::Step;

impl Step<'_> {
    fn balance_before(&self, id: &str) -> i64 {
        self.before.student(id).map_or(0, |s| s.balance_cents)
    }

    fn balance_after(&self, id: &str) -> i64 {
        self.after.student(id).map_or(0, |s| s.balance_cents)
    }

    /// Deposits add the amount, withdrawals take the amount and the reported fee,
    pub fn check_money(&self, total: i64) -> Result<i64, TestCaseError> {
        let total = match self.command {
            Command::Deposit { student, amount_cents } => self.check_deposit(student, *amount_cents, total)?,
            Command::Withdraw { student, amount_cents } => self.check_withdraw(student, *amount_cents, total)?,
            Command::Transfer { from, to, amount_cents } => self.check_transfer(from, to, *amount_cents, total)?,
            _ => total,
        };
        let sum: i64 = self.after.students().map(|s| s.balance_cents).sum();
        prop_assert_eq!(sum, total, "the balances do not add up to what came in and went out");
        Ok(total)
    }

    fn check_deposit(&self, stu: &str, amount: i64, total: i64) -> Result<i64, TestCaseError> {
        if self.before.student(stu).is_none() {
            return self.expect_missing(&[], &[stu]).map(|()| total);
        }
        let expected = self.balance_before(stu) + amount;
        prop_assert_eq!(
            self.outcome(),
            &Outcome::Balance {
                cents: expected,
                fee_cents: 0
            }
        );
        prop_assert_eq!(self.balance_after(stu), expected);
        Ok(total + amount)
    }

    fn check_withdraw(&self, stu: &str, amount: i64, total: i64) -> Result<i64, TestCaseError> {
        if self.before.student(stu).is_none() {
            return self.expect_missing(&[], &[stu]).map(|()| total);
        }
        let left = self.balance_before(stu) - amount;
        let fee = if left < 0 { OVERDRAFT_FEE_CENTS } else { 0 };
        if left - fee < -OVERDRAFT_CENTS_MAX {
            let refused = Outcome::InsufficientFunds {
                balance_cents: self.balance_before(stu),
            };
            prop_assert_eq!(self.outcome(), &refused);
            return Ok(total);
        }
        let Outcome::Balance { cents, fee_cents } = *self.outcome() else {
            return fail(format!("withdraw within the limit answered {:?}", self.outcome()));
        };
        prop_assert_eq!((cents, fee_cents), (left - fee, fee));
        prop_assert_eq!(self.balance_after(stu), cents);
        Ok(total - amount - fee_cents)
    }

    fn check_transfer(&self, from: &str, to: &str, amount: i64, total: i64) -> Result<i64, TestCaseError> {
        if self.before.student(from).is_none() {
            return self.expect_missing(&[], &[from]).map(|()| total);
        }
        // The payer's funds first: a payer who cannot pay learns nothing of the payee.
        let payer = self.balance_before(from);
        if payer < amount {
            prop_assert_eq!(self.outcome(), &Outcome::InsufficientFunds { balance_cents: payer });
            return Ok(total);
        }
        if self.before.student(to).is_none() {
            return self.expect_missing(&[], &[to]).map(|()| total);
        }
        prop_assert_eq!(
            self.outcome(),
            &Outcome::Balance {
                cents: payer - amount,
                fee_cents: 0
            }
        );
        prop_assert_eq!(self.balance_after(from), payer - amount);
        prop_assert_eq!(self.balance_after(to), self.balance_before(to) + amount);
        Ok(total)
    }
}
