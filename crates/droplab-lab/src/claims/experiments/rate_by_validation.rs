//! Claim 7: a validation curve of the hidden rate, with fold error bars, and the test accuracy

use super::*;

/// Claim 7: a validation curve of the hidden rate, with fold error bars, and the test accuracy
/// at each rate.
pub fn rate_by_validation(lab: &Lab) -> Result<Outcome> {
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
        points.push(FoldPoint {
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
    let plot = Plot::Validation {
        title: format!("Claim 7: hidden dropout rate, {folds}-fold cross-validation"),
        param: "hidden dropout rate".into(),
        points,
        log_x: false,
    };
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
        plot: Some(plot),
        decision,
    })
}
