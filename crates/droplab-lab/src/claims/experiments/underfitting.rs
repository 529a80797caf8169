//! Claim 6: dropout on a network too small for the task.

use super::*;

/// Claim 6: dropout on a network too small for the task.
pub fn underfitting(lab: &Lab) -> Result<Outcome> {
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
        plot: Some(arms_plot(
            "Claim 6: a small network",
            "test accuracy (%)",
            &[("no dropout", &acc[0]), ("dropout", &acc[1])],
            100.0,
        )),
        decision,
    })
}
