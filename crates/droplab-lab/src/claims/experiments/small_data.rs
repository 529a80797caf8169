//! Claim 5: the gain from dropout against the training-set size.

use super::*;

/// Claim 5: the gain from dropout against the training-set size.
pub fn small_data(lab: &Lab) -> Result<Outcome> {
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
    let pts: Vec<Point> = lab
        .sizes
        .iter()
        .zip(&gains)
        .map(|(&n, g)| iv(n as f64, g, 100.0))
        .collect();
    let plot = Plot::Intervals {
        title: "Claim 5: test accuracy gain from dropout against training-set size".into(),
        x: "training examples (log scale)".into(),
        y: "gain (points)".into(),
        series: vec![("dropout - no dropout, 95 % CI".into(), pts)],
        categories: None,
        log_x: true,
    };
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
        plot: Some(plot),
        decision,
    })
}
