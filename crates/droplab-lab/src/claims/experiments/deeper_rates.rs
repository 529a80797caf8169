//! Claim 8: three hidden layers with rates rising, constant or falling with depth.

use super::*;

/// Claim 8: three hidden layers with rates rising, constant or falling with depth.
pub fn deeper_rates(lab: &Lab) -> Result<Outcome> {
    let h = lab.widths[1];
    let widths = vec![lab.widths[0], h, h, h, 10];
    let schedules: [(&str, [f32; 3]); 3] = [
        ("increasing 0.1, 0.3, 0.5", [0.1, 0.3, 0.5]),
        ("constant 0.3", [0.3, 0.3, 0.3]),
        ("decreasing 0.5, 0.3, 0.1", [0.5, 0.3, 0.1]),
    ];
    let mut acc: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for s in seeds(lab) {
        for (i, (_, r)) in schedules.iter().enumerate() {
            let net = Net {
                hidden: r.to_vec(),
                ..Net::plain(&widths)
            };
            let t = lab.train(&net, lab.train_size, s)?;
            acc[i].push(lab.test_and_train(&t, lab.train_size, s)?.0.accuracy);
        }
    }
    let decision = verdict::deeper_rates(&acc[0], &acc[1], &acc[2]);
    let arms: Vec<(&str, &[f64])> = schedules
        .iter()
        .zip(&acc)
        .map(|((n, _), a)| (*n, &a[..]))
        .collect();
    Ok(Outcome {
        setup: format!(
            "{}, {} epochs, on {}; the same mean rate (0.3) spread three ways over the hidden layers",
            net_text(lab, &widths),
            lab.epochs,
            size_text(lab, lab.train_size)
        ),
        headers: vec!["rates by depth".into(), "test accuracy (%)".into()],
        rows: arm_rows(&arms),
        numbers: json!({"increasing": acc[0], "constant": acc[1], "decreasing": acc[2]}),
        plot: Some(arms_plot(
            "Claim 8: rates by depth",
            "test accuracy (%)",
            &arms,
            100.0,
        )),
        decision,
    })
}
