//! The thread pool every kernel runs in, sized by the caller.

use std::sync::Arc;

use crate::error::{Error, Result};

/// A rayon pool of a chosen size, shared by the GEMM (faer) and the elementwise kernels.
///
/// Work is only ever split by rows or by blocks of a fixed size, and random numbers are keyed
/// by element index, so results that involve randomness do not depend on the thread count.
#[derive(Clone)]
pub struct Threads {
    pool: Arc<rayon::ThreadPool>,
    n: usize,
}

impl std::fmt::Debug for Threads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Threads({})", self.n)
    }
}

impl Threads {
    /// A pool of `n` threads; `None` or `Some(0)` means one per available core.
    pub fn new(n: Option<usize>) -> Result<Self> {
        let n = match n {
            Some(n) if n > 0 => n,
            _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("droplab-{i}"))
            .build()
            .map_err(|e| Error::config("threads", format!("cannot start {n} threads: {e}")))?;
        Ok(Threads {
            pool: Arc::new(pool),
            n,
        })
    }

    /// The number of threads.
    pub fn count(&self) -> usize {
        self.n
    }

    /// Runs `f` inside the pool: every rayon and faer call in `f` uses these threads.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// faer's parallelism setting for this pool.
    pub fn par(&self) -> faer::Par {
        if self.n <= 1 {
            faer::Par::Seq
        } else {
            faer::Par::rayon(self.n)
        }
    }
}
