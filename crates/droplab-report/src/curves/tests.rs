//! Tests of the learning-curve and gap plots.

use super::*;

fn epoch(e: usize, train_acc: f64, val_acc: f64, train_loss: f64, val_loss: f64) -> EpochMetrics {
    EpochMetrics {
        epoch: e,
        train_loss,
        train_accuracy: train_acc,
        train_loss_running: train_loss * 1.1,
        val_loss,
        val_accuracy: val_acc,
        gap: train_acc - val_acc,
        penalty: 0.0,
        lr: 0.1,
        seconds: 0.5,
    }
}

/// A run that overfits: train loss keeps falling, validation loss turns up after `turn`.
fn overfitting(n: usize, turn: usize, rate: f64) -> Vec<EpochMetrics> {
    (1..=n)
        .map(|e| {
            let t = e as f64;
            let train_loss = 2.3 * (-rate * t).exp();
            let val_loss = 2.3 * (-rate * t.min(turn as f64)).exp() + 0.01 * (t - turn as f64).max(0.0);
            let train_acc = 1.0 - 0.9 * (-rate * t).exp();
            let val_acc = 1.0 - 0.9 * (-rate * t.min(turn as f64)).exp() - 0.002 * (t - turn as f64).max(0.0);
            epoch(e, train_acc, val_acc, train_loss, val_loss)
        })
        .collect()
}

/// No validation set: val_* are NaN.
fn no_validation(n: usize) -> Vec<EpochMetrics> {
    (1..=n)
        .map(|e| {
            let t = e as f64;
            epoch(e, 1.0 - 0.8 / t, f64::NAN, 1.5 / t, f64::NAN)
        })
        .collect()
}

fn fill_hex(i: usize) -> String {
    let RGBColor(r, g, b) = colour(i);
    format!("fill=\"#{r:02X}{g:02X}{b:02X}\"")
}

/// Filled circles of run `i`'s colour.
fn markers(svg: &str, i: usize) -> usize {
    let fill = fill_hex(i);
    svg.lines()
        .filter(|l| l.starts_with("<circle") && l.contains(&fill))
        .count()
}

fn assert_well_formed(svg: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    // Self-contained: no external references.
    assert!(!svg.contains("href"));
    assert!(!svg.contains("url("));
    let lower = svg.to_lowercase();
    assert!(!lower.contains("nan"), "NaN leaked into the SVG");
    assert!(!lower.contains("inf"), "infinity leaked into the SVG");
    // Balanced text elements.
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}

#[test]
fn learning_curves_contain_names_labels_and_markers() {
    let a = overfitting(40, 25, 0.12);
    let b = overfitting(40, 12, 0.2);
    let c = no_validation(30);
    let runs = [
        Series {
            name: "dropout",
            history: &a,
            best_epoch: 25,
        },
        Series {
            name: "no dropout",
            history: &b,
            best_epoch: 12,
        },
        Series {
            name: "no val & <escaped>",
            history: &c,
            best_epoch: 30,
        },
    ];
    let svg = learning_curves_svg("MNIST: dropout vs none", &runs).unwrap();
    assert_well_formed(&svg);
    assert!(svg.contains("MNIST: dropout vs none"));
    for label in [
        "dropout (best 25)",
        "no dropout (best 12)",
        "accuracy",
        "loss",
        "epoch",
    ] {
        assert!(svg.contains(label), "missing {label:?}");
    }
    assert!(svg.contains("no val &amp; &lt;escaped&gt; (best 30)"));
    assert!(svg.contains("train") && svg.contains("validation"));
    // Runs with a validation set: a filled marker on each panel plus the legend key.
    assert_eq!(markers(&svg, 0), 3);
    assert_eq!(markers(&svg, 1), 3);
    // The run without one: only the legend key is filled (its marker is an open circle).
    assert_eq!(markers(&svg, 2), 1);
    // Loss from 2.3 down to ~0.02 spans two decades: log scale.
    assert!(svg.contains("loss (log scale)"));
}

#[test]
fn loss_with_zeros_uses_a_linear_axis() {
    let mut h = overfitting(10, 5, 0.3);
    h[9].train_loss = 0.0;
    h[3].val_loss = f64::INFINITY;
    h[4].val_accuracy = f64::NAN;
    let runs = [Series {
        name: "zero",
        history: &h,
        best_epoch: 5,
    }];
    let svg = learning_curves_svg("zeros", &runs).unwrap();
    assert_well_formed(&svg);
    assert!(!svg.contains("log scale"));
    // Best epoch 5 has a NaN validation accuracy: only the loss marker (plus legend key).
    assert_eq!(markers(&svg, 0), 2);
}

#[test]
fn empty_inputs_are_errors_not_panics() {
    assert!(matches!(learning_curves_svg("t", &[]), Err(ReportError::NoRuns)));
    let runs = [Series {
        name: "empty",
        history: &[],
        best_epoch: 0,
    }];
    assert!(matches!(
        learning_curves_svg("t", &runs),
        Err(ReportError::EmptyHistories)
    ));
    assert!(matches!(gap_svg("t", &runs), Err(ReportError::EmptyHistories)));
    // An empty run among others is only listed.
    let h = overfitting(5, 3, 0.2);
    let runs = [
        Series {
            name: "empty",
            history: &[],
            best_epoch: 0,
        },
        Series {
            name: "full",
            history: &h,
            best_epoch: 3,
        },
    ];
    let svg = learning_curves_svg("t", &runs).unwrap();
    assert_well_formed(&svg);
    assert!(svg.contains("empty (no epochs)"));
}

#[test]
fn single_epoch_and_all_nan() {
    let one = vec![epoch(1, 0.5, 0.4, 1.0, 1.2)];
    let nan = vec![epoch(1, f64::NAN, f64::NAN, f64::NAN, f64::NAN); 1];
    let runs = [
        Series {
            name: "one",
            history: &one,
            best_epoch: 1,
        },
        Series {
            name: "all missing",
            history: &nan,
            best_epoch: 1,
        },
    ];
    let svg = learning_curves_svg("one epoch", &runs).unwrap();
    assert_well_formed(&svg);
    let svg = gap_svg("one epoch", &runs).unwrap();
    assert_well_formed(&svg);
}

#[test]
fn gap_plot_has_one_line_per_run() {
    let a = overfitting(30, 10, 0.15);
    let b = overfitting(30, 20, 0.15);
    let c = no_validation(30);
    let runs = [
        Series {
            name: "p=0.5",
            history: &a,
            best_epoch: 10,
        },
        Series {
            name: "p=0.2",
            history: &b,
            best_epoch: 20,
        },
        Series {
            name: "train only",
            history: &c,
            best_epoch: 30,
        },
    ];
    let svg = gap_svg("overfitting gap", &runs).unwrap();
    assert_well_formed(&svg);
    for name in [
        "p=0.5 (best 10)",
        "p=0.2 (best 20)",
        "train only (no validation set)",
        "overfitting gap",
    ] {
        assert!(svg.contains(name), "missing {name:?}");
    }
    let stroke = |i: usize| fill_hex(i).replace("fill", "stroke");
    let lines = |i: usize| {
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&stroke(i)))
            .count()
    };
    // One polyline per run with a gap (the legend keys are two-point polylines too).
    assert_eq!(lines(0), 2);
    assert_eq!(lines(1), 2);
    assert_eq!(lines(2), 1);
    assert_eq!(markers(&svg, 0), 2);
    assert_eq!(markers(&svg, 1), 2);
}

#[test]
fn epoch_ticks() {
    let ticks = |n: usize, first: usize| {
        let h: Vec<_> = (first..=n).map(|e| epoch(e, 0.5, 0.5, 1.0, 1.0)).collect();
        let runs = [Series {
            name: "r",
            history: &h,
            best_epoch: 0,
        }];
        epoch_axis(&runs).ticks
    };
    assert_eq!(ticks(60, 1), [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
    assert_eq!(ticks(8, 1), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(ticks(15, 1), [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]);
    assert_eq!(ticks(5, 5), [5.0]);
    assert_eq!(ticks(300, 1).len(), 6);
}

#[test]
fn tick_numbers() {
    assert_eq!(format_number(0.0), "0");
    assert_eq!(format_number(0.95), "0.95");
    assert_eq!(format_number(0.125), "0.125");
    assert_eq!(format_number(2.0), "2");
    assert_eq!(format_number(12.5), "12.5");
    assert_eq!(format_number(1e-5), "1e-5");
    assert_eq!(format_number(-0.05), "-0.05");
}

/// Not a test: writes examples (curves.svg, gap.svg, edge.svg) to the temp directory for eyeballing.
#[test]
#[ignore]
fn write_example() {
    let a = overfitting(60, 37, 0.1);
    let b = overfitting(60, 15, 0.18);
    let c = no_validation(45);
    let d = overfitting(50, 30, 0.07);
    let runs = [
        Series {
            name: "dropout",
            history: &a,
            best_epoch: 37,
        },
        Series {
            name: "no dropout",
            history: &b,
            best_epoch: 15,
        },
        Series {
            name: "dropout, no validation set",
            history: &c,
            best_epoch: 45,
        },
        Series {
            name: "dropout + max-norm",
            history: &d,
            best_epoch: 30,
        },
    ];
    std::fs::write(
        std::env::temp_dir().join("curves.svg"),
        learning_curves_svg("MLP 784-800-800-10 on MNIST", &runs).unwrap(),
    )
    .unwrap();
    std::fs::write(
        std::env::temp_dir().join("gap.svg"),
        gap_svg("Overfitting gap", &runs).unwrap(),
    )
    .unwrap();
    let mut z = overfitting(8, 4, 0.3);
    z[7].train_loss = 0.0;
    z[2].val_loss = f64::NAN;
    z[2].val_accuracy = f64::NAN;
    let one = vec![epoch(1, 0.5, 0.4, 1.0, 1.2)];
    let runs = [
        Series {
            name: "zeros and a NaN",
            history: &z,
            best_epoch: 4,
        },
        Series {
            name: "one epoch",
            history: &one,
            best_epoch: 1,
        },
    ];
    std::fs::write(
        std::env::temp_dir().join("edge.svg"),
        learning_curves_svg("edge cases", &runs).unwrap(),
    )
    .unwrap();
}

#[test]
fn band_curves_draw_a_band_and_a_mean_per_configuration_and_panel() {
    let (a1, a2) = (overfitting(10, 4, 0.01), overfitting(10, 6, 0.02));
    let (b1, b2) = (overfitting(8, 3, 0.03), overfitting(10, 5, 0.01));
    let configs = [
        SeedRuns {
            name: "none",
            histories: vec![&a1, &a2],
        },
        SeedRuns {
            name: "dropout",
            histories: vec![&b1, &b2],
        },
    ];
    let svg = band_curves_svg("demo", &configs).unwrap();
    assert_well_formed(&svg);
    // One band per configuration on each of the two panels.
    assert_eq!(svg.matches("<polygon").count(), 4, "{svg}");
    assert!(svg.contains("none (mean; band: range over 2 seeds)") && svg.contains("validation loss"));
    // No epochs at all: an error, not an empty plot.
    let empty: [&[EpochMetrics]; 1] = [&[]];
    let nothing = [SeedRuns {
        name: "x",
        histories: empty.to_vec(),
    }];
    assert!(band_curves_svg("demo", &nothing).is_err());
}
