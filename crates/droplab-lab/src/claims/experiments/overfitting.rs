//! Claim 1: a smaller gap and a better test score for a large network on little data.

use super::*;

/// Claim 1: a smaller gap and a better test score for a large network on little data.
pub fn overfitting(lab: &Lab) -> Result<Outcome> {
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
        plot: Some(arms_plot(
            "Claim 1: train - test accuracy gap",
            "gap (points)",
            &[("no dropout", &gap[0]), ("dropout", &gap[1])],
            100.0,
        )),
        decision,
    })
}
