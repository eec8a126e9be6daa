//! The bursar: deposits, withdrawals (the lecture's overdraft fee) and transfers. A
//! negative balance is a hold; paying it off may make the student promotable.

use super::{State, no_student};
use crate::outcome::{Effects, Outcome};

/// A withdrawal that leaves the balance negative costs the lecture's 30 bucks.
pub const OVERDRAFT_FEE_CENTS: i64 = 3_000;
/// How far below zero a withdrawal (fee included) may take a balance.
pub const OVERDRAFT_CENTS_MAX: i64 = 50_000;
/// Balances stay far from i64 overflow.
pub const BALANCE_CENTS_MAX: i64 = 1_000_000_000_000;

impl State {
    pub(super) fn deposit(&mut self, stu: &str, amount: i64, fx: &mut Effects) -> Outcome {
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        let balance = student.balance_cents + amount;
        if balance > BALANCE_CENTS_MAX {
            return Outcome::BalanceLimit;
        }
        self.set_balance(stu, balance, fx);
        Outcome::Balance {
            cents: balance,
            fee_cents: 0,
        }
    }

    pub(super) fn withdraw(&mut self, stu: &str, amount: i64) -> Outcome {
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        let mut balance = student.balance_cents - amount;
        let fee_cents = if balance < 0 { OVERDRAFT_FEE_CENTS } else { 0 };
        balance -= fee_cents;
        if balance < -OVERDRAFT_CENTS_MAX {
            return Outcome::InsufficientFunds {
                balance_cents: student.balance_cents,
            };
        }
        self.student_mut(stu).balance_cents = balance;
        Outcome::Balance {
            cents: balance,
            fee_cents,
        }
    }

    /// Never overdraws, and moves exactly `amount` from one student to the other.
    pub(super) fn transfer(&mut self, from: &str, to: &str, amount: i64, fx: &mut Effects) -> Outcome {
        let Some(payer) = self.students.get(from) else {
            return no_student(from);
        };
        // The payer's funds before the payee's existence: a sender who could not pay
        // learns nothing about whether the payee is a student (ids are not enumerable).
        if payer.balance_cents < amount {
            return Outcome::InsufficientFunds {
                balance_cents: payer.balance_cents,
            };
        }
        let Some(payee) = self.students.get(to) else {
            return no_student(to);
        };
        if payee.balance_cents + amount > BALANCE_CENTS_MAX {
            return Outcome::BalanceLimit;
        }
        let (payer_balance, payee_balance) = (payer.balance_cents - amount, payee.balance_cents + amount);
        self.student_mut(from).balance_cents = payer_balance;
        self.set_balance(to, payee_balance, fx);
        Outcome::Balance {
            cents: payer_balance,
            fee_cents: 0,
        }
    }

    /// Sets a balance that went up; paying off a hold may make the student promotable.
    fn set_balance(&mut self, stu: &str, balance: i64, fx: &mut Effects) {
        let was_hold = self.students[stu].balance_cents < 0;
        self.student_mut(stu).balance_cents = balance;
        if was_hold && balance >= 0 {
            self.promote_for(stu, fx);
        }
    }
}
