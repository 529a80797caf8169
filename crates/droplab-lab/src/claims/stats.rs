//! Means over seeds with 95 % t-intervals, and paired differences.

use serde::Serialize;

/// A mean over seeds with its 95 % confidence interval (Student's t).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stat {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation.
    pub sd: f64,
    /// Lower end of the 95 % interval of the mean.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Values (seeds).
    pub n: usize,
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    if df == 0 {
        f64::INFINITY
    } else {
        T.get(df - 1).copied().unwrap_or(1.96)
    }
}

/// The mean of `v` with its interval; one value gives an unbounded interval.
pub fn stat(v: &[f64]) -> Stat {
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n.max(1) as f64;
    let sd = if n > 1 {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let half = if n > 1 {
        t975(n - 1) * sd / (n as f64).sqrt()
    } else {
        f64::INFINITY
    };
    Stat {
        mean,
        sd,
        lo: mean - half,
        hi: mean + half,
        n,
    }
}

/// The paired differences `a[i] - b[i]` (same seed, same data) with their interval.
pub fn paired(a: &[f64], b: &[f64]) -> Stat {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    stat(&d)
}

impl Stat {
    /// The whole interval lies above zero.
    pub fn above_zero(&self) -> bool {
        self.lo > 0.0
    }

    /// `mean [lo, hi]` times `scale` (100 for percentages).
    pub fn show(&self, scale: f64, digits: usize) -> String {
        if self.n > 1 {
            format!(
                "{:.d$} [{:.d$}, {:.d$}]",
                self.mean * scale,
                self.lo * scale,
                self.hi * scale,
                d = digits
            )
        } else {
            format!("{:.d$}", self.mean * scale, d = digits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_known_samples() {
        // mean 2, sd 1, n 3: half-width 4.303 / sqrt(3) = 2.4843.
        let s = stat(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, 2.0);
        assert!((s.sd - 1.0).abs() < 1e-12);
        assert!((s.hi - 2.0 - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        let p = paired(&[3.0, 4.0, 5.0], &[1.0, 2.0, 3.5]);
        assert!(p.mean > 0.0 && p.above_zero());
        assert!(!stat(&[1.0]).above_zero(), "one value proves nothing");
    }
}
