//! The criterion of each claim, stated before the experiment runs and computed from its
//! numbers alone: every function here is pure, so a test can feed it fabricated numbers and
//! watch the verdict flip.
//!
//! "Better" means a paired difference over seeds (same data, same initialization) whose 95 %
//! interval lies above zero; a mean difference in the right direction whose interval still
//! covers zero counts only towards "holds in part".

use serde::Serialize;

use super::stats::{Stat, paired, stat};

/// The verdict on one claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The criterion is met.
    Holds,
    /// Part of it is met.
    HoldsInPart,
    /// It is not met.
    DoesNotHold,
}

impl Verdict {
    /// The verdict in words, as the tables show it.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::HoldsInPart => "holds in part",
            Verdict::DoesNotHold => "does not hold here",
        }
    }
}

/// A verdict and the numbers that decided it, in words.
pub type Decision = (Verdict, String);

/// Two effects that should both be positive: both clearly -> holds; both in the right
/// direction, or one clearly -> in part; otherwise does not hold.
fn both(a: &Stat, b: &Stat, what: (&str, &str), unit: Unit) -> Decision {
    let v = if a.above_zero() && b.above_zero() {
        Verdict::Holds
    } else if (a.mean > 0.0 && b.mean > 0.0) || a.above_zero() || b.above_zero() {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    let show = |name: &str, s: &Stat| match unit {
        Unit::Points => format!(
            "{name} {:+.2} points (95 % CI [{:.2}, {:.2}])",
            100.0 * s.mean,
            100.0 * s.lo,
            100.0 * s.hi
        ),
        Unit::Raw => format!("{name} {:+.4} (95 % CI [{:.4}, {:.4}])", s.mean, s.lo, s.hi),
    };
    (v, format!("{}; {}", show(what.0, a), show(what.1, b)))
}

/// How `both` prints its two differences: accuracies as percentage points, other
/// quantities (sparsity, correlation) as they are.
#[derive(Clone, Copy)]
enum Unit {
    Points,
    Raw,
}

/// Claim 1: dropout lowers the gap and raises test accuracy (per-seed values).
pub fn overfitting(gap_none: &[f64], gap_drop: &[f64], acc_none: &[f64], acc_drop: &[f64]) -> Decision {
    both(
        &paired(gap_none, gap_drop),
        &paired(acc_drop, acc_none),
        ("gap reduction", "test accuracy gain"),
        Unit::Points,
    )
}

/// Claim 2: weight scaling within `tol` (error, as a fraction) of the Monte Carlo average.
pub fn weight_scaling(ws_err: &[f64], mc_err: &[f64], tol: f64) -> Decision {
    let d: Vec<f64> = ws_err.iter().zip(mc_err).map(|(a, b)| (a - b).abs()).collect();
    let m = stat(&d).mean;
    let v = if m <= tol {
        Verdict::Holds
    } else if m <= 3.0 * tol {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "mean |weight scaling - MC| = {:.2} points (criterion: at most {:.2}, in part up to {:.2})",
            100.0 * m,
            100.0 * tol,
            300.0 * tol
        ),
    )
}

/// Claim 3: dropout gains over a single network, at least half of what bagging gains.
pub fn bagging(single_err: &[f64], bagged_err: &[f64], dropout_err: &[f64]) -> Decision {
    let bag = paired(single_err, bagged_err);
    let drop = paired(single_err, dropout_err);
    let v = if drop.above_zero() && bag.above_zero() && drop.mean >= 0.5 * bag.mean {
        Verdict::Holds
    } else if drop.mean > 0.0 {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "error reduction over one network: bagging {:.2} points (CI [{:.2}, {:.2}]), dropout {:.2} (CI [{:.2}, {:.2}])",
            100.0 * bag.mean,
            100.0 * bag.lo,
            100.0 * bag.hi,
            100.0 * drop.mean,
            100.0 * drop.lo,
            100.0 * drop.hi
        ),
    )
}

/// Claim 4: dropout needs clearly more epochs to reach the loss, at least 1.5 times as many.
pub fn convergence(epochs_none: &[f64], epochs_drop: &[f64]) -> Decision {
    let d = paired(epochs_drop, epochs_none);
    let ratio = stat(epochs_drop).mean / stat(epochs_none).mean.max(1e-12);
    let v = if d.above_zero() && ratio >= 1.5 {
        Verdict::Holds
    } else if d.mean > 0.0 {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "dropout needs {ratio:.2}x the epochs ({:+.1} epochs, CI [{:.1}, {:.1}]); criterion: clearly more and at least 1.5x",
            d.mean, d.lo, d.hi
        ),
    )
}

/// Claim 5: at the smallest size the gain from dropout is at most half the largest gain over
/// sizes (or a loss); `gains[i]` is the test-accuracy gain at the i-th (increasing) size.
pub fn small_data(sizes: &[usize], gains: &[Stat]) -> Decision {
    let best = gains.iter().map(|g| g.mean).fold(f64::NEG_INFINITY, f64::max);
    let first = gains.first().map(|g| g.mean).unwrap_or(f64::NAN);
    let v = if best > 0.0 && first <= 0.5 * best {
        Verdict::Holds
    } else if first < best {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "gain at {} examples {:+.2} points, largest gain over sizes {:+.2} points (criterion: at most half of it)",
            sizes.first().copied().unwrap_or(0),
            100.0 * first,
            100.0 * best
        ),
    )
}

/// Claim 6: dropout does not raise the test accuracy of a small network.
pub fn underfitting(acc_none: &[f64], acc_drop: &[f64]) -> Decision {
    let d = paired(acc_drop, acc_none);
    let v = if d.mean <= 0.0 {
        Verdict::Holds
    } else if !d.above_zero() {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "test accuracy change with dropout {:+.2} points (CI [{:.2}, {:.2}])",
            100.0 * d.mean,
            100.0 * d.lo,
            100.0 * d.hi
        ),
    )
}

/// Claim 7: the rate validation picks lies in [0.2, 0.5], and its test accuracy lies within
/// the interval of the best rate's.
pub fn rate_by_validation(rates: &[f64], cv: &[f64], test: &[Stat]) -> Decision {
    let argmax = |v: &mut dyn Iterator<Item = f64>| {
        v.enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |b, (i, x)| if x > b.1 { (i, x) } else { b },
            )
            .0
    };
    let cv_best = argmax(&mut cv.iter().copied());
    let test_best = argmax(&mut test.iter().map(|s| s.mean));
    let in_range = (0.2 - 1e-9..=0.5 + 1e-9).contains(&rates[cv_best]);
    let found = test[cv_best].mean >= test[test_best].lo;
    let v = match (in_range, found) {
        (true, true) => Verdict::Holds,
        (false, false) => Verdict::DoesNotHold,
        _ => Verdict::HoldsInPart,
    };
    (
        v,
        format!(
            "validation picks p = {}, the test set would pick p = {}; test accuracy at the picked rate {:.2} % against the best {:.2} % (CI low end {:.2} %)",
            rates[cv_best],
            rates[test_best],
            100.0 * test[cv_best].mean,
            100.0 * test[test_best].mean,
            100.0 * test[test_best].lo
        ),
    )
}

/// Claim 8: rates rising with depth beat falling ones clearly and are the best schedule.
pub fn deeper_rates(increasing: &[f64], constant: &[f64], decreasing: &[f64]) -> Decision {
    let d = paired(increasing, decreasing);
    let top = stat(increasing).mean >= stat(constant).mean.max(stat(decreasing).mean);
    let v = if top && d.above_zero() {
        Verdict::Holds
    } else if d.mean > 0.0 {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "test accuracy: increasing {:.2} %, constant {:.2} %, decreasing {:.2} %; increasing - decreasing {:+.2} points (CI [{:.2}, {:.2}])",
            100.0 * stat(increasing).mean,
            100.0 * stat(constant).mean,
            100.0 * stat(decreasing).mean,
            100.0 * d.mean,
            100.0 * d.lo,
            100.0 * d.hi
        ),
    )
}

/// Claim 9: the better combination (dropout + L2 or + max-norm) beats dropout alone and the
/// better of L2 and max-norm alone (test accuracies per seed).
pub fn combination(
    dropout: &[f64],
    l2: &[f64],
    max_norm: &[f64],
    with_l2: &[f64],
    with_max_norm: &[f64],
) -> Decision {
    let best = |a: &[f64], b: &[f64]| -> Vec<f64> {
        if stat(a).mean >= stat(b).mean {
            a.to_vec()
        } else {
            b.to_vec()
        }
    };
    let combo = best(with_l2, with_max_norm);
    let single = best(l2, max_norm);
    both(
        &paired(&combo, dropout),
        &paired(&combo, &single),
        (
            "best combination - dropout alone",
            "best combination - best penalty alone",
        ),
        Unit::Points,
    )
}

/// Claim 10: dropout makes hidden units sparser and less correlated.
pub fn coadaptation(
    sparsity_none: &[f64],
    sparsity_drop: &[f64],
    corr_none: &[f64],
    corr_drop: &[f64],
) -> Decision {
    both(
        &paired(sparsity_drop, sparsity_none),
        &paired(corr_none, corr_drop),
        ("sparsity increase", "mean |correlation| decrease"),
        Unit::Raw,
    )
}

/// Claim 11: the fraction of dropped units whose weights moved in the step, under plain SGD,
/// SGD with momentum and SGD with weight decay.
pub fn dropped_units(plain: f64, momentum: f64, weight_decay: f64) -> Decision {
    let v = if plain == 0.0 && momentum == 0.0 && weight_decay == 0.0 {
        Verdict::Holds
    } else if plain == 0.0 {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "dropped units whose weights moved: plain SGD {:.0} %, with momentum {:.0} %, with weight decay {:.0} %",
            100.0 * plain,
            100.0 * momentum,
            100.0 * weight_decay
        ),
    )
}

/// Claim 12: each wrong test-time scaling is clearly worse than the right ones: NLL at least
/// 10 % higher or error at least 0.5 points higher. `(name, nll, error)` per choice.
pub fn test_scaling(right: &[(String, f64, f64)], wrong: &[(String, f64, f64)]) -> Decision {
    let nll = right.iter().map(|r| r.1).fold(f64::NEG_INFINITY, f64::max);
    let err = right.iter().map(|r| r.2).fold(f64::NEG_INFINITY, f64::max);
    let worse: Vec<&String> = wrong
        .iter()
        .filter(|w| w.1 >= 1.1 * nll || w.2 >= err + 0.005)
        .map(|w| &w.0)
        .collect();
    let v = if worse.len() == wrong.len() && !wrong.is_empty() {
        Verdict::Holds
    } else if !worse.is_empty() {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    };
    (
        v,
        format!(
            "{} of {} wrong choices clearly worse than the right ones (NLL {:.3}, error {:.2} %)",
            worse.len(),
            wrong.len(),
            nll,
            100.0 * err
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fabricated numbers on both sides of every criterion: the verdict follows them.

    #[test]
    fn overfitting_flips_with_the_numbers() {
        let v = |gd: [f64; 3], ad: [f64; 3]| overfitting(&[0.2, 0.21, 0.19], &gd, &[0.8, 0.81, 0.79], &ad).0;
        assert_eq!(v([0.1, 0.11, 0.09], [0.85, 0.86, 0.84]), Verdict::Holds);
        assert_eq!(v([0.1, 0.11, 0.09], [0.78, 0.80, 0.77]), Verdict::HoldsInPart);
        assert_eq!(v([0.25, 0.26, 0.24], [0.78, 0.80, 0.77]), Verdict::DoesNotHold);
    }

    #[test]
    fn weight_scaling_flips_with_the_distance() {
        assert_eq!(
            weight_scaling(&[0.02, 0.021], &[0.019, 0.02], 0.0015).0,
            Verdict::Holds
        );
        assert_eq!(
            weight_scaling(&[0.02, 0.021], &[0.017, 0.018], 0.0015).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            weight_scaling(&[0.05, 0.05], &[0.02, 0.02], 0.0015).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn bagging_flips() {
        let single = [0.10, 0.11, 0.10];
        let bagged = [0.07, 0.075, 0.07];
        assert_eq!(bagging(&single, &bagged, &[0.08, 0.085, 0.08]).0, Verdict::Holds);
        assert_eq!(
            bagging(&single, &bagged, &[0.095, 0.11, 0.10]).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            bagging(&single, &bagged, &[0.12, 0.12, 0.12]).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn convergence_flips() {
        assert_eq!(
            convergence(&[10.0, 11.0, 10.0], &[20.0, 23.0, 21.0]).0,
            Verdict::Holds
        );
        assert_eq!(
            convergence(&[10.0, 11.0, 10.0], &[11.0, 12.0, 12.0]).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            convergence(&[10.0, 11.0, 10.0], &[9.0, 10.0, 10.0]).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn small_data_flips() {
        let s = |g: &[f64]| {
            g.iter()
                .map(|&m| stat(&[m - 0.01, m, m + 0.01]))
                .collect::<Vec<_>>()
        };
        let sizes = [50, 200, 1000];
        assert_eq!(small_data(&sizes, &s(&[0.0, 0.05, 0.03])).0, Verdict::Holds);
        assert_eq!(
            small_data(&sizes, &s(&[0.04, 0.05, 0.03])).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            small_data(&sizes, &s(&[0.06, 0.05, 0.03])).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn underfitting_flips() {
        let none = [0.80, 0.81, 0.80];
        assert_eq!(underfitting(&none, &[0.78, 0.80, 0.79]).0, Verdict::Holds);
        assert_eq!(underfitting(&none, &[0.79, 0.83, 0.80]).0, Verdict::HoldsInPart);
        assert_eq!(underfitting(&none, &[0.85, 0.86, 0.85]).0, Verdict::DoesNotHold);
    }

    #[test]
    fn rate_by_validation_flips() {
        let rates = [0.0, 0.3, 0.7];
        let t = |m: [f64; 3]| {
            m.iter()
                .map(|&x| stat(&[x - 0.002, x, x + 0.002]))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            rate_by_validation(&rates, &[0.9, 0.95, 0.92], &t([0.9, 0.95, 0.93])).0,
            Verdict::Holds
        );
        assert_eq!(
            rate_by_validation(&rates, &[0.9, 0.91, 0.95], &t([0.9, 0.94, 0.95])).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            rate_by_validation(&rates, &[0.9, 0.91, 0.95], &t([0.9, 0.96, 0.93])).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn deeper_rates_flip() {
        let c = [0.90, 0.91, 0.90];
        assert_eq!(
            deeper_rates(&[0.93, 0.94, 0.93], &c, &[0.89, 0.90, 0.89]).0,
            Verdict::Holds
        );
        assert_eq!(
            deeper_rates(&[0.89, 0.91, 0.90], &c, &[0.89, 0.90, 0.89]).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            deeper_rates(&[0.88, 0.89, 0.88], &c, &[0.89, 0.90, 0.89]).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn combination_flips() {
        let d = [0.95, 0.951, 0.949];
        let l2 = [0.93, 0.931, 0.929];
        let mn = [0.94, 0.941, 0.939];
        assert_eq!(
            combination(&d, &l2, &mn, &[0.96, 0.962, 0.961], &[0.955, 0.956, 0.955]).0,
            Verdict::Holds
        );
        assert_eq!(
            combination(&d, &l2, &mn, &[0.945, 0.946, 0.945], &[0.944, 0.944, 0.944]).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            combination(&d, &l2, &mn, &[0.93, 0.93, 0.93], &[0.935, 0.935, 0.935]).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn coadaptation_flips() {
        let sn = [0.5, 0.51, 0.5];
        let cn = [0.2, 0.21, 0.2];
        assert_eq!(
            coadaptation(&sn, &[0.6, 0.61, 0.6], &cn, &[0.1, 0.11, 0.1]).0,
            Verdict::Holds
        );
        assert_eq!(
            coadaptation(&sn, &[0.6, 0.61, 0.6], &cn, &[0.3, 0.31, 0.3]).0,
            Verdict::HoldsInPart
        );
        assert_eq!(
            coadaptation(&sn, &[0.4, 0.41, 0.4], &cn, &[0.3, 0.31, 0.3]).0,
            Verdict::DoesNotHold
        );
    }

    #[test]
    fn dropped_units_flip() {
        assert_eq!(dropped_units(0.0, 0.0, 0.0).0, Verdict::Holds);
        assert_eq!(dropped_units(0.0, 0.9, 1.0).0, Verdict::HoldsInPart);
        assert_eq!(dropped_units(0.2, 0.9, 1.0).0, Verdict::DoesNotHold);
    }

    #[test]
    fn test_scaling_flips() {
        let right = vec![
            ("1-p".to_string(), 0.10, 0.02),
            ("inverted".to_string(), 0.10, 0.02),
        ];
        let w = |nll: f64, err: f64| vec![("p".to_string(), nll, err), ("none".to_string(), 0.3, 0.05)];
        assert_eq!(test_scaling(&right, &w(0.2, 0.02)).0, Verdict::Holds);
        assert_eq!(test_scaling(&right, &w(0.105, 0.021)).0, Verdict::HoldsInPart);
        let same = vec![("p".to_string(), 0.10, 0.02)];
        assert_eq!(test_scaling(&right, &same).0, Verdict::DoesNotHold);
    }
}
