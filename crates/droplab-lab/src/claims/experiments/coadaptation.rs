//! Claim 10: sparsity and correlation of the first hidden layer's units.

use super::*;

/// Claim 10: sparsity and correlation of the first hidden layer's units.
pub fn coadaptation(lab: &Lab) -> Result<Outcome> {
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
        plot: Some(arms_plot(
            "Claim 10: sparsity of the first hidden layer",
            "zeros (%)",
            &[("no dropout", &sparsity[0]), ("dropout", &sparsity[1])],
            100.0,
        )),
        decision,
    })
}
