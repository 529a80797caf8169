//! GFLOP/s of faer's SGEMM on each product of a benchmark's training step (`mlp`, the
//! default, or `cnn`: the convolutions' products per group of 8 examples and per example),
//! with 1 and 2 threads (`cnn`: 1 thread, as each group runs on one): shows where a step's
//! time goes.
use std::time::Instant;

use droplab::tensor::{Threads, Trans, gemm};

type Shape = (&'static str, usize, usize, Trans, usize, usize, Trans);

fn main() {
    let cnn = std::env::args().nth(1).as_deref() == Some("cnn");
    // (label, a_rows, a_cols, ta, b_rows, b_cols, tb)
    let cnn_shapes: [Shape; 9] = [
        (
            "conv2 fwd W col[800,8x196]",
            64,
            800,
            Trans::N,
            800,
            1568,
            Trans::N,
        ),
        (
            "conv2 dW dY col^T (group)",
            64,
            1568,
            Trans::N,
            800,
            1568,
            Trans::T,
        ),
        ("conv2 dcol W^T dY (group)", 64, 800, Trans::T, 64, 1568, Trans::N),
        ("conv2 fwd per example", 64, 800, Trans::N, 800, 196, Trans::N),
        ("conv2 dW per example", 64, 196, Trans::N, 800, 196, Trans::T),
        ("conv2 dcol per example", 64, 800, Trans::T, 64, 196, Trans::N),
        ("conv1 fwd W col[25,8x784]", 32, 25, Trans::N, 25, 6272, Trans::N),
        (
            "conv1 dW dY col^T (group)",
            32,
            6272,
            Trans::N,
            25,
            6272,
            Trans::T,
        ),
        (
            "conv1 dW^T col dY^T (group)",
            25,
            6272,
            Trans::N,
            32,
            6272,
            Trans::T,
        ),
    ];
    let mlp_shapes: [Shape; 6] = [
        ("fwd1 x[128,784] W1^T", 128, 784, Trans::N, 1024, 784, Trans::T),
        ("fwd2 h[128,1024] W2^T", 128, 1024, Trans::N, 1024, 1024, Trans::T),
        ("dW2 dA^T[1024,128] h", 128, 1024, Trans::T, 128, 1024, Trans::N),
        ("dW1 dA^T[1024,128] x", 128, 1024, Trans::T, 128, 784, Trans::N),
        ("dX2 dA[128,1024] W2", 128, 1024, Trans::N, 1024, 1024, Trans::N),
        ("square 1536", 1536, 1536, Trans::N, 1536, 1536, Trans::T),
    ];
    let (shapes, thread_counts): (&[Shape], &[usize]) = if cnn {
        (&cnn_shapes, &[1])
    } else {
        (&mlp_shapes, &[1, 2])
    };
    for &threads in thread_counts {
        let t = Threads::new(Some(threads)).expect("threads");
        let par = t.par();
        for &(label, ar, ac, ta, br, bc, tb) in shapes {
            let a = vec![0.5f32; ar * ac];
            let b = vec![0.25f32; br * bc];
            let (m, k) = if ta == Trans::N { (ar, ac) } else { (ac, ar) };
            let n = if tb == Trans::N { bc } else { br };
            let mut c = vec![0.0f32; m * n];
            let reps = 20;
            let best = t.install(|| {
                let mut best = 0.0f64;
                for _ in 0..reps {
                    let s = Instant::now();
                    gemm(&mut c, &a, (ar, ac), ta, &b, (br, bc), tb, false, par);
                    best = best.max(2.0 * (m * n * k) as f64 / s.elapsed().as_secs_f64() / 1e9);
                }
                best
            });
            println!("{threads} thread(s)  {label:<26} {best:6.1} GFLOP/s");
        }
    }
}
