//! Seeded splits (train / validation / test, k-fold, subsets) and feature scaling.
//!
//! Every split is a pure function of `(targets, sizes, seed, name)`: shuffles come from a
//! [`SeqRng`] on a [`Stream`] derived from the seed, never from an OS-seeded generator, so
//! a run record that stores the seed reproduces the exact split.
//!
//! Classification targets are split *per class* so that each part keeps the class
//! proportions of the whole (within one example per class); regression targets get a plain
//! seeded shuffle. Returned index lists are in seeded random order, not sorted and not
//! grouped by class.
//!
//! The scalers ([`Standardizer`], [`MinMax`]) must be fitted on the training split only and
//! then applied to every split: fitting on validation or test data would leak their
//! statistics into training and bias the reported scores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::nn::Targets;
use crate::rng::{SeqRng, Stream};
use crate::tensor::Tensor;

/// Fractions may sum to at most `1 + SUM_TOLERANCE` (so `0.7 + 0.2 + 0.1` is accepted).
const SUM_TOLERANCE: f64 = 1e-9;

/// Indices grouped by class (in class order), or one group of all indices for regression;
/// each group shuffled with its own stream so that one class's size does not change
/// another's order.
fn shuffled_groups(y: &Targets, stream: Stream) -> Vec<Vec<usize>> {
    let mut groups: Vec<(u64, Vec<usize>)> = match y {
        Targets::Classes(c) => {
            // A map, not a vector indexed by label: labels may be sparse.
            let mut by_class: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for (i, &label) in c.iter().enumerate() {
                by_class.entry(label).or_default().push(i);
            }
            by_class.into_iter().map(|(k, v)| (k as u64, v)).collect()
        }
        Targets::Values(t) => vec![(0, (0..t.rows()).collect())],
    };
    for (tag, g) in &mut groups {
        stream.derive("group").derive_u64(*tag).seq().shuffle(g);
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// Deals each group into parts with weights `w` (summing to 1).
///
/// Per group, each part gets the floor of its quota `n_group * w` plus at most one extra
/// example, so every part is within one example of its share of every class. The extras
/// go to the parts whose *cumulative* quota over the groups seen so far is least met, so
/// that part totals also stay close to `n * w` instead of drifting by one per class.
fn deal(groups: &[Vec<usize>], w: &[f64]) -> Vec<Vec<usize>> {
    let mut parts: Vec<Vec<usize>> = vec![Vec::new(); w.len()];
    let mut cum_quota = vec![0.0f64; w.len()];
    for g in groups {
        let n = g.len();
        let mut counts: Vec<usize> = w.iter().map(|&wi| (wi * n as f64).floor() as usize).collect();
        for (q, &wi) in cum_quota.iter_mut().zip(w) {
            *q += wi * n as f64;
        }
        let mut extra = vec![false; w.len()];
        let mut left = n.saturating_sub(counts.iter().sum());
        while left > 0 {
            let deficit = |i: usize| cum_quota[i] - (parts[i].len() + counts[i]) as f64;
            let pick = (0..w.len())
                .filter(|&i| !extra[i] && w[i] > 0.0)
                .max_by(|&a, &b| deficit(a).total_cmp(&deficit(b)).then(b.cmp(&a)))
                // Only reachable through rounding noise: fall back to the heaviest part.
                .unwrap_or_else(|| (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])).unwrap_or(0));
            counts[pick] += 1;
            extra[pick] = true;
            left -= 1;
        }
        let mut start = 0;
        for (part, &c) in parts.iter_mut().zip(&counts) {
            let end = (start + c).min(n);
            part.extend_from_slice(&g[start..end]);
            start = end;
        }
    }
    parts
}

/// Splits the examples into disjoint parts of the given fractions of the whole.
///
/// Fractions must each lie in `[0, 1]` and sum to at most 1 (examples beyond the sum are in
/// no part): `[0.8, 0.1, 0.1]` gives train, validation and test. For class targets the split
/// is stratified: every part holds within one example of its fraction of every class.
/// `name` selects the random stream, so different splits of the same run are independent.
/// Each returned list is in seeded random order.
pub fn stratified_split(y: &Targets, fractions: &[f64], seed: u64, name: &str) -> Result<Vec<Vec<usize>>> {
    if fractions.is_empty() {
        return Err(Error::config("split.fractions", "give at least one fraction"));
    }
    for (i, &f) in fractions.iter().enumerate() {
        check::in_range(&format!("split.fractions[{i}]"), f, 0.0, 1.0)?;
    }
    let sum: f64 = fractions.iter().sum();
    if sum > 1.0 + SUM_TOLERANCE {
        return Err(Error::config(
            "split.fractions",
            format!("fractions {fractions:?} sum to {sum}, more than 1; reduce them"),
        ));
    }
    // The examples left out form a hidden last part, so they are left out evenly per class.
    let mut w: Vec<f64> = fractions.to_vec();
    let rest = 1.0 - sum;
    if rest > SUM_TOLERANCE {
        w.push(rest);
    }
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);

    let stream = Stream::new(seed, name);
    let mut parts = deal(&shuffled_groups(y, stream), &w);
    parts.truncate(fractions.len());
    // Dealing concatenates classes; shuffle so batches in part order are not class-sorted.
    for (i, p) in parts.iter_mut().enumerate() {
        stream.derive("part").derive_u64(i as u64).seq().shuffle(p);
    }
    Ok(parts)
}

/// Checks `2 <= k <= n` for k-fold splits.
fn check_k(k: usize, n: usize) -> Result<()> {
    if k < 2 || k > n {
        return Err(Error::config(
            "kfold.k",
            format!("k = {k} folds need 2 <= k <= {n} (the number of examples)"),
        ));
    }
    Ok(())
}

/// `(train, validation)` pairs from disjoint folds; training lists in seeded random order.
fn pairs(folds: &[Vec<usize>], mut rng: SeqRng) -> Vec<(Vec<usize>, Vec<usize>)> {
    (0..folds.len())
        .map(|f| {
            let mut train: Vec<usize> = folds
                .iter()
                .enumerate()
                .filter(|&(g, _)| g != f)
                .flat_map(|(_, v)| v.iter().copied())
                .collect();
            rng.shuffle(&mut train);
            (train, folds[f].clone())
        })
        .collect()
}

/// K-fold cross-validation over `n` examples: `k` `(train, validation)` pairs whose
/// validation folds partition `0..n` with sizes differing by at most one.
pub fn kfold(n: usize, k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    check_k(k, n)?;
    let stream = Stream::new(seed, "kfold");
    let mut order: Vec<usize> = (0..n).collect();
    stream.seq().shuffle(&mut order);
    let mut folds = Vec::with_capacity(k);
    let mut start = 0;
    for f in 0..k {
        let len = n / k + usize::from(f < n % k);
        folds.push(order[start..start + len].to_vec());
        start += len;
    }
    Ok(pairs(&folds, stream.derive("train").seq()))
}

/// Stratified k-fold: like [`kfold`], but each validation fold holds within one example of
/// `1/k` of every class. Regression targets fall back to [`kfold`]. A class with fewer than
/// `k` examples is absent from some folds.
pub fn stratified_kfold(y: &Targets, k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    if let Targets::Values(_) = y {
        return kfold(y.len(), k, seed);
    }
    check_k(k, y.len())?;
    let stream = Stream::new(seed, "stratified_kfold");
    // Dealing the class-ordered list round-robin gives every fold floor or ceil of each
    // class's share, and fold sizes that differ by at most one.
    let mut folds = vec![Vec::new(); k];
    for (j, i) in shuffled_groups(y, stream).into_iter().flatten().enumerate() {
        folds[j % k].push(i);
    }
    for (f, fold) in folds.iter_mut().enumerate() {
        stream.derive("fold").derive_u64(f as u64).seq().shuffle(fold);
    }
    Ok(pairs(&folds, stream.derive("train").seq()))
}

/// A stratified subset of exactly `n` examples (for training on fewer examples), in seeded
/// random order. Each class gets the floor or the ceiling of its share `n * n_class / len`,
/// by largest remainder (ties to the lower class label).
pub fn subset(y: &Targets, n: usize, seed: u64) -> Result<Vec<usize>> {
    if n == 0 || n > y.len() {
        return Err(Error::config(
            "subset",
            format!(
                "size {n} must be between 1 and the {} examples available",
                y.len()
            ),
        ));
    }
    let stream = Stream::new(seed, "subset");
    let groups = shuffled_groups(y, stream);
    let total = y.len() as f64;
    let quota: Vec<f64> = groups.iter().map(|g| n as f64 * g.len() as f64 / total).collect();
    let mut counts: Vec<usize> = quota.iter().map(|q| q.floor() as usize).collect();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        (quota[b] - quota[b].floor())
            .total_cmp(&(quota[a] - quota[a].floor()))
            .then(a.cmp(&b))
    });
    // Remainders sum to `n - sum(floors)`, fewer than the groups, so one pass suffices;
    // the `min` only guards against rounding noise.
    let mut left = n.saturating_sub(counts.iter().sum());
    for &g in order.iter().cycle().take(2 * groups.len()) {
        if left == 0 {
            break;
        }
        if counts[g] < groups[g].len() {
            counts[g] += 1;
            left -= 1;
        }
    }
    let mut out: Vec<usize> = groups
        .iter()
        .zip(&counts)
        .flat_map(|(g, &c)| g[..c.min(g.len())].iter().copied())
        .collect();
    stream.derive("order").seq().shuffle(&mut out);
    Ok(out)
}

/// Per-feature standardization `(x - mean) / std`, fitted on the training split only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each feature over the training rows.
    pub mean: Vec<f32>,
    /// Population standard deviation of each feature; 1 for (near-)constant features, so
    /// they map to 0 instead of being blown up by a tiny divisor.
    pub std: Vec<f32>,
}

/// Column means and population standard deviations, accumulated in f64.
fn column_moments(x: &Tensor) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = (x.rows(), x.cols());
    let mut mean = vec![0.0f64; d];
    for r in 0..n {
        for (m, &v) in mean.iter_mut().zip(x.row(r)) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    // Two passes: the one-pass formula loses precision when the mean is large.
    let mut var = vec![0.0f64; d];
    for r in 0..n {
        for ((s, &v), &m) in var.iter_mut().zip(x.row(r)).zip(&mean) {
            *s += (v as f64 - m).powi(2);
        }
    }
    var.iter_mut().for_each(|s| *s /= n.max(1) as f64);
    (mean, var)
}

/// The feature count of a fitted scaler must match the data it is applied to.
fn check_width(what: &str, fitted: usize, x: &Tensor) -> Result<()> {
    if x.cols() != fitted {
        return Err(Error::ShapeMismatch {
            context: format!("{what}: features of the data vs. the fitted scaler"),
            expected: vec![fitted],
            got: vec![x.cols()],
        });
    }
    Ok(())
}

impl Standardizer {
    /// Fits the mean and standard deviation of each feature column over the rows of `x`.
    pub fn fit(x: &Tensor) -> Self {
        let (mean, var) = column_moments(x);
        let std = var
            .iter()
            .map(|&v| if v.sqrt() < 1e-6 { 1.0 } else { v.sqrt() as f32 })
            .collect();
        Standardizer {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    /// Standardizes `x` in place; its feature count must match the fitted one.
    pub fn apply(&self, x: &mut Tensor) -> Result<()> {
        check_width("Standardizer::apply", self.mean.len(), x)?;
        for r in 0..x.rows() {
            for ((v, &m), &s) in x.row_mut(r).iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        Ok(())
    }
}

/// Per-feature min-max scaling to `[0, 1]`, fitted on the training split only. Other
/// splits may fall outside `[0, 1]`; values are not clipped, so that is visible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMax {
    /// Minimum of each feature over the training rows.
    pub min: Vec<f32>,
    /// Maximum of each feature over the training rows.
    pub max: Vec<f32>,
}

impl MinMax {
    /// Fits the minimum and maximum of each feature column over the rows of `x`.
    pub fn fit(x: &Tensor) -> Self {
        let d = x.cols();
        let (mut min, mut max) = (vec![f32::INFINITY; d], vec![f32::NEG_INFINITY; d]);
        for r in 0..x.rows() {
            for ((lo, hi), &v) in min.iter_mut().zip(max.iter_mut()).zip(x.row(r)) {
                *lo = lo.min(v);
                *hi = hi.max(v);
            }
        }
        // No rows: an identity-like fit rather than infinities.
        if x.rows() == 0 {
            min.fill(0.0);
            max.fill(1.0);
        }
        MinMax { min, max }
    }

    /// Maps `x` in place with `(x - min) / (max - min)`; constant features map to 0.
    pub fn apply(&self, x: &mut Tensor) -> Result<()> {
        check_width("MinMax::apply", self.min.len(), x)?;
        for r in 0..x.rows() {
            for ((v, &lo), &hi) in x.row_mut(r).iter_mut().zip(&self.min).zip(&self.max) {
                let span = hi - lo;
                *v = if span > 0.0 { (*v - lo) / span } else { 0.0 };
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels 0, 1, 2 with 50, 33 and 17 examples, interleaved.
    fn labels() -> Targets {
        let mut y = Vec::new();
        for i in 0..100u32 {
            y.push(if i % 2 == 0 {
                0
            } else if i % 3 == 0 {
                2
            } else {
                1
            });
        }
        Targets::Classes(y)
    }

    fn counts(y: &Targets, idx: &[usize]) -> BTreeMap<u32, usize> {
        let c = y.classes().unwrap();
        let mut m = BTreeMap::new();
        for &i in idx {
            *m.entry(c[i]).or_insert(0) += 1;
        }
        m
    }

    #[test]
    fn stratified_split_is_disjoint_proportional_and_seeded() {
        let y = labels();
        let whole = counts(&y, &(0..100).collect::<Vec<_>>());
        for fr in [&[0.6, 0.2, 0.2][..], &[0.7, 0.15], &[0.5], &[0.7, 0.2, 0.1]] {
            let parts = stratified_split(&y, fr, 7, "split").unwrap();
            assert_eq!(parts.len(), fr.len());
            let mut seen = [false; 100];
            for (p, &f) in parts.iter().zip(fr) {
                for &i in p {
                    assert!(!seen[i], "index {i} in two parts");
                    seen[i] = true;
                }
                // Within one example of the share of every class...
                let got = counts(&y, p);
                for (c, &n_c) in &whole {
                    let have = got.get(c).copied().unwrap_or(0) as f64;
                    assert!((have - n_c as f64 * f).abs() < 1.0 + 1e-9, "{fr:?} class {c}");
                }
                // ...and close to the requested size overall.
                assert!((p.len() as f64 - 100.0 * f).abs() <= 2.0, "{fr:?}: {}", p.len());
                // Seeded random order, not index or class order.
                assert!(p.len() < 3 || p.windows(2).any(|w| w[0] > w[1]));
            }
            if (fr.iter().sum::<f64>() - 1.0).abs() < 1e-9 {
                assert!(seen.iter().all(|&s| s), "{fr:?} must cover everything");
            }
        }
        let a = stratified_split(&y, &[0.8, 0.2], 7, "split").unwrap();
        assert_eq!(a, stratified_split(&y, &[0.8, 0.2], 7, "split").unwrap());
        assert_ne!(a, stratified_split(&y, &[0.8, 0.2], 8, "split").unwrap());
        assert_ne!(a, stratified_split(&y, &[0.8, 0.2], 7, "other").unwrap());
    }

    #[test]
    fn regression_split_is_a_plain_shuffle() {
        let y = Targets::Values(Tensor::zeros(&[10, 1]));
        let parts = stratified_split(&y, &[0.7, 0.3], 1, "s").unwrap();
        assert_eq!((parts[0].len(), parts[1].len()), (7, 3));
        let mut all: Vec<usize> = parts.concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn bad_fractions_are_rejected() {
        let y = labels();
        for fr in [&[][..], &[-0.1], &[1.5], &[f64::NAN], &[0.7, 0.4]] {
            assert!(stratified_split(&y, fr, 0, "s").is_err(), "{fr:?}");
        }
        let e = stratified_split(&y, &[0.7, 0.4], 0, "s").unwrap_err().to_string();
        assert!(e.contains("more than 1"), "{e}");
    }

    #[test]
    fn kfold_partitions_the_data() {
        for (n, k) in [(10, 3), (7, 7), (100, 5)] {
            let folds = kfold(n, k, 3).unwrap();
            assert_eq!(folds.len(), k);
            let mut seen = vec![0; n];
            for (train, val) in &folds {
                assert_eq!(train.len() + val.len(), n);
                assert!(val.len() == n / k || val.len() == n / k + 1);
                let mut all: Vec<usize> = train.iter().chain(val).copied().collect();
                all.sort();
                assert_eq!(all, (0..n).collect::<Vec<_>>());
                val.iter().for_each(|&i| seen[i] += 1);
            }
            assert!(seen.iter().all(|&s| s == 1));
        }
        assert_eq!(kfold(10, 3, 3).unwrap(), kfold(10, 3, 3).unwrap());
        assert_ne!(kfold(10, 3, 3).unwrap(), kfold(10, 3, 4).unwrap());
        assert!(kfold(10, 1, 0).is_err());
        assert!(kfold(3, 4, 0).is_err());
    }

    #[test]
    fn stratified_kfold_balances_classes() {
        let y = labels();
        let whole = counts(&y, &(0..100).collect::<Vec<_>>());
        let folds = stratified_kfold(&y, 4, 9).unwrap();
        let mut seen = vec![0; 100];
        for (train, val) in &folds {
            assert_eq!(train.len() + val.len(), 100);
            let got = counts(&y, val);
            for (c, &n_c) in &whole {
                let have = got.get(c).copied().unwrap_or(0) as f64;
                assert!((have - n_c as f64 / 4.0).abs() < 1.0, "class {c}");
            }
            val.iter().for_each(|&i| seen[i] += 1);
        }
        assert!(seen.iter().all(|&s| s == 1));
        assert!(stratified_kfold(&y, 101, 0).is_err());
        let r = Targets::Values(Tensor::zeros(&[6, 1]));
        assert_eq!(stratified_kfold(&r, 3, 1).unwrap(), kfold(6, 3, 1).unwrap());
    }

    #[test]
    fn subset_is_exact_and_stratified() {
        let y = labels();
        for n in [1, 10, 33, 99, 100] {
            let s = subset(&y, n, 5).unwrap();
            assert_eq!(s.len(), n);
            let got = counts(&y, &s);
            for (c, n_c) in counts(&y, &(0..100).collect::<Vec<_>>()) {
                let have = got.get(&c).copied().unwrap_or(0) as f64;
                assert!(
                    (have - n as f64 * n_c as f64 / 100.0).abs() < 1.0,
                    "n {n} class {c}"
                );
            }
            let mut u = s.clone();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), n);
        }
        assert!(subset(&y, 0, 0).is_err());
        assert!(subset(&y, 101, 0).is_err());
    }

    #[test]
    fn standardizer_fitted_on_train() {
        let mut rng = Stream::new(1, "data").seq();
        let data: Vec<f32> = (0..300)
            .map(|i| match i % 3 {
                0 => 5.0 + 3.0 * rng.normal(),
                1 => 1000.0 + rng.uniform(),
                _ => 2.5,
            })
            .collect();
        let mut x = Tensor::from_vec(&[100, 3], data).unwrap();
        let s = Standardizer::fit(&x);
        assert_eq!(s.std[2], 1.0);
        s.apply(&mut x).unwrap();
        let t = Standardizer::fit(&x);
        for j in 0..2 {
            assert!(t.mean[j].abs() < 1e-4, "{t:?}");
            assert!((t.std[j] - 1.0).abs() < 1e-3, "{t:?}");
        }
        assert!(x.data().iter().skip(2).step_by(3).all(|&v| v == 0.0));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Standardizer>(&json).unwrap(), s);
        assert!(s.apply(&mut Tensor::zeros(&[2, 4])).is_err());
    }

    #[test]
    fn minmax_maps_train_to_unit_interval() {
        let mut x = Tensor::from_vec(&[3, 2], vec![1.0, 7.0, 3.0, 7.0, 2.0, 7.0]).unwrap();
        let m = MinMax::fit(&x);
        m.apply(&mut x).unwrap();
        assert_eq!(x.data(), &[0.0, 0.0, 1.0, 0.0, 0.5, 0.0]);
        let mut other = Tensor::from_vec(&[1, 2], vec![5.0, 9.0]).unwrap();
        m.apply(&mut other).unwrap();
        assert_eq!(other.data(), &[2.0, 0.0]);
        assert!(m.apply(&mut Tensor::zeros(&[1, 3])).is_err());
    }
}
