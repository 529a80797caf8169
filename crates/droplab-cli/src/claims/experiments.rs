//! The twelve experiments. Each returns its numbers (per seed, in `numbers`), a table, a plot
//! and the verdict its criterion computes from those numbers.

use droplab::analysis::coadaptation::{hidden_activations, layer_stats};
use droplab::analysis::ensemble::error_rate;
use droplab::analysis::uncertainty::McSamples;
use droplab::data::split::stratified_kfold;
use droplab::nn::{Mode, Targets};
use droplab::regularize::Convention;
use droplab::rng::Stream;
use droplab::train::{Stepper, predict_proba};
use droplab_report::{CurvePoint, Interval, IntervalSeries, interval_svg, validation_curve_svg};
use serde_json::json;

use super::lab::{Lab, Net, Trained};
use super::stats::{Stat, paired, stat};
use super::verdict::{self, Decision};
use crate::error::{CliError, CliResult};
use droplab_lab::data as dataset;

/// What one experiment produced.
pub struct Outcome {
    pub setup: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub decision: Decision,
    pub numbers: serde_json::Value,
    pub svg: Option<String>,
}

fn plot_err(e: droplab_report::ReportError) -> CliError {
    CliError::runtime(format!("claims plot: {e}"))
}

fn seeds(lab: &Lab) -> Vec<u64> {
    (0..lab.seeds as u64).collect()
}

fn pct(s: &Stat) -> String {
    s.show(100.0, 2)
}

fn iv(x: f64, s: &Stat, scale: f64) -> Interval {
    Interval {
        x,
        mean: s.mean * scale,
        lo: s.lo * scale,
        hi: s.hi * scale,
    }
}

/// A categorical plot of arms, each a per-seed sample (scaled by `scale`).
fn arms_svg(title: &str, y: &str, arms: &[(&str, &[f64])], scale: f64) -> CliResult<String> {
    let pts: Vec<Interval> = arms
        .iter()
        .enumerate()
        .map(|(i, (_, v))| iv(i as f64, &stat(v), scale))
        .collect();
    let names: Vec<String> = arms.iter().map(|a| a.0.to_string()).collect();
    interval_svg(
        title,
        "",
        y,
        &[IntervalSeries {
            name: "mean, 95 % CI over seeds",
            points: &pts,
        }],
        Some(&names),
        false,
    )
    .map_err(plot_err)
}

fn net_text(lab: &Lab, widths: &[usize]) -> String {
    format!(
        "MLP {} (ReLU), SGD lr {} momentum 0.9, batch {}",
        widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("-"),
        lab.lr,
        lab.batch_size
    )
}

/// The base runs' network, epochs and data, in words.
fn base_text(lab: &Lab) -> String {
    format!(
        "{}, {} epochs, on {}",
        net_text(lab, &lab.widths),
        lab.epochs,
        size_text(lab, lab.train_size)
    )
}

/// One table row per arm: its name and mean [95 % CI] in percent.
fn arm_rows(arms: &[(&str, &[f64])]) -> Vec<Vec<String>> {
    arms.iter()
        .map(|(n, v)| vec![n.to_string(), pct(&stat(v))])
        .collect()
}

fn size_text(lab: &Lab, size: usize) -> String {
    if size == 0 {
        format!("the whole training split of {}", lab.data.dataset)
    } else {
        format!("{size} training examples of {}", lab.data.dataset)
    }
}

/// Claim 1: a smaller gap and a better test score for a large network on little data.
pub fn overfitting(lab: &Lab) -> CliResult<Outcome> {
    let size = lab.small_train;
    let (mut gap, mut acc) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    // Shown beside the criterion's numbers, not part of it: once both arms fit the training
    // examples perfectly the accuracy gap moves one for one with test accuracy, while the gap
    // in cross-entropy (test - train, nats) still tells the arms apart.
    let (mut train_acc, mut nll_gap) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for s in seeds(lab) {
        for (i, (_, net)) in lab.pair(&lab.widths).iter().enumerate() {
            let t = lab.train(net, size, s)?;
            let (test, train) = lab.test_and_train(&t, size, s)?;
            gap[i].push(train.accuracy - test.accuracy);
            acc[i].push(test.accuracy);
            train_acc[i].push(train.accuracy);
            nll_gap[i].push(test.nll - train.nll);
        }
    }
    let decision = verdict::overfitting(&gap[0], &gap[1], &acc[0], &acc[1]);
    let rows = lab
        .pair(&lab.widths)
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            vec![
                n.to_string(),
                pct(&stat(&gap[i])),
                pct(&stat(&acc[i])),
                pct(&stat(&train_acc[i])),
                stat(&nll_gap[i]).show(1.0, 3),
            ]
        })
        .collect();
    Ok(Outcome {
        setup: format!(
            "{}, {} epochs (as many updates as the base runs), on {}; without dropout and with dropout {} (inputs / hidden units)",
            net_text(lab, &lab.widths),
            lab.epochs_for(size)?,
            size_text(lab, size),
            lab.rates_text()
        ),
        headers: vec![
            "network".into(),
            "gap: train - test accuracy (points)".into(),
            "test accuracy (%)".into(),
            "train accuracy (%)".into(),
            "cross-entropy gap: test - train (nats)".into(),
        ],
        rows,
        numbers: json!({
            "gap_none": gap[0], "gap_dropout": gap[1], "test_none": acc[0], "test_dropout": acc[1],
            "train_none": train_acc[0], "train_dropout": train_acc[1],
            "nll_gap_none": nll_gap[0], "nll_gap_dropout": nll_gap[1],
        }),
        svg: Some(arms_svg(
            "Claim 1: train - test accuracy gap",
            "gap (points)",
            &[("no dropout", &gap[0]), ("dropout", &gap[1])],
            100.0,
        )?),
        decision,
    })
}

/// The test labels of a split.
fn labels(d: &droplab::data::Dataset) -> CliResult<Vec<u32>> {
    match &d.y {
        Targets::Classes(c) => Ok(c.clone()),
        Targets::Values(_) => Err(CliError::usage("claims need class labels")),
    }
}

const KS: [usize; 7] = [1, 2, 5, 10, 20, 50, 100];

/// Claim 2: weight scaling against Monte Carlo averages of k thinned networks.
pub fn weight_scaling(lab: &Lab) -> CliResult<Outcome> {
    let tol = if lab.quick { 0.005 } else { 0.0015 };
    let (mut ws, mut mc) = (Vec::new(), Vec::new());
    let mut by_k: Vec<Vec<f64>> = vec![Vec::new(); KS.len()];
    for s in seeds(lab) {
        let t = lab.train(&lab.dropout(&lab.widths), lab.train_size, s)?;
        let splits = lab.splits(lab.train_size, s)?;
        let y = labels(&splits.test)?;
        let mut m = t.model()?;
        ws.push(1.0 - lab.score(&mut m, &splits.test)?.accuracy);
        let samples = McSamples::collect(
            &mut m,
            &splits.test,
            Mode::MonteCarlo,
            100,
            500,
            true,
            &lab.threads,
        )?;
        for (i, &k) in KS.iter().enumerate() {
            by_k[i].push(error_rate(&samples.mean(k), 10, &y)?);
        }
        mc.push(*by_k[KS.len() - 1].last().expect("one per seed"));
    }
    let decision = verdict::weight_scaling(&ws, &mc, tol);
    let mut rows = vec![vec!["weight scaling".into(), pct(&stat(&ws))]];
    for (i, k) in KS.iter().enumerate() {
        rows.push(vec![format!("MC average of {k}"), pct(&stat(&by_k[i]))]);
    }
    let mc_pts: Vec<Interval> = KS
        .iter()
        .zip(&by_k)
        .map(|(&k, v)| iv(k as f64, &stat(v), 100.0))
        .collect();
    let ws_pts: Vec<Interval> = KS.iter().map(|&k| iv(k as f64, &stat(&ws), 100.0)).collect();
    let svg = interval_svg(
        "Claim 2: test error against the number of averaged thinned networks",
        "k (log scale)",
        "test error (%)",
        &[
            IntervalSeries {
                name: "Monte Carlo average of k",
                points: &mc_pts,
            },
            IntervalSeries {
                name: "weight scaling",
                points: &ws_pts,
            },
        ],
        None,
        true,
    )
    .map_err(plot_err)?;
    Ok(Outcome {
        setup: format!(
            "{}, dropout {}, {} epochs, on {}; test error of the weight-scaled network and of the mean prediction of k networks thinned by Monte Carlo masks",
            net_text(lab, &lab.widths),
            lab.rates_text(),
            lab.epochs,
            size_text(lab, lab.train_size)
        ),
        headers: vec!["prediction".into(), "test error (%)".into()],
        rows,
        numbers: json!({"weight_scaling": ws, "mc": KS.iter().zip(&by_k).map(|(k, v)| json!({"k": k, "error": v})).collect::<Vec<_>>(), "tolerance": tol}),
        svg: Some(svg),
        decision,
    })
}

/// Claim 3: dropout against bagging K networks of the same size without dropout.
pub fn bagging(lab: &Lab) -> CliResult<Outcome> {
    let k = 5;
    let (mut single, mut bagged, mut drop) = (Vec::new(), Vec::new(), Vec::new());
    for s in seeds(lab) {
        let splits = lab.splits(lab.train_size, s)?;
        let y = labels(&splits.test)?;
        let t = lab.train(&Net::plain(&lab.widths), lab.train_size, s)?;
        single.push(1.0 - lab.score(&mut t.model()?, &splits.test)?.accuracy);
        let t = lab.train(&lab.dropout(&lab.widths), lab.train_size, s)?;
        drop.push(1.0 - lab.score(&mut t.model()?, &splits.test)?.accuracy);
        let n = splits.train.len();
        let mut mean = vec![0.0f32; splits.test.len() * 10];
        for b in 0..k as u64 {
            let mut rng = Stream::new(s, "bootstrap").derive_u64(b).seq();
            let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let boot = splits.train.select(&idx);
            let t = lab.fit(
                Net::plain(&lab.widths).config(),
                &lab.train_config(lab.epochs),
                &boot,
                None,
                s * 1000 + b + 1,
            )?;
            let p = predict_proba(&mut t.model()?, &splits.test, Mode::Eval, 1, 500, &lab.threads)?;
            for (m, v) in mean.iter_mut().zip(p.probs.data()) {
                *m += v / k as f32;
            }
        }
        bagged.push(error_rate(&mean, 10, &y)?);
    }
    let decision = verdict::bagging(&single, &bagged, &drop);
    let arms: [(&str, &[f64]); 3] = [
        ("one network", &single),
        ("bagged ensemble of 5", &bagged),
        ("dropout", &drop),
    ];
    Ok(Outcome {
        setup: format!(
            "{}: one network without dropout, an ensemble of {k} such networks each trained on a bootstrap sample (probabilities averaged), and one network with dropout {} (weight scaling)",
            base_text(lab),
            lab.rates_text()
        ),
        headers: vec!["model".into(), "test error (%)".into()],
        rows: arm_rows(&arms),
        numbers: json!({"single": single, "bagged": bagged, "dropout": drop, "bagged_networks": k}),
        svg: Some(arms_svg(
            "Claim 3: dropout and bagging",
            "test error (%)",
            &arms,
            100.0,
        )?),
        decision,
    })
}

/// The first epoch whose training loss (Eval mode) is at most `target`, and the training
/// seconds up to it; runs that never reach it count as one epoch past their end.
fn epochs_to(t: &Trained, target: f64) -> (f64, f64, bool) {
    let h = &t.report.history;
    match h.iter().position(|m| m.train_loss <= target) {
        Some(i) => ((i + 1) as f64, h[..=i].iter().map(|m| m.seconds).sum(), true),
        None => ((h.len() + 1) as f64, h.iter().map(|m| m.seconds).sum(), false),
    }
}

/// Claim 4: epochs and seconds to reach a training loss.
pub fn convergence(lab: &Lab) -> CliResult<Outcome> {
    let target = 0.05;
    let epochs = lab.epochs;
    let mut ep = [Vec::new(), Vec::new()];
    let mut secs = [Vec::new(), Vec::new()];
    let mut missed = [0usize, 0];
    for s in seeds(lab) {
        for (i, (_, net)) in lab.pair(&lab.widths).iter().enumerate() {
            let t = lab.train(net, lab.train_size, s)?;
            let (e, sec, reached) = epochs_to(&t, target);
            ep[i].push(e);
            secs[i].push(sec);
            missed[i] += usize::from(!reached);
        }
    }
    let decision = verdict::convergence(&ep[0], &ep[1]);
    let rows = lab
        .pair(&lab.widths)
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            vec![
                n.to_string(),
                stat(&ep[i]).show(1.0, 1),
                stat(&secs[i]).show(1.0, 2),
                format!("{} of {}", lab.seeds - missed[i], lab.seeds),
            ]
        })
        .collect();
    Ok(Outcome {
        setup: format!(
            "{}, up to {epochs} epochs, on {}: the first epoch whose training loss (all units, weight scaling) is at most {target}; a run that never gets there counts as {} epochs",
            net_text(lab, &lab.widths),
            size_text(lab, lab.train_size),
            epochs + 1
        ),
        headers: vec![
            "network".into(),
            "epochs to the loss".into(),
            "training seconds to the loss".into(),
            "runs that reached it".into(),
        ],
        rows,
        numbers: json!({"target_loss": target, "epochs_none": ep[0], "epochs_dropout": ep[1], "seconds_none": secs[0], "seconds_dropout": secs[1]}),
        svg: Some(arms_svg(
            "Claim 4: epochs to a training loss of 0.05",
            "epochs",
            &[("no dropout", &ep[0]), ("dropout", &ep[1])],
            1.0,
        )?),
        decision,
    })
}

/// Claim 5: the gain from dropout against the training-set size.
pub fn small_data(lab: &Lab) -> CliResult<Outcome> {
    let mut gains = Vec::new();
    let mut rows = Vec::new();
    let mut raw = Vec::new();
    for &n in &lab.sizes {
        let mut acc = [Vec::new(), Vec::new()];
        for s in seeds(lab) {
            for (i, (_, net)) in lab.pair(&lab.widths).iter().enumerate() {
                let t = lab.train(net, n, s)?;
                acc[i].push(lab.test_and_train(&t, n, s)?.0.accuracy);
            }
        }
        let g = paired(&acc[1], &acc[0]);
        rows.push(vec![
            n.to_string(),
            pct(&stat(&acc[0])),
            pct(&stat(&acc[1])),
            pct(&g),
        ]);
        raw.push(json!({"size": n, "test_none": acc[0], "test_dropout": acc[1]}));
        gains.push(g);
    }
    let decision = verdict::small_data(&lab.sizes, &gains);
    let pts: Vec<Interval> = lab
        .sizes
        .iter()
        .zip(&gains)
        .map(|(&n, g)| iv(n as f64, g, 100.0))
        .collect();
    let svg = interval_svg(
        "Claim 5: test accuracy gain from dropout against training-set size",
        "training examples (log scale)",
        "gain (points)",
        &[IntervalSeries {
            name: "dropout - no dropout, 95 % CI",
            points: &pts,
        }],
        None,
        true,
    )
    .map_err(plot_err)?;
    Ok(Outcome {
        setup: format!(
            "{}, {} epochs, trained on stratified subsets of {} examples, with and without dropout {} (as Srivastava et al. 2014, Figure 10), each with as many updates as a base run",
            net_text(lab, &lab.widths),
            lab.epochs,
            lab.sizes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            lab.rates_text()
        ),
        headers: vec![
            "training examples".into(),
            "test accuracy, no dropout (%)".into(),
            "test accuracy, dropout (%)".into(),
            "gain (points)".into(),
        ],
        rows,
        numbers: json!(raw),
        svg: Some(svg),
        decision,
    })
}

/// Claim 6: dropout on a network too small for the task.
pub fn underfitting(lab: &Lab) -> CliResult<Outcome> {
    let widths = vec![lab.widths[0], if lab.quick { 8 } else { 16 }, 10];
    let (mut acc, mut train) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for s in seeds(lab) {
        for (i, (_, net)) in lab.pair(&widths).iter().enumerate() {
            let t = lab.train(net, lab.train_size, s)?;
            let (te, tr) = lab.test_and_train(&t, lab.train_size, s)?;
            acc[i].push(te.accuracy);
            train[i].push(tr.accuracy);
        }
    }
    let decision = verdict::underfitting(&acc[0], &acc[1]);
    let rows = lab
        .pair(&widths)
        .iter()
        .enumerate()
        .map(|(i, (n, _))| vec![n.to_string(), pct(&stat(&train[i])), pct(&stat(&acc[i]))])
        .collect();
    Ok(Outcome {
        setup: format!(
            "{}, {} epochs, on {}: a network with {} hidden units, too small to fit the training set",
            net_text(lab, &widths),
            lab.epochs,
            size_text(lab, lab.train_size),
            widths[1]
        ),
        headers: vec![
            "network".into(),
            "train accuracy (%)".into(),
            "test accuracy (%)".into(),
        ],
        rows,
        numbers: json!({"widths": widths, "test_none": acc[0], "test_dropout": acc[1], "train_none": train[0], "train_dropout": train[1]}),
        svg: Some(arms_svg(
            "Claim 6: a small network",
            "test accuracy (%)",
            &[("no dropout", &acc[0]), ("dropout", &acc[1])],
            100.0,
        )?),
        decision,
    })
}

/// Claim 7: a validation curve of the hidden rate, with fold error bars, and the test accuracy
/// at each rate.
pub fn rate_by_validation(lab: &Lab) -> CliResult<Outcome> {
    let rates = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    let folds = 3;
    let splits = lab.splits(lab.train_size, 0)?;
    let pool = dataset::concat(&splits.train, &splits.val)?;
    let parts = stratified_kfold(&pool.y, folds, 0)?;
    let mut points = Vec::new();
    let mut cv = Vec::new();
    let mut tests = Vec::new();
    let mut rows = Vec::new();
    let mut raw = Vec::new();
    for &p in &rates {
        let net = Net {
            hidden: vec![p as f32],
            ..Net::plain(&lab.widths)
        };
        let (mut val, mut gap) = (Vec::new(), Vec::new());
        for (f, (tr, va)) in parts.iter().enumerate() {
            let (train, valid) = (pool.select(tr), pool.select(va));
            let t = lab.fit(
                net.config(),
                &lab.train_config(lab.epochs),
                &train,
                None,
                100 + f as u64,
            )?;
            let mut m = t.model()?;
            let a = lab.score(&mut m, &valid)?.accuracy;
            gap.push(lab.score(&mut m, &train)?.accuracy - a);
            val.push(a);
        }
        let mut test = Vec::new();
        for s in seeds(lab) {
            let t = lab.train(&net, lab.train_size, s)?;
            test.push(lab.test_and_train(&t, lab.train_size, s)?.0.accuracy);
        }
        let v = stat(&val);
        points.push(CurvePoint {
            x: p,
            mean: v.mean,
            std: v.sd,
            gap: stat(&gap).mean,
        });
        rows.push(vec![
            format!("{p}"),
            format!("{:.2} ± {:.2}", 100.0 * v.mean, 100.0 * v.sd),
            pct(&stat(&test)),
        ]);
        raw.push(json!({"rate": p, "cv_folds": val, "test": test}));
        cv.push(v.mean);
        tests.push(stat(&test));
    }
    let decision = verdict::rate_by_validation(&rates, &cv, &tests);
    let svg = validation_curve_svg(
        &format!("Claim 7: hidden dropout rate, {folds}-fold cross-validation"),
        "hidden dropout rate",
        &points,
        false,
    )
    .map_err(plot_err)?;
    Ok(Outcome {
        setup: format!(
            "{}, {} epochs, hidden dropout rate 0 to 0.8 (no input dropout): {folds}-fold stratified cross-validation on the training and validation splits, and the test accuracy of each rate over seeds",
            net_text(lab, &lab.widths),
            lab.epochs
        ),
        headers: vec![
            "hidden rate".into(),
            "CV accuracy (%), mean ± sd over folds".into(),
            "test accuracy (%)".into(),
        ],
        rows,
        numbers: json!(raw),
        svg: Some(svg),
        decision,
    })
}

/// Claim 8: three hidden layers with rates rising, constant or falling with depth.
pub fn deeper_rates(lab: &Lab) -> CliResult<Outcome> {
    let h = lab.widths[1];
    let widths = vec![lab.widths[0], h, h, h, 10];
    let schedules: [(&str, [f32; 3]); 3] = [
        ("increasing 0.1, 0.3, 0.5", [0.1, 0.3, 0.5]),
        ("constant 0.3", [0.3, 0.3, 0.3]),
        ("decreasing 0.5, 0.3, 0.1", [0.5, 0.3, 0.1]),
    ];
    let mut acc: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for s in seeds(lab) {
        for (i, (_, r)) in schedules.iter().enumerate() {
            let net = Net {
                hidden: r.to_vec(),
                ..Net::plain(&widths)
            };
            let t = lab.train(&net, lab.train_size, s)?;
            acc[i].push(lab.test_and_train(&t, lab.train_size, s)?.0.accuracy);
        }
    }
    let decision = verdict::deeper_rates(&acc[0], &acc[1], &acc[2]);
    let arms: Vec<(&str, &[f64])> = schedules
        .iter()
        .zip(&acc)
        .map(|((n, _), a)| (*n, &a[..]))
        .collect();
    Ok(Outcome {
        setup: format!(
            "{}, {} epochs, on {}; the same mean rate (0.3) spread three ways over the hidden layers",
            net_text(lab, &widths),
            lab.epochs,
            size_text(lab, lab.train_size)
        ),
        headers: vec!["rates by depth".into(), "test accuracy (%)".into()],
        rows: arm_rows(&arms),
        numbers: json!({"increasing": acc[0], "constant": acc[1], "decreasing": acc[2]}),
        svg: Some(arms_svg(
            "Claim 8: rates by depth",
            "test accuracy (%)",
            &arms,
            100.0,
        )?),
        decision,
    })
}

/// The value of `values` whose network (`make(value)`) has the best validation accuracy on
/// seed 0's split: each penalty gets its strength by validation, never by the test set.
fn by_validation(lab: &Lab, values: &[f32], make: &dyn Fn(f32) -> Net) -> CliResult<f32> {
    let splits = lab.splits(lab.train_size, 0)?;
    let mut best = (values[0], f64::NEG_INFINITY);
    for &v in values {
        let t = lab.train(&make(v), lab.train_size, 0)?;
        let a = lab.score(&mut t.model()?, &splits.val)?.accuracy;
        if a > best.1 {
            best = (v, a);
        }
    }
    Ok(best.0)
}

/// Claim 9: dropout with L2 or max-norm against each alone, each penalty's strength chosen on
/// the validation split for each arm.
pub fn combination(lab: &Lab) -> CliResult<Outcome> {
    let l2s = [1e-4, 1e-3, 1e-2];
    let bounds = [1.0, 2.0, 3.0];
    let base = Net::plain(&lab.widths);
    let drop = lab.dropout(&lab.widths);
    let with_l2 = |n: &Net, v: f32| Net { l2: v, ..n.clone() };
    let with_c = |n: &Net, v: f32| Net {
        max_norm: Some(v),
        ..n.clone()
    };
    let l2_alone = by_validation(lab, &l2s, &|v| with_l2(&base, v))?;
    let c_alone = by_validation(lab, &bounds, &|v| with_c(&base, v))?;
    let l2_drop = by_validation(lab, &l2s, &|v| with_l2(&drop, v))?;
    let c_drop = by_validation(lab, &bounds, &|v| with_c(&drop, v))?;
    let arms: [(String, Net); 6] = [
        ("none".into(), base.clone()),
        (format!("L2 {l2_alone}"), with_l2(&base, l2_alone)),
        (format!("max-norm {c_alone}"), with_c(&base, c_alone)),
        ("dropout".into(), drop.clone()),
        (format!("dropout + L2 {l2_drop}"), with_l2(&drop, l2_drop)),
        (format!("dropout + max-norm {c_drop}"), with_c(&drop, c_drop)),
    ];
    let mut acc: Vec<Vec<f64>> = vec![Vec::new(); arms.len()];
    for s in seeds(lab) {
        for (i, (_, net)) in arms.iter().enumerate() {
            let t = lab.train(net, lab.train_size, s)?;
            acc[i].push(lab.test_and_train(&t, lab.train_size, s)?.0.accuracy);
        }
    }
    let decision = verdict::combination(&acc[3], &acc[1], &acc[2], &acc[4], &acc[5]);
    let named: Vec<(&str, &[f64])> = arms
        .iter()
        .zip(&acc)
        .map(|((n, _), a)| (n.as_str(), &a[..]))
        .collect();
    Ok(Outcome {
        setup: format!(
            "{}; dropout {}; the L2 coefficient (loss l2/2 Σw²) from {l2s:?} and the max-norm bound on each unit's incoming weights from {bounds:?}, each chosen by validation accuracy (seed 0's validation split) separately with and without dropout",
            base_text(lab),
            lab.rates_text()
        ),
        headers: vec!["regularization".into(), "test accuracy (%)".into()],
        rows: arm_rows(&named),
        numbers: json!(
            named
                .iter()
                .map(|(n, v)| json!({"arm": n, "test": v}))
                .collect::<Vec<_>>()
        ),
        svg: Some(arms_svg(
            "Claim 9: dropout with and without penalties",
            "test accuracy (%)",
            &named,
            100.0,
        )?),
        decision,
    })
}

/// Claim 10: sparsity and correlation of the first hidden layer's units.
pub fn coadaptation(lab: &Lab) -> CliResult<Outcome> {
    let (mut sparsity, mut corr) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for s in seeds(lab) {
        let splits = lab.splits(lab.train_size, s)?;
        for (i, (_, net)) in lab.pair(&lab.widths).iter().enumerate() {
            let t = lab.train(net, lab.train_size, s)?;
            let mut m = t.model()?;
            let acts = hidden_activations(&mut m, &splits.test, &lab.threads)?;
            let (layer, a) = &acts[0];
            let st = layer_stats(*layer, "", a, 10, &lab.threads)?;
            sparsity[i].push(st.sparsity);
            corr[i].push(st.mean_abs_correlation);
        }
    }
    let decision = verdict::coadaptation(&sparsity[0], &sparsity[1], &corr[0], &corr[1]);
    let rows = lab
        .pair(&lab.widths)
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            vec![
                n.to_string(),
                pct(&stat(&sparsity[i])),
                stat(&corr[i]).show(1.0, 4),
            ]
        })
        .collect();
    Ok(Outcome {
        setup: format!(
            "{}; the first hidden layer's ReLU outputs on the test set: the share of zeros and the mean |Pearson correlation| between units (as Srivastava et al. 2014, Figures 7 and 8)",
            base_text(lab)
        ),
        headers: vec![
            "network".into(),
            "sparsity (% zeros)".into(),
            "mean |correlation|".into(),
        ],
        rows,
        numbers: json!({"sparsity_none": sparsity[0], "sparsity_dropout": sparsity[1], "corr_none": corr[0], "corr_dropout": corr[1]}),
        svg: Some(arms_svg(
            "Claim 10: sparsity of the first hidden layer",
            "zeros (%)",
            &[("no dropout", &sparsity[0]), ("dropout", &sparsity[1])],
            100.0,
        )?),
        decision,
    })
}

/// One optimizer's count of dropped units whose weights moved in a step, over `steps` steps of
/// one example each (earlier steps build momentum).
fn dropped_moved(lab: &Lab, momentum: f32, l2: f32, seed: u64) -> CliResult<(usize, usize, usize, usize)> {
    let widths = [lab.widths[0], 64, 10];
    let net = Net {
        hidden: vec![0.5],
        l2,
        ..Net::plain(&widths)
    };
    let mut model = net.config().build(seed)?;
    let mut tc = lab.train_config(1);
    tc.batch_size = 1;
    tc.optimizer.momentum = momentum;
    let splits = lab.splits(lab.train_size, seed)?;
    let steps = 8;
    let mut stepper = Stepper::new(&tc, steps as u64)?;
    let (mut dropped, mut moved, mut kept, mut kept_moved) = (0, 0, 0, 0);
    let hidden = widths[1];
    for i in 0..steps {
        let one = splits.train.select(&[i]);
        // The units' outputs without dropout, then the step with dropout.
        let ctx = droplab::nn::Ctx::new(Mode::Eval, 0);
        model.forward(&ctx, &one.x)?;
        let clean: Vec<f32> = model.activation(0).data().to_vec();
        let before: Vec<Vec<f32>> = model.params().iter().map(|p| p.value.data().to_vec()).collect();
        let par = lab.threads.par();
        lab.threads
            .install(|| stepper.step(&mut model, &one.x, &one.y, None, 0, par))?;
        if i + 1 < steps {
            continue;
        }
        let noisy = model.activation(0).data().to_vec();
        let after: Vec<Vec<f32>> = model.params().iter().map(|p| p.value.data().to_vec()).collect();
        let inputs = widths[0];
        for j in 0..hidden {
            if clean[j] <= 0.0 {
                continue; // silent anyway: no gradient either way
            }
            let w1 = |v: &Vec<Vec<f32>>| v[0][j * inputs..(j + 1) * inputs].to_vec();
            let w2 = |v: &Vec<Vec<f32>>| (0..10).map(|o| v[2][o * hidden + j]).collect::<Vec<f32>>();
            let changed =
                w1(&before) != w1(&after) || before[1][j] != after[1][j] || w2(&before) != w2(&after);
            if noisy[j] == 0.0 {
                dropped += 1;
                moved += usize::from(changed);
            } else {
                kept += 1;
                kept_moved += usize::from(changed);
            }
        }
    }
    Ok((dropped, moved, kept, kept_moved))
}

/// Claim 11: whether a dropped unit's weights change in the step that dropped it.
pub fn dropped_units(lab: &Lab) -> CliResult<Outcome> {
    let l2 = 1e-2;
    let cases: [(&str, f32, f32); 3] = [
        ("plain SGD", 0.0, 0.0),
        ("SGD, momentum 0.9", 0.9, 0.0),
        ("SGD, L2 weight decay", 0.0, l2),
    ];
    let mut fractions = Vec::new();
    let mut rows = Vec::new();
    let mut raw = Vec::new();
    for (name, mu, wd) in cases {
        let (mut d, mut m, mut k, mut km) = (0, 0, 0, 0);
        for s in seeds(lab) {
            let r = dropped_moved(lab, mu, wd, s)?;
            d += r.0;
            m += r.1;
            k += r.2;
            km += r.3;
        }
        if d == 0 || k == 0 {
            return Err(CliError::runtime(
                "claim 11: no dropped or no kept active unit was observed",
            ));
        }
        let f = m as f64 / d as f64;
        fractions.push(f);
        rows.push(vec![
            name.to_string(),
            format!("{m} of {d} ({:.0} %)", 100.0 * f),
            format!("{km} of {k} ({:.0} %)", 100.0 * km as f64 / k as f64),
        ]);
        raw.push(json!({"optimizer": name, "dropped": d, "dropped_moved": m, "kept": k, "kept_moved": km}));
    }
    let decision = verdict::dropped_units(fractions[0], fractions[1], fractions[2]);
    let pts: Vec<Interval> = fractions
        .iter()
        .enumerate()
        .map(|(i, &f)| Interval {
            x: i as f64,
            mean: 100.0 * f,
            lo: f64::NAN,
            hi: f64::NAN,
        })
        .collect();
    let names: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    let svg = interval_svg(
        "Claim 11: dropped units whose weights moved in that step",
        "",
        "dropped units moved (%)",
        &[IntervalSeries {
            name: "share over seeds",
            points: &pts,
        }],
        Some(&names),
        false,
    )
    .map_err(plot_err)?;
    Ok(Outcome {
        setup: format!(
            "MLP {}-64-10, hidden dropout 0.5, one example per step, lr {}; after 7 steps, the 8th step's dropped units (active without dropout, zeroed by the mask) and whether any of their incoming weights, bias or outgoing weights changed; L2 coefficient {l2}",
            lab.widths[0], lab.lr
        ),
        headers: vec![
            "optimizer".into(),
            "dropped units whose weights moved".into(),
            "kept active units whose weights moved".into(),
        ],
        rows,
        numbers: json!(raw),
        svg: Some(svg),
        decision,
    })
}

/// A copy of a network without dropout whose hidden outputs are multiplied by `scale` at
/// test time.
fn scaled(
    cfg: &droplab::model::ModelConfig,
    state: &[droplab::Tensor],
    scale: f32,
) -> CliResult<droplab::Sequential> {
    let mut cfg = cfg.clone();
    cfg.dropout = Default::default();
    let mut m = cfg.build(0)?;
    m.load_state(state);
    // Scaling a layer's outputs = scaling the next layer's weights (not its bias).
    let mut seen = 0;
    for p in m.params_mut() {
        if p.name == "weight" {
            if seen > 0 {
                p.value.data_mut().iter_mut().for_each(|w| *w *= scale);
            }
            seen += 1;
        }
    }
    Ok(m)
}

/// Claim 12: test-time scaling by 1 - p, by p, not at all, and inverted dropout.
pub fn test_scaling(lab: &Lab) -> CliResult<Outcome> {
    let p = 0.3f32;
    let names = [
        "standard dropout, outputs x (1 - p) at test (right)",
        "standard dropout, outputs x p at test (wrong)",
        "standard dropout, no scaling at test (wrong)",
        "inverted dropout, no scaling at test (right)",
        "inverted dropout, outputs x (1 - p) again at test (wrong)",
    ];
    let mut nll: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut err: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut mc = [Vec::new(), Vec::new()];
    for s in seeds(lab) {
        let splits = lab.splits(lab.train_size, s)?;
        for (ti, conv) in [Convention::Standard, Convention::Inverted]
            .into_iter()
            .enumerate()
        {
            let net = Net {
                hidden: vec![p],
                convention: conv,
                ..Net::plain(&lab.widths)
            };
            let t = lab.train(&net, lab.train_size, s)?;
            let scales: &[f32] = if ti == 0 {
                &[1.0 - p, p, 1.0]
            } else {
                &[1.0, 1.0 - p]
            };
            for (j, &sc) in scales.iter().enumerate() {
                let i = if ti == 0 { j } else { 3 + j };
                let sc = lab.score(&mut scaled(&t.cfg, &t.state, sc)?, &splits.test)?;
                nll[i].push(sc.nll);
                err[i].push(1.0 - sc.accuracy);
            }
            let pr = predict_proba(
                &mut t.model()?,
                &splits.test,
                Mode::MonteCarlo,
                100,
                500,
                &lab.threads,
            )?;
            mc[ti].push(1.0 - pr.accuracy);
        }
    }
    let summary = |i: usize| (names[i].to_string(), stat(&nll[i]).mean, stat(&err[i]).mean);
    let decision = verdict::test_scaling(&[summary(0), summary(3)], &[summary(1), summary(2), summary(4)]);
    let mut rows: Vec<Vec<String>> = (0..names.len())
        .map(|i| {
            vec![
                names[i].to_string(),
                stat(&nll[i]).show(1.0, 4),
                pct(&stat(&err[i])),
            ]
        })
        .collect();
    rows.push(vec![
        "standard dropout, MC average of 100 (reference)".into(),
        "".into(),
        pct(&stat(&mc[0])),
    ]);
    rows.push(vec![
        "inverted dropout, MC average of 100 (reference)".into(),
        "".into(),
        pct(&stat(&mc[1])),
    ]);
    let short = ["std x(1-p)", "std x p", "std x 1", "inv x 1", "inv x(1-p)"];
    let arms: Vec<(&str, &[f64])> = short.iter().zip(&nll).map(|(n, v)| (*n, &v[..])).collect();
    Ok(Outcome {
        setup: format!(
            "{}; hidden dropout p = {p} (so that p and 1 - p differ), trained with the standard convention (no scaling in training) and with inverted dropout (1 / (1 - p) in training), then tested with each scaling",
            base_text(lab)
        ),
        headers: vec![
            "training and test-time scaling".into(),
            "test NLL".into(),
            "test error (%)".into(),
        ],
        rows,
        numbers: json!({"choices": names, "nll": nll, "error": err, "mc_error_standard": mc[0], "mc_error_inverted": mc[1]}),
        svg: Some(arms_svg("Claim 12: test-time scaling", "test NLL", &arms, 1.0)?),
        decision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standard_network_scaled_by_the_keep_probability_is_its_eval_mode() {
        // The copy that claim 12 scales by hand must agree with the library's own test-time
        // rule for the standard convention, and differ from it under another scale.
        let net = Net {
            hidden: vec![0.3],
            convention: Convention::Standard,
            ..Net::plain(&[5, 7, 6, 3])
        };
        let cfg = net.config();
        let mut model = cfg.build(3).unwrap();
        let x = droplab::Tensor::from_vec(&[2, 5], (0..10).map(|i| i as f32 * 0.3 - 1.0).collect()).unwrap();
        let ctx = droplab::nn::Ctx::new(Mode::Eval, 0);
        let want = model.forward(&ctx, &x).unwrap().data().to_vec();
        let state = model.state();
        let mut copy = scaled(&cfg, &state, 0.7).unwrap();
        let got = copy.forward(&ctx, &x).unwrap().data().to_vec();
        for (a, b) in want.iter().zip(&got) {
            assert!((a - b).abs() < 1e-5, "{want:?} {got:?}");
        }
        let mut wrong = scaled(&cfg, &state, 0.3).unwrap();
        assert_ne!(wrong.forward(&ctx, &x).unwrap().data(), &want[..]);
    }
}
