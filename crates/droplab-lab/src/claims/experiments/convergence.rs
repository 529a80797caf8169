//! Claim 4: epochs and seconds to reach a training loss.

use super::*;

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
pub fn convergence(lab: &Lab) -> Result<Outcome> {
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
        plot: Some(arms_plot(
            "Claim 4: epochs to a training loss of 0.05",
            "epochs",
            &[("no dropout", &ep[0]), ("dropout", &ep[1])],
            1.0,
        )),
        decision,
    })
}
