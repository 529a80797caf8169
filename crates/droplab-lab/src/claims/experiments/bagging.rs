//! Claim 3: dropout against bagging K networks of the same size without dropout.

use super::*;

/// Claim 3: dropout against bagging K networks of the same size without dropout.
pub fn bagging(lab: &Lab) -> Result<Outcome> {
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
        plot: Some(arms_plot(
            "Claim 3: dropout and bagging",
            "test error (%)",
            &arms,
            100.0,
        )),
        decision,
    })
}
