//! Claim 11: whether a dropped unit's weights change in the step that dropped it.

use super::*;

/// One optimizer's count of dropped units whose weights moved in a step, over `steps` steps of
/// one example each (earlier steps build momentum).
fn dropped_moved(lab: &Lab, momentum: f32, l2: f32, seed: u64) -> Result<(usize, usize, usize, usize)> {
    let widths = [lab.widths[0], 64, 10];
    let net = Net {
        hidden: vec![0.5],
        l2,
        ..Net::plain(&widths)
    };
    let mut model = net.config().build(seed)?;
    let mut tc = lab.train_config(1);
    tc.batch_size = 1;
    tc.optimizer.momentum = momentum;
    let splits = lab.splits(lab.train_size, seed)?;
    let steps = 8;
    let mut stepper = Stepper::new(&tc, steps as u64)?;
    let (mut dropped, mut moved, mut kept, mut kept_moved) = (0, 0, 0, 0);
    let hidden = widths[1];
    for i in 0..steps {
        let one = splits.train.select(&[i]);
        // The units' outputs without dropout, then the step with dropout.
        let ctx = droplab::nn::Ctx::new(Mode::Eval, 0);
        model.forward(&ctx, &one.x)?;
        let clean: Vec<f32> = model.activation(0).data().to_vec();
        let before: Vec<Vec<f32>> = model.params().iter().map(|p| p.value.data().to_vec()).collect();
        let par = lab.threads.par();
        lab.threads
            .install(|| stepper.step(&mut model, &one.x, &one.y, None, 0, par))?;
        if i + 1 < steps {
            continue;
        }
        let noisy = model.activation(0).data().to_vec();
        let after: Vec<Vec<f32>> = model.params().iter().map(|p| p.value.data().to_vec()).collect();
        let inputs = widths[0];
        for j in 0..hidden {
            if clean[j] <= 0.0 {
                continue; // silent anyway: no gradient either way
            }
            let w1 = |v: &Vec<Vec<f32>>| v[0][j * inputs..(j + 1) * inputs].to_vec();
            let w2 = |v: &Vec<Vec<f32>>| (0..10).map(|o| v[2][o * hidden + j]).collect::<Vec<f32>>();
            let changed =
                w1(&before) != w1(&after) || before[1][j] != after[1][j] || w2(&before) != w2(&after);
            if noisy[j] == 0.0 {
                dropped += 1;
                moved += usize::from(changed);
            } else {
                kept += 1;
                kept_moved += usize::from(changed);
            }
        }
    }
    Ok((dropped, moved, kept, kept_moved))
}

/// Claim 11: whether a dropped unit's weights change in the step that dropped it.
pub fn dropped_units(lab: &Lab) -> Result<Outcome> {
    let l2 = 1e-2;
    let cases: [(&str, f32, f32); 3] = [
        ("plain SGD", 0.0, 0.0),
        ("SGD, momentum 0.9", 0.9, 0.0),
        ("SGD, L2 weight decay", 0.0, l2),
    ];
    let mut fractions = Vec::new();
    let mut rows = Vec::new();
    let mut raw = Vec::new();
    for (name, mu, wd) in cases {
        let (mut d, mut m, mut k, mut km) = (0, 0, 0, 0);
        for s in seeds(lab) {
            let r = dropped_moved(lab, mu, wd, s)?;
            d += r.0;
            m += r.1;
            k += r.2;
            km += r.3;
        }
        if d == 0 || k == 0 {
            return Err(Error::runtime(
                "claim 11: no dropped or no kept active unit was observed",
            ));
        }
        let f = m as f64 / d as f64;
        fractions.push(f);
        rows.push(vec![
            name.to_string(),
            format!("{m} of {d} ({:.0} %)", 100.0 * f),
            format!("{km} of {k} ({:.0} %)", 100.0 * km as f64 / k as f64),
        ]);
        raw.push(json!({"optimizer": name, "dropped": d, "dropped_moved": m, "kept": k, "kept_moved": km}));
    }
    let decision = verdict::dropped_units(fractions[0], fractions[1], fractions[2]);
    let pts: Vec<Point> = fractions
        .iter()
        .enumerate()
        .map(|(i, &f)| Point {
            x: i as f64,
            mean: 100.0 * f,
            lo: f64::NAN,
            hi: f64::NAN,
        })
        .collect();
    let names: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    let plot = Plot::Intervals {
        title: "Claim 11: dropped units whose weights moved in that step".into(),
        x: String::new(),
        y: "dropped units moved (%)".into(),
        series: vec![("share over seeds".into(), pts)],
        categories: Some(names),
        log_x: false,
    };
    Ok(Outcome {
        setup: format!(
            "MLP {}-64-10, hidden dropout 0.5, one example per step, lr {}; after 7 steps, the 8th step's dropped units (active without dropout, zeroed by the mask) and whether any of their incoming weights, bias or outgoing weights changed; L2 coefficient {l2}",
            lab.widths[0], lab.lr
        ),
        headers: vec![
            "optimizer".into(),
            "dropped units whose weights moved".into(),
            "kept active units whose weights moved".into(),
        ],
        rows,
        numbers: json!(raw),
        plot: Some(plot),
        decision,
    })
}
