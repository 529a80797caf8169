//! Claim 12: test-time scaling by 1 - p, by p, not at all, and inverted dropout.

use super::*;

/// A copy of a network without dropout whose hidden outputs are multiplied by `scale` at
/// test time.
fn scaled(
    cfg: &droplab::model::ModelConfig,
    state: &[droplab::Tensor],
    scale: f32,
) -> Result<droplab::Sequential> {
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
pub fn test_scaling(lab: &Lab) -> Result<Outcome> {
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
        plot: Some(arms_plot("Claim 12: test-time scaling", "test NLL", &arms, 1.0)),
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
