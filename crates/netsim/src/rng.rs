//! The simulator's random numbers: xoshiro256++ seeded through splitmix64, and the
//! few distributions the models draw from.
//!
//! Written here rather than taken from a crate so that a seed's stream of draws is fixed
//! by this crate alone: an upgrade elsewhere can never change a run. Each model draws
//! from separate streams (arrivals, holding times, choices), so changing one knob, such
//! as adding a kill, leaves the other streams, and so the offered traffic, identical.

/// A seeded generator. Never seeded from the clock: the same seed is the same run.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

/// splitmix64's step: spreads a seed over the 256 bits of xoshiro's state, as its
/// authors recommend, so nearby seeds give unrelated streams.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator for one purpose (`stream`) of the run with `seed`.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut x = seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03);
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        Rng { s }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in 0..n (n > 0), by the multiply-high method: no modulo bias worth
    /// measuring for the n this crate uses (at most a few million).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Exponentially distributed with the given mean (inverse transform; `1 - u` is in
    /// (0, 1], so the logarithm is finite).
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// An index drawn with probability proportional to its weight, from the running
    /// sums of the weights (`cumulative`, increasing, last one positive).
    pub fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = *cumulative.last().expect("weights are not empty");
        let x = self.unit() * total;
        cumulative.partition_point(|&c| c <= x).min(cumulative.len() - 1)
    }
}

/// Running sums of `weights`, for [`Rng::weighted`].
pub fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .into_iter()
        .map(|w| {
            assert!(w >= 0.0 && w.is_finite(), "a weight is not a non-negative number");
            sum += w;
            sum
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, 1).next_u64()).collect();
        let mut r = Rng::new(7, 1);
        assert_eq!(r.next_u64(), a[0]);
        assert_ne!(Rng::new(7, 2).next_u64(), a[0]);
        assert_ne!(Rng::new(8, 1).next_u64(), a[0]);
    }

    #[test]
    fn draws_have_the_right_means() {
        let mut r = Rng::new(1, 0);
        let n = 200_000;
        let unit: f64 = (0..n).map(|_| r.unit()).sum::<f64>() / f64::from(n);
        let exp: f64 = (0..n).map(|_| r.exp(3.0)).sum::<f64>() / f64::from(n);
        let below: f64 = (0..n).map(|_| r.below(10) as f64).sum::<f64>() / f64::from(n);
        assert!((unit - 0.5).abs() < 0.005, "{unit}");
        assert!((exp - 3.0).abs() < 0.03, "{exp}");
        assert!((below - 4.5).abs() < 0.03, "{below}");
        let cum = cumulative([1.0, 0.0, 3.0]);
        let hits = (0..n).filter(|_| r.weighted(&cum) == 2).count() as f64 / f64::from(n);
        assert!((hits - 0.75).abs() < 0.01, "{hits}");
    }
}
