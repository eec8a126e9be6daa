//! The Erlang B formula: the probability that a call offered to a group of `n` trunks,
//! carrying Poisson traffic of `a` erlangs with any holding-time distribution, finds
//! every trunk busy and is lost. The phone companies planned their trunks with it.

/// Erlang B by its stable recurrence, `B(0) = 1`, `B(k) = a B(k-1) / (k + a B(k-1))`,
/// which never forms the factorials and powers of the closed form (those overflow past
/// a few hundred trunks) and keeps every step in [0, 1].
pub fn erlang_b(trunks: u32, erlangs: f64) -> f64 {
    assert!(
        erlangs >= 0.0 && erlangs.is_finite(),
        "offered load is a non-negative number"
    );
    let mut b = 1.0;
    for k in 1..=trunks {
        let ab = erlangs * b;
        b = ab / (f64::from(k) + ab);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Closed form for small n: B(1, a) = a / (1 + a); B(2, 1) = 0.5 / 2.5.
        assert!((erlang_b(1, 3.0) - 0.75).abs() < 1e-12);
        assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-12);
        // Tables: 10 trunks at 5 erlangs block 1.84%; 50 trunks at 40 erlangs 1.87%.
        assert!((erlang_b(10, 5.0) - 0.018_385).abs() < 1e-5);
        assert!((erlang_b(50, 40.0) - 0.018_691).abs() < 1e-5);
        assert_eq!(erlang_b(0, 2.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
        assert!(erlang_b(2000, 1900.0) > 0.0);
    }
}
