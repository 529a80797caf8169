//! Claim 2: weight scaling against Monte Carlo averages of k thinned networks.

use super::*;

const KS: [usize; 7] = [1, 2, 5, 10, 20, 50, 100];

/// Claim 2: weight scaling against Monte Carlo averages of k thinned networks.
pub fn weight_scaling(lab: &Lab) -> Result<Outcome> {
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
    let mc_pts: Vec<Point> = KS
        .iter()
        .zip(&by_k)
        .map(|(&k, v)| iv(k as f64, &stat(v), 100.0))
        .collect();
    let ws_pts: Vec<Point> = KS.iter().map(|&k| iv(k as f64, &stat(&ws), 100.0)).collect();
    let plot = Plot::Intervals {
        title: "Claim 2: test error against the number of averaged thinned networks".into(),
        x: "k (log scale)".into(),
        y: "test error (%)".into(),
        series: vec![
            ("Monte Carlo average of k".into(), mc_pts),
            ("weight scaling".into(), ws_pts),
        ],
        categories: None,
        log_x: true,
    };
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
        plot: Some(plot),
        decision,
    })
}
