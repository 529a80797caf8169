//! Which searched parameters the score depends on: each parameter's main-effect share.
//!
//! For parameter `j`, the finished trials are grouped by its value (a category each, or up to
//! [`BINS`] bins of equal counts for numbers, in log space for a log-uniform range), and the
//! share of the scores' variance that lies between the groups is
//! `eta² = SS_between / SS_total` (the correlation ratio of a one-way analysis of variance).
//! It is the first-order effect that fANOVA estimates on a fitted surrogate, taken here on the
//! trials themselves: 1 when the score is a function of `j` alone, near 0 when `j` does not
//! matter. With few trials per group it is biased upwards (a group of one trial explains its
//! own noise), so the study reports it beside the number of trials it rests on.

use serde_json::Value;

use crate::space::{Dist, Space};
use crate::store::TrialRecord;

/// Groups a numeric parameter's values fall into at most.
pub const BINS: usize = 4;

/// The main-effect share of each parameter of `space` over the trials with a score, in the
/// space's order. `None` for a parameter when fewer than 3 scored trials exist or the scores
/// do not vary.
pub fn main_effects(space: &Space, trials: &[TrialRecord]) -> Vec<(String, Option<f64>)> {
    let scored: Vec<&TrialRecord> = trials
        .iter()
        .filter(|t| t.score.is_some_and(f64::is_finite))
        .collect();
    let scores: Vec<f64> = scored.iter().map(|t| t.score.expect("scored")).collect();
    let n = scores.len();
    let mean = scores.iter().sum::<f64>() / n.max(1) as f64;
    let total: f64 = scores.iter().map(|s| (s - mean).powi(2)).sum();
    space
        .params
        .iter()
        .map(|p| {
            if n < 3 || total <= 0.0 {
                return (p.path.clone(), None);
            }
            let groups = groups_of(&p.dist, scored.iter().map(|t| t.params.get(&p.path)));
            let mut sums: std::collections::BTreeMap<usize, (f64, usize)> = Default::default();
            for (g, s) in groups.iter().zip(&scores) {
                let e = sums.entry(*g).or_default();
                *e = (e.0 + s, e.1 + 1);
            }
            let between: f64 = sums
                .values()
                .map(|&(sum, k)| k as f64 * (sum / k as f64 - mean).powi(2))
                .sum();
            (p.path.clone(), Some(between / total))
        })
        .collect()
}

/// The group of each trial's value: its category, or its bin of equal counts.
fn groups_of<'a>(dist: &Dist, values: impl Iterator<Item = Option<&'a Value>>) -> Vec<usize> {
    let values: Vec<Option<&Value>> = values.collect();
    let numbers: Option<Vec<f64>> = values.iter().map(|v| v.and_then(Value::as_f64)).collect();
    match (dist, numbers) {
        (Dist::Uniform { .. } | Dist::LogUniform { .. } | Dist::Int { .. } | Dist::List { .. }, Some(x)) => {
            let key = |v: f64| {
                if matches!(dist, Dist::LogUniform { .. }) {
                    v.ln()
                } else {
                    v
                }
            };
            let mut order: Vec<usize> = (0..x.len()).collect();
            order.sort_by(|&a, &b| key(x[a]).total_cmp(&key(x[b])));
            let distinct = {
                let mut d: Vec<f64> = x.clone();
                d.sort_by(f64::total_cmp);
                d.dedup();
                d.len()
            };
            let bins = BINS.min(distinct).max(1);
            let mut g = vec![0; x.len()];
            for (rank, &i) in order.iter().enumerate() {
                g[i] = rank * bins / x.len();
            }
            // Equal values share a group (the lowest rank's).
            for &i in &order {
                if let Some(&j) = order.iter().find(|&&j| x[j] == x[i]) {
                    g[i] = g[j];
                }
            }
            g
        }
        _ => {
            let mut seen: Vec<String> = Vec::new();
            values
                .iter()
                .map(|v| {
                    let s = v.map(|v| v.to_string()).unwrap_or_default();
                    seen.iter().position(|x| *x == s).unwrap_or_else(|| {
                        seen.push(s);
                        seen.len() - 1
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Param;
    use crate::store::TrialState;

    fn trial(a: f64, b: &str, score: f64) -> TrialRecord {
        let mut params = serde_json::Map::new();
        params.insert("a".into(), Value::from(a));
        params.insert("b".into(), Value::from(b));
        TrialRecord {
            number: 0,
            params,
            state: TrialState::Done,
            score: Some(score),
            score_std: None,
            train_score: None,
            folds: Vec::new(),
            attempts: 1,
            worker: None,
            error: None,
            seconds: None,
            coordination_ms: None,
        }
    }

    fn space() -> Space {
        Space {
            params: vec![
                Param {
                    path: "a".into(),
                    dist: Dist::Uniform { low: 0.0, high: 1.0 },
                },
                Param {
                    path: "b".into(),
                    dist: Dist::Choice {
                        values: vec![Value::from("x"), Value::from("y")],
                    },
                },
            ],
        }
    }

    #[test]
    fn the_share_is_the_variance_between_groups_over_the_total() {
        // The score is 10 * a; b alternates and carries nothing.
        let trials: Vec<TrialRecord> = (0..8)
            .map(|i| {
                trial(
                    i as f64 / 8.0,
                    if i % 2 == 0 { "x" } else { "y" },
                    10.0 * i as f64 / 8.0,
                )
            })
            .collect();
        let e = main_effects(&space(), &trials);
        // a in 4 bins of 2: bin means 0.625, 3.125, 5.625, 8.125 around 4.375; SS_between =
        // 2 * (3.75² + 1.25² + 1.25² + 3.75²) = 62.5; SS_total = sum (1.25 i - 4.375)² = 65.625.
        let a = e[0].1.unwrap();
        assert!((a - 62.5 / 65.625).abs() < 1e-12, "{e:?}");
        // b: x holds i = 0, 2, 4, 6 (mean 3.75), y holds 1, 3, 5, 7 (mean 5): SS_between =
        // 4 * 0.625² * 2 = 3.125.
        let b = e[1].1.unwrap();
        assert!((b - 3.125 / 65.625).abs() < 1e-12, "{e:?}");
        // Too few trials, or scores that do not vary: no share.
        assert_eq!(main_effects(&space(), &trials[..2])[0].1, None);
        let flat: Vec<TrialRecord> = (0..5).map(|i| trial(i as f64, "x", 1.0)).collect();
        assert_eq!(main_effects(&space(), &flat)[1].1, None);
    }
}
