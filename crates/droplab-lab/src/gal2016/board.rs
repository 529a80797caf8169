//! The job board: workers take one training at a time (a grid point of a split, or a split's
//! final retrain, queued once its grid is scored), so every core stays busy to the end.

use super::*;

/// One unit of work: grid point `i` of split `k`, or split `k`'s final retrain.
#[derive(Clone, Copy)]
pub(super) enum Job {
    Candidate(usize, usize),
    Final(usize),
}

/// The shared state of the workers of one recipe.
pub(super) struct Board {
    /// Grid-point jobs in split order; `next` is the first not yet handed out.
    pub(super) queue: Vec<(usize, usize)>,
    pub(super) next: usize,
    /// Splits whose grid is complete, waiting for their final retrain (handed out first).
    pub(super) finals: Vec<usize>,
    /// Per split: its scored grid points so far, and the seconds its jobs took on one core.
    pub(super) grids: Vec<Vec<Option<Candidate>>>,
    pub(super) seconds: Vec<f64>,
    /// Jobs in progress; with nothing queued and none running, the work is done.
    pub(super) running: usize,
    pub(super) failed: bool,
}

impl Board {
    /// The next job, waiting while only running jobs can make more; `None` when done or failed.
    pub(super) fn take(mut b: std::sync::MutexGuard<'_, Board>, cv: &Condvar) -> Option<Job> {
        loop {
            if b.failed {
                return None;
            }
            let job = if let Some(k) = b.finals.pop() {
                Some(Job::Final(k))
            } else if let Some(&(k, i)) = b.queue.get(b.next) {
                b.next += 1;
                Some(Job::Candidate(k, i))
            } else {
                None
            };
            if let Some(j) = job {
                b.running += 1;
                return Some(j);
            }
            if b.running == 0 {
                return None;
            }
            b = cv.wait(b).unwrap();
        }
    }
}

/// Marks a job done when dropped, also when it panicked: a failure stops the hand-out (the
/// run fails as a whole), and no worker is left waiting for a job that will never finish.
pub(super) struct Done<'a> {
    pub(super) board: &'a Mutex<Board>,
    pub(super) cv: &'a Condvar,
    pub(super) failed: bool,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        let mut b = self.board.lock().unwrap_or_else(|e| e.into_inner());
        b.running -= 1;
        b.failed |= self.failed || std::thread::panicking();
        self.cv.notify_all();
    }
}
