//! The store's work on trials: claiming one (requeueing stale ones, or asking the sampler for
//! a new one), heartbeats, a fold's epochs and result, finishing, and reading trials back.

use super::*;

impl Store {
    /// Claims the next trial for `worker` (see the module docs). `suggest` gives the values of
    /// a new trial from its number and the finished trials.
    pub fn claim(
        &mut self,
        study: i64,
        limit: usize,
        worker: &str,
        stale_secs: f64,
        suggest: &mut Suggest<'_>,
    ) -> Result<Claim> {
        let d = self.db.dialect();
        let now = d.now();
        let lease = lease_token(worker);
        let url = self.url.clone();
        // A forgotten claim is harmless: the trial is queued again and the worker's later
        // writes, naming a lease the store no longer knows, change nothing.
        self.tx_relaxed(|db| {
            db.exec(
                &format!(
                    "UPDATE trials SET state = 'queued', worker = NULL, lease = NULL \
                     WHERE study_id = ? AND state = 'running' AND heartbeat < {now} - ?"
                ),
                &[study.into(), stale_secs.into()],
            )?;
            let queued = db.query(
                &format!(
                    "SELECT id, number, params FROM trials WHERE study_id = ? AND state = 'queued' \
                     ORDER BY number LIMIT 1{}",
                    d.skip_locked()
                ),
                &[study.into()],
            )?;
            let (id, number, params) = if let Some(r) = queued.first() {
                let id = r[0].int().unwrap_or(0);
                db.exec(
                    &format!(
                        "UPDATE trials SET state = 'running', worker = ?, lease = ?, heartbeat = {now}, \
                         started = {now}, attempts = attempts + 1 WHERE id = ?"
                    ),
                    &[worker.into(), lease.as_str().into(), id.into()],
                )?;
                // Epochs of a fold the last attempt did not finish are redone.
                db.exec(
                    "DELETE FROM epochs WHERE trial_id = ? AND fold NOT IN (SELECT fold FROM folds WHERE trial_id = ?)",
                    &[id.into(), id.into()],
                )?;
                let params = parse_params(&url, r[2].text().unwrap_or(""))?;
                (id, r[1].int().unwrap_or(0), params)
            } else {
                if d == Dialect::Postgres {
                    db.query("SELECT id FROM studies WHERE id = ? FOR UPDATE", &[study.into()])?;
                }
                let count = db
                    .query("SELECT COUNT(*) FROM trials WHERE study_id = ?", &[study.into()])?
                    .first()
                    .and_then(|r| r[0].int())
                    .unwrap_or(0);
                let suggested = if (count as usize) < limit {
                    let done = observations(db, &url, study)?;
                    suggest(count as u64, &done)?
                } else {
                    None
                };
                let Some(params) = suggested else {
                    let active = db
                        .query(
                            "SELECT COUNT(*) FROM trials WHERE study_id = ? AND state IN ('queued', 'running')",
                            &[study.into()],
                        )?
                        .first()
                        .and_then(|r| r[0].int())
                        .unwrap_or(0);
                    return Ok(if active > 0 { Claim::Wait } else { Claim::Finished });
                };
                db.exec(
                    &format!(
                        "INSERT INTO trials (study_id, number, params, state, worker, lease, heartbeat, started, attempts) \
                         VALUES (?, ?, ?, 'running', ?, ?, {now}, {now}, 1)"
                    ),
                    &[study.into(), count.into(), json(&params).into(), worker.into(), lease.as_str().into()],
                )?;
                let id = db
                    .query(
                        "SELECT id FROM trials WHERE study_id = ? AND number = ?",
                        &[study.into(), count.into()],
                    )?
                    .first()
                    .and_then(|r| r[0].int())
                    .unwrap_or(0);
                (id, count, params)
            };
            let done_folds = fold_rows(db, id)?;
            Ok(Claim::Trial(Claimed {
                id,
                number,
                params,
                lease: lease.clone(),
                done_folds,
            }))
        })
    }

    /// Puts the running trials of `worker` (a process known to be dead) back in the queue at
    /// once, without waiting for their heartbeat to go stale; its finished folds stay, and its
    /// lease is void. Returns how many trials went back.
    pub fn requeue_worker(&mut self, study: i64, worker: &str) -> Result<usize> {
        self.tx(|db| {
            db.exec(
                "UPDATE trials SET state = 'queued', worker = NULL, lease = NULL \
                 WHERE study_id = ? AND state = 'running' AND worker = ?",
                &[study.into(), worker.into()],
            )
            .map(|n| n as usize)
        })
    }

    /// Marks the worker of a trial alive. `false`: the trial is no longer this lease's.
    pub fn heartbeat(&mut self, trial: i64, lease: &str) -> Result<bool> {
        let now = self.db.dialect().now();
        self.tx_relaxed(|db| {
            Ok(db.exec(
                &format!(
                    "UPDATE trials SET heartbeat = {now} WHERE id = ? AND lease = ? AND state = 'running'"
                ),
                &[trial.into(), lease.into()],
            )? == 1)
        })
    }

    /// Sets the milliseconds a finished trial spent in the store, its finishing write
    /// included (known only once that write returned).
    pub fn set_coordination_ms(&mut self, trial: i64, ms: f64) -> Result<()> {
        self.tx_relaxed(|db| {
            db.exec(
                "UPDATE trials SET coordination_ms = ? WHERE id = ?",
                &[ms.into(), trial.into()],
            )?;
            Ok(())
        })
    }

    /// Records a fold's epochs and, if it finished, its result, in one transaction (and
    /// beats). `false`: the trial is no longer this lease's, and nothing was written.
    pub fn record_fold(
        &mut self,
        trial: i64,
        lease: &str,
        epochs: &[EpochScore],
        fold: Option<&FoldScore>,
    ) -> Result<bool> {
        let now = self.db.dialect().now();
        self.tx(|db| {
            let owned = db.exec(
                &format!("UPDATE trials SET heartbeat = {now} WHERE id = ? AND lease = ? AND state = 'running'"),
                &[trial.into(), lease.into()],
            )? == 1;
            if !owned {
                return Ok(false);
            }
            // One statement per fold and per 500 epochs: round trips, not rows, are the cost.
            for fold in epochs.iter().map(|e| e.fold).collect::<std::collections::BTreeSet<_>>() {
                db.exec(
                    "DELETE FROM epochs WHERE trial_id = ? AND fold = ?",
                    &[trial.into(), (fold as i64).into()],
                )?;
            }
            for chunk in epochs.chunks(500) {
                let rows = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                let mut args = Vec::with_capacity(chunk.len() * 6);
                for e in chunk {
                    args.extend([
                        trial.into(),
                        (e.fold as i64).into(),
                        (e.epoch as i64).into(),
                        e.val_score.into(),
                        e.train_score.into(),
                        e.val_loss.into(),
                    ]);
                }
                db.exec(
                    &format!("INSERT INTO epochs (trial_id, fold, epoch, val_score, train_score, val_loss) VALUES {rows}"),
                    &args,
                )?;
            }
            if let Some(f) = fold {
                db.exec(
                    "INSERT INTO folds (trial_id, fold, score, train_score, best_epoch, seconds) VALUES (?, ?, ?, ?, ?, ?)",
                    &[
                        trial.into(),
                        (f.fold as i64).into(),
                        f.score.into(),
                        f.train_score.into(),
                        (f.best_epoch as i64).into(),
                        f.seconds.into(),
                    ],
                )?;
            }
            Ok(true)
        })
    }

    /// Ends a trial. `false`: the trial is no longer this lease's, and nothing was written.
    pub fn finish(&mut self, trial: i64, lease: &str, o: &Outcome) -> Result<bool> {
        let now = self.db.dialect().now();
        Ok(self.db.exec(
            &format!(
                "UPDATE trials SET state = ?, score = ?, score_std = ?, train_score = ?, error = ?, \
                 finished = {now}, coordination_ms = ?, lease = NULL WHERE id = ? AND lease = ? AND state = 'running'"
            ),
            &[
                o.state.name().into(),
                o.score.into(),
                o.score_std.into(),
                o.train_score.into(),
                o.error.clone().into(),
                o.coordination_ms.into(),
                trial.into(),
                lease.into(),
            ],
        )? == 1)
    }

    /// Validation scores of the finished trials at one fold, by epoch (for pruning).
    pub fn scores_by_epoch(
        &mut self,
        study: i64,
        fold: usize,
    ) -> Result<std::collections::HashMap<usize, Vec<f64>>> {
        let rows = self.db.query(
            "SELECT e.epoch, e.val_score FROM epochs e JOIN trials t ON t.id = e.trial_id \
             WHERE t.study_id = ? AND t.state = 'done' AND e.fold = ?",
            &[study.into(), (fold as i64).into()],
        )?;
        let mut out: std::collections::HashMap<usize, Vec<f64>> = std::collections::HashMap::new();
        for r in rows {
            if let (Some(e), Some(v)) = (r[0].int(), r[1].real()) {
                out.entry(e as usize).or_default().push(v);
            }
        }
        Ok(out)
    }

    /// Every trial of a study, in number order, with its folds.
    pub fn trials(&mut self, study: i64) -> Result<Vec<TrialRecord>> {
        let url = self.url.clone();
        let rows = self.db.query(
            "SELECT id, number, params, state, score, score_std, train_score, attempts, worker, error, \
             finished - started, coordination_ms FROM trials WHERE study_id = ? ORDER BY number",
            &[study.into()],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id = r[0].int().unwrap_or(0);
            let state = TrialState::parse(r[3].text().unwrap_or(""));
            out.push(TrialRecord {
                number: r[1].int().unwrap_or(0),
                params: parse_params(&url, r[2].text().unwrap_or(""))?,
                state,
                score: r[4].real(),
                score_std: r[5].real(),
                train_score: r[6].real(),
                folds: fold_rows(self.db.as_mut(), id)?,
                attempts: r[7].int().unwrap_or(0),
                worker: r[8].text().map(str::to_string),
                error: r[9].text().map(str::to_string),
                seconds: r[10].real().filter(|_| state != TrialState::Running),
                coordination_ms: r[11].real(),
            });
        }
        Ok(out)
    }

    /// Per-epoch validation and training scores of a trial: `(fold, epoch, val, train)`.
    pub fn epochs(&mut self, study: i64, number: i64) -> Result<Vec<(usize, usize, f64, f64)>> {
        let rows = self.db.query(
            "SELECT e.fold, e.epoch, e.val_score, e.train_score FROM epochs e JOIN trials t ON t.id = e.trial_id \
             WHERE t.study_id = ? AND t.number = ? ORDER BY e.fold, e.epoch",
            &[study.into(), number.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r[0].int().unwrap_or(0) as usize,
                    r[1].int().unwrap_or(0) as usize,
                    r[2].real().unwrap_or(f64::NAN),
                    r[3].real().unwrap_or(f64::NAN),
                )
            })
            .collect())
    }
}

fn parse_params(url: &str, text: &str) -> Result<Params> {
    serde_json::from_str(text).map_err(|e| TuneError::Store {
        url: url.to_string(),
        msg: format!("a trial's values are unreadable ({e})"),
    })
}

fn observations(db: &mut dyn Backend, url: &str, study: i64) -> Result<Vec<Observation>> {
    let rows = db.query(
        "SELECT params, score FROM trials WHERE study_id = ? AND state = 'done' ORDER BY number",
        &[study.into()],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Observation {
                params: parse_params(url, r[0].text().unwrap_or(""))?,
                score: r[1].real().unwrap_or(f64::NAN),
            })
        })
        .collect()
}

fn fold_rows(db: &mut dyn Backend, trial: i64) -> Result<Vec<FoldScore>> {
    let rows = db.query(
        "SELECT fold, score, train_score, best_epoch, seconds FROM folds WHERE trial_id = ? ORDER BY fold",
        &[trial.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| FoldScore {
            fold: r[0].int().unwrap_or(0) as usize,
            score: r[1].real().unwrap_or(f64::NAN),
            train_score: r[2].real().unwrap_or(f64::NAN),
            best_epoch: r[3].int().unwrap_or(0) as usize,
            seconds: r[4].real().unwrap_or(f64::NAN),
        })
        .collect())
}

/// A token unique to one claim: the worker, the time and a counter.
fn lease_token(worker: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{worker}/{t:x}/{}", N.fetch_add(1, Ordering::Relaxed))
}
