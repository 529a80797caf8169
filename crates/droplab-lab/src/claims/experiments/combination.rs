//! Claim 9: dropout with L2 or max-norm against each alone, each penalty's strength chosen on

use super::*;

/// Claim 9: dropout with L2 or max-norm against each alone, each penalty's strength chosen on
/// the validation split for each arm.
pub fn combination(lab: &Lab) -> Result<Outcome> {
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
        plot: Some(arms_plot(
            "Claim 9: dropout with and without penalties",
            "test accuracy (%)",
            &named,
            100.0,
        )),
        decision,
    })
}
