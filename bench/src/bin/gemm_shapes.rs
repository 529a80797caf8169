//! GFLOP/s of faer's SGEMM on each product of the MLP benchmark's training step, with 1 and
//! 2 threads: shows where a step's time goes.
use std::time::Instant;

use droplab::tensor::{Threads, Trans, gemm};

fn main() {
    // (label, a_rows, a_cols, ta, b_rows, b_cols, tb)
    let shapes = [
        ("fwd1 x[128,784] W1^T", 128, 784, Trans::N, 1024, 784, Trans::T),
        ("fwd2 h[128,1024] W2^T", 128, 1024, Trans::N, 1024, 1024, Trans::T),
        ("dW2 dA^T[1024,128] h", 128, 1024, Trans::T, 128, 1024, Trans::N),
        ("dW1 dA^T[1024,128] x", 128, 1024, Trans::T, 128, 784, Trans::N),
        ("dX2 dA[128,1024] W2", 128, 1024, Trans::N, 1024, 1024, Trans::N),
        ("square 1536", 1536, 1536, Trans::N, 1536, 1536, Trans::T),
    ];
    for threads in [1, 2] {
        let t = Threads::new(Some(threads)).expect("threads");
        let par = t.par();
        for &(label, ar, ac, ta, br, bc, tb) in &shapes {
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
