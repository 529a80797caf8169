//! droplab's benchmarks, run by `droplab bench` and compared side by side with the PyTorch
//! peer in this folder (`pytorch_peer.py`, driven by `compare.py`).
//!
//! Timing never appears in tests: these functions are for measurement only.

use std::time::Instant;

use droplab::model::{DropoutConfig, ModelConfig};
use droplab::nn::{Activation, Ctx, Mode, Targets};
use droplab::optim::OptimizerConfig;
use droplab::rng::Stream;
use droplab::tensor::{Tensor, Threads, Trans, gemm};
use droplab::train::{Stepper, TrainConfig};
use serde::Serialize;

/// What is benchmarked. Both train with softmax cross-entropy and SGD momentum 0.9, lr 0.01,
/// f32, on synthetic 28x28 inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// MLP 784-1024-1024-10, ReLU, dropout 0.2/0.5/0.5 (targets.md), batch 128.
    Mlp,
    /// LeNet-like CNN on 1x28x28: conv 32 5x5 (same padding), max pool 2, conv 64 5x5, max
    /// pool 2, dense 1024 with dropout 0.5, 10; ReLU; batch 128.
    Cnn,
    /// 2-layer LSTM, 256 units, on sequences of 35 steps of 256 features, last step -> 10,
    /// with variational dropout 0.25 on the inputs, between the layers and on the recurrent
    /// state (one mask per sequence); batch 32.
    Lstm,
}

impl Task {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Task::Mlp => "mlp",
            Task::Cnn => "cnn",
            Task::Lstm => "lstm",
        }
    }

    /// One line describing the task.
    pub fn describe(self) -> &'static str {
        match self {
            Task::Mlp => "MLP 784-1024-1024-10, dropout 0.2/0.5/0.5",
            Task::Cnn => "CNN c32k5-p2-c64k5-p2-f1024-10, dropout 0.5 on the dense layer",
            Task::Lstm => "LSTM 2 x 256 over 35 steps, variational dropout 0.25 (input, between, recurrent)",
        }
    }

    /// Per-example input shape.
    fn input(self) -> Vec<usize> {
        match self {
            Task::Mlp => vec![784],
            Task::Cnn => vec![1, 28, 28],
            Task::Lstm => vec![35, 256],
        }
    }

    /// Default (timed steps, inference batch, inference batches).
    fn sizes(self) -> (usize, usize, usize) {
        match self {
            Task::Mlp => (60, 1000, 20),
            Task::Cnn => (10, 500, 4),
            Task::Lstm => (20, 256, 4),
        }
    }

    /// FLOPs of one training step at batch `b`: forward, weight gradients, and input
    /// gradients of every layer but the first (whose input gradient is never computed).
    pub fn train_flop(self, b: usize) -> f64 {
        match self {
            Task::Mlp => train_flop(&[784, 1024, 1024, 10], b),
            Task::Cnn => {
                // (forward FLOPs per example) of conv1, conv2, dense 3136->1024, dense 1024->10
                let conv1 = 2.0 * (32 * 25 * 28 * 28) as f64;
                let rest = 2.0 * (64 * 32 * 25 * 14 * 14 + 3136 * 1024 + 1024 * 10) as f64;
                b as f64 * (2.0 * conv1 + 3.0 * rest)
            }
            Task::Lstm => {
                // per layer and step: x W_ih^T and h W_hh^T, 4 gates of 256 units
                let layer = 2.0 * (4 * 256 * (256 + 256)) as f64 * 35.0;
                b as f64 * 3.0 * 2.0 * layer
            }
        }
    }
}

/// A benchmark run: the task and how long to measure it.
#[derive(Clone, Debug)]
pub struct Bench {
    /// What to measure.
    pub task: Task,
    /// Threads (default 2).
    pub threads: usize,
    /// Training batch size.
    pub batch: usize,
    /// Timed training steps per measurement.
    pub train_steps: usize,
    /// Inference batch size.
    pub infer_batch: usize,
    /// Timed inference batches per measurement.
    pub infer_batches: usize,
    /// Alternating rounds (dropout on / off); medians are reported.
    pub rounds: usize,
}

impl Bench {
    /// The default sizes for `task`.
    pub fn new(task: Task) -> Self {
        let (train_steps, infer_batch, infer_batches) = task.sizes();
        Bench {
            task,
            threads: 2,
            batch: if task == Task::Lstm { 32 } else { 128 },
            train_steps,
            infer_batch,
            infer_batches,
            rounds: 5,
        }
    }
}

/// Results of a benchmark (medians over rounds).
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// The task.
    pub task: &'static str,
    /// Training samples per second with the task's dropout.
    pub train_samples_per_sec: f64,
    /// Training samples per second with every rate 0 (same network, same run).
    pub train_samples_per_sec_no_dropout: f64,
    /// Inference samples per second (Eval mode).
    pub infer_samples_per_sec: f64,
    /// Share of a training step's time due to dropout: `1 - t_no_dropout / t_dropout`.
    pub dropout_overhead: f64,
    /// GFLOP executed per training step.
    pub gflop_per_step: f64,
    /// Achieved training GFLOP/s.
    pub train_gflops: f64,
    /// SGEMM GFLOP/s measured on a large square product in the same run (the peak reference).
    pub peak_gflops: f64,
    /// `train_gflops / peak_gflops`.
    pub fraction_of_peak: f64,
    /// Threads used.
    pub threads: usize,
}

fn model_config(task: Task, dropout: bool) -> ModelConfig {
    let (input, hidden) = if dropout { (0.2, vec![0.5]) } else { (0.0, vec![]) };
    match task {
        Task::Mlp => ModelConfig {
            widths: vec![784, 1024, 1024, 10],
            activation: Activation::Relu,
            dropout: DropoutConfig {
                input,
                hidden,
                ..Default::default()
            },
            ..Default::default()
        },
        Task::Lstm => ModelConfig {
            recurrent: Some("lstm256-lstm256-last-10".into()),
            input_shape: task.input(),
            dropout: if dropout {
                DropoutConfig {
                    input: 0.25,
                    hidden: vec![0.25],
                    recurrent: 0.25,
                    variational: true,
                    ..Default::default()
                }
            } else {
                DropoutConfig::default()
            },
            ..Default::default()
        },
        Task::Cnn => ModelConfig {
            layers: Some("c32k5-p2-c64k5-p2-f1024-10".into()),
            input_shape: task.input(),
            activation: Activation::Relu,
            dropout: DropoutConfig {
                hidden,
                ..Default::default()
            },
            ..Default::default()
        },
    }
}

fn synthetic(n: usize, shape: &[usize], seed: u64) -> (Tensor, Targets) {
    let mut r = Stream::new(seed, "bench-data").seq();
    let d: usize = shape.iter().product();
    let mut full = vec![n];
    full.extend_from_slice(shape);
    let x = Tensor::from_vec(&full, (0..n * d).map(|_| r.uniform()).collect()).expect("shape");
    let y = Targets::Classes((0..n).map(|_| r.below(10) as u32).collect());
    (x, y)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Training samples/s of one measurement.
fn train_rate(b: &Bench, threads: &Threads, dropout: bool, x: &Tensor, y: &Targets) -> droplab::Result<f64> {
    let mut model = model_config(b.task, dropout).build(0)?;
    let cfg = TrainConfig {
        batch_size: b.batch,
        optimizer: OptimizerConfig {
            lr: 0.01,
            momentum: 0.9,
            ..Default::default()
        },
        ..Default::default()
    };
    let warmup = 3;
    let mut stepper = Stepper::new(&cfg, (b.train_steps + warmup) as u64)?;
    let par = threads.par();
    let batches = x.rows() / b.batch;
    threads.install(|| {
        let mut xb = Tensor::default();
        let mut yb = Targets::Classes(Vec::new());
        let mut start = Instant::now();
        for s in 0..b.train_steps + warmup {
            if s == warmup {
                start = Instant::now();
            }
            let i = s % batches;
            let idx: Vec<usize> = (i * b.batch..(i + 1) * b.batch).collect();
            x.gather_rows(&idx, &mut xb);
            y.gather(&idx, &mut yb);
            stepper.step(&mut model, &xb, &yb, None, 0, par)?;
        }
        Ok((b.train_steps * b.batch) as f64 / start.elapsed().as_secs_f64())
    })
}

/// Inference samples/s of one measurement.
fn infer_rate(b: &Bench, threads: &Threads, x: &Tensor) -> droplab::Result<f64> {
    let mut model = model_config(b.task, true).build(0)?;
    let par = threads.par();
    threads.install(|| {
        let mut xb = Tensor::default();
        let idx: Vec<usize> = (0..b.infer_batch).collect();
        x.gather_rows(&idx, &mut xb);
        let ctx = Ctx::new(Mode::Eval, 0).with_par(par);
        model.forward(&ctx, &xb)?;
        let start = Instant::now();
        for _ in 0..b.infer_batches {
            model.forward(&ctx, &xb)?;
        }
        Ok((b.infer_batches * b.infer_batch) as f64 / start.elapsed().as_secs_f64())
    })
}

/// SGEMM GFLOP/s on an `n x n x n` product: the best of a few repetitions.
pub fn gemm_peak(threads: &Threads, n: usize) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| (i % 13) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; n * n];
    let par = threads.par();
    threads.install(|| {
        let mut best = 0.0f64;
        for _ in 0..5 {
            let start = Instant::now();
            gemm(&mut c, &a, (n, n), Trans::N, &a, (n, n), Trans::T, false, par);
            let s = start.elapsed().as_secs_f64();
            best = best.max(2.0 * (n as f64).powi(3) / s / 1e9);
        }
        best
    })
}

/// FLOPs of one training step of `widths` at batch `b`: forward, weight gradients, and input
/// gradients of every layer but the first (whose input gradient is never computed).
pub fn train_flop(widths: &[usize], b: usize) -> f64 {
    let fwd: f64 = widths.windows(2).map(|w| 2.0 * (b * w[0] * w[1]) as f64).sum();
    let first = 2.0 * (b * widths[0] * widths[1]) as f64;
    3.0 * fwd - first
}

/// Runs a benchmark: training with and without dropout alternately, then inference.
pub fn run(b: &Bench, mut progress: impl FnMut(&str)) -> droplab::Result<BenchResult> {
    let threads = Threads::new(Some(b.threads))?;
    let input = b.task.input();
    let (x, y) = synthetic(b.batch * 16, &input, 1);
    let (xi, _) = synthetic(b.infer_batch, &input, 2);
    let (mut on, mut off, mut inf) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..b.rounds {
        progress(&format!("round {}/{}", r + 1, b.rounds));
        on.push(train_rate(b, &threads, true, &x, &y)?);
        off.push(train_rate(b, &threads, false, &x, &y)?);
        inf.push(infer_rate(b, &threads, &xi)?);
    }
    let peak = gemm_peak(&threads, 1536);
    let (on, off, inf) = (median(on), median(off), median(inf));
    let flop = b.task.train_flop(b.batch);
    let gflops = on / b.batch as f64 * flop / 1e9;
    Ok(BenchResult {
        task: b.task.name(),
        train_samples_per_sec: on,
        train_samples_per_sec_no_dropout: off,
        infer_samples_per_sec: inf,
        dropout_overhead: 1.0 - on / off,
        gflop_per_step: flop / 1e9,
        train_gflops: gflops,
        peak_gflops: peak,
        fraction_of_peak: gflops / peak,
        threads: b.threads,
    })
}
