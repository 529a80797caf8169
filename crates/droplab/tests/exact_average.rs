//! The exact average over all thinned networks against two independent computations: the
//! brute-force mean of explicitly built thinned networks (dropout-free copies whose weights
//! carry the mask), and the Monte Carlo mean of many passes.

use droplab::Sequential;
use droplab::analysis::exact::{dropout_sites, exact_average};
use droplab::analysis::uncertainty::{McSamples, softmax_in_place};
use droplab::data::Dataset;
use droplab::model::{DropoutConfig, ModelConfig};
use droplab::nn::{Ctx, Mode, Targets};
use droplab::regularize::Convention;
use droplab::tensor::{Tensor, Threads};

fn config(p_in: f32, p_hidden: f32, convention: Convention) -> ModelConfig {
    ModelConfig {
        widths: vec![3, 4, 3],
        dropout: DropoutConfig {
            input: p_in,
            hidden: vec![p_hidden],
            convention,
            ..DropoutConfig::default()
        },
        ..ModelConfig::default()
    }
}

fn inputs() -> Tensor {
    Tensor::from_vec(&[2, 3], vec![0.5, -1.0, 2.0, 1.5, 0.3, -0.7]).unwrap()
}

/// Weights of a model's dense layers, in order: (weight [out, in], bias).
fn dense_params(m: &Sequential) -> Vec<(Tensor, Tensor)> {
    m.layers()
        .iter()
        .filter(|l| l.describe().starts_with("dense"))
        .map(|l| (l.params()[0].value.clone(), l.params()[1].value.clone()))
        .collect()
}

/// The mean of the thinned networks, each built as a dropout-free network whose weight
/// columns carry the mask (scaled by 1/(1-p) under the inverted convention), weighted by the
/// mask's probability.
fn brute_force(cfg: &ModelConfig, x: &Tensor) -> Vec<f64> {
    let trained = cfg.build(7).unwrap();
    let params = dense_params(&trained);
    let (p_in, p_h) = (cfg.dropout.input as f64, cfg.dropout.hidden[0] as f64);
    let inverted = cfg.dropout.convention == Convention::Inverted;
    let plain_cfg = ModelConfig {
        dropout: DropoutConfig::default(),
        ..cfg.clone()
    };
    let mut out = vec![0.0f64; 2 * 3];
    for mask in 0u32..(1 << 7) {
        let keep = |b: u32| mask >> b & 1 == 1;
        let mut prob = 1.0;
        for b in 0..3 {
            prob *= if keep(b) { 1.0 - p_in } else { p_in };
        }
        for b in 3..7 {
            prob *= if keep(b) { 1.0 - p_h } else { p_h };
        }
        let mut plain = plain_cfg.build(7).unwrap();
        let mut layers: Vec<_> = plain
            .layers_mut()
            .iter_mut()
            .filter(|l| l.describe().starts_with("dense"))
            .collect();
        for (li, layer) in layers.iter_mut().enumerate() {
            let (w, b) = &params[li];
            let (p, first_bit) = if li == 0 { (p_in, 0) } else { (p_h, 3) };
            let cols = w.cols();
            let mut w = w.clone();
            for row in w.data_mut().chunks_exact_mut(cols) {
                for (j, v) in row.iter_mut().enumerate() {
                    let factor = if !keep(first_bit + j as u32) {
                        0.0
                    } else if inverted {
                        1.0 / (1.0 - p)
                    } else {
                        1.0
                    };
                    *v *= factor as f32;
                }
            }
            let mut ps = layer.params_mut();
            ps[0].value = w;
            ps[1].value = b.clone();
        }
        let y = plain.forward(&Ctx::new(Mode::Eval, 0), x).unwrap().clone();
        for (o, row) in out.chunks_exact_mut(3).zip(y.data().chunks_exact(3)) {
            let mut r = row.to_vec();
            softmax_in_place(&mut r);
            for (a, v) in o.iter_mut().zip(r) {
                *a += prob * v as f64;
            }
        }
    }
    out
}

#[test]
fn exact_average_equals_the_brute_force_mean_of_thinned_networks() {
    for convention in [Convention::Inverted, Convention::Standard] {
        for (p_in, p_h) in [(0.2, 0.5), (0.5, 0.3), (0.0, 0.5)] {
            let cfg = config(p_in, p_h, convention);
            let mut model = cfg.build(7).unwrap();
            let exact = exact_average(&mut model, &inputs(), 20).unwrap();
            let brute = brute_force(&cfg, &inputs());
            for (a, b) in exact.data().iter().zip(&brute) {
                assert!(
                    (*a as f64 - b).abs() < 1e-5,
                    "{convention:?} {p_in} {p_h}: {a} vs {b}"
                );
            }
            // Each row is a distribution.
            for row in exact.data().chunks_exact(3) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
        }
    }
}

#[test]
fn monte_carlo_mean_converges_to_the_exact_average() {
    let cfg = config(0.2, 0.5, Convention::Inverted);
    let mut model = cfg.build(7).unwrap();
    let x = inputs();
    let exact = exact_average(&mut model, &x, 20).unwrap();
    let data = Dataset::new(x, Targets::Classes(vec![0, 1]), 3).unwrap();
    let threads = Threads::new(Some(1)).unwrap();
    let mc = McSamples::collect(&mut model, &data, Mode::MonteCarlo, 20_000, 500, true, &threads).unwrap();
    let mean = mc.mean(mc.passes);
    for (a, b) in exact.data().iter().zip(&mean) {
        // Standard error of a mean of 20,000 probabilities is below 0.0035: 5 of them.
        assert!((a - b).abs() < 0.018, "{a} vs {b}");
    }
}

#[test]
fn exact_average_refuses_large_networks_and_reports_sites() {
    let cfg = ModelConfig {
        widths: vec![3, 64, 3],
        dropout: DropoutConfig {
            input: 0.2,
            hidden: vec![0.5],
            ..DropoutConfig::default()
        },
        ..ModelConfig::default()
    };
    let mut model = cfg.build(1).unwrap();
    assert_eq!(dropout_sites(&model).unwrap().len(), 2);
    let e = exact_average(&mut model, &inputs(), 20).unwrap_err().to_string();
    assert!(e.contains("U = 67"), "{e}");
}
