//! The trial store: studies, their trials with values and states, and per-fold and per-epoch
//! scores, in SQLite (default, a file in the study directory) or PostgreSQL (`postgres://`).
//!
//! One schema, one set of statements (`backend` translates placeholders). Workers coordinate
//! only through the store:
//!
//! - **Claim** (one transaction): trials whose worker stopped beating for `stale` seconds go
//!   back to the queue; the lowest queued trial is taken (PostgreSQL: `FOR UPDATE SKIP
//!   LOCKED`; SQLite: `BEGIN IMMEDIATE` serialises claimers); if none is queued and the study
//!   has room, the sampler suggests the next trial, under a lock on the study row.
//! - **Lease**: each claim gets a fresh token; every later write of the trial names it, and a
//!   write whose token no longer matches (the trial was requeued) changes nothing. So a trial
//!   never finishes twice, and a worker presumed dead cannot overwrite its successor.
//! - **Writes**: a fold's epochs and result go in one transaction when the fold ends (a
//!   heartbeat thread keeps the trial alive meanwhile), so a trial costs a few transactions.
//! - **Resume**: folds a trial finished survive a requeue; its next worker starts at the first
//!   unfinished fold (training is deterministic, so the kept folds are what it would compute).

mod backend;

use serde::{Deserialize, Serialize};

pub use backend::{Backend, Dialect, Sql, redact};

use crate::error::{Result, TuneError};
use crate::sampler::Observation;
use crate::space::Params;
use crate::study::{EpochScore, FoldScore, StudySpec};

/// A trial's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialState {
    Queued,
    Running,
    Done,
    Failed,
    Pruned,
}

impl TrialState {
    pub fn name(self) -> &'static str {
        match self {
            TrialState::Queued => "queued",
            TrialState::Running => "running",
            TrialState::Done => "done",
            TrialState::Failed => "failed",
            TrialState::Pruned => "pruned",
        }
    }
    fn parse(s: &str) -> TrialState {
        match s {
            "queued" => TrialState::Queued,
            "running" => TrialState::Running,
            "done" => TrialState::Done,
            "pruned" => TrialState::Pruned,
            _ => TrialState::Failed,
        }
    }
}

/// A trial a worker holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    pub id: i64,
    pub number: i64,
    pub params: Params,
    pub lease: String,
    /// Folds finished by an earlier attempt.
    pub done_folds: Vec<FoldScore>,
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    Trial(Claimed),
    /// Nothing to take now, but trials are running elsewhere (one may come back).
    Wait,
    /// Every trial has ended.
    Finished,
}

/// A trial as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    pub number: i64,
    pub params: Params,
    pub state: TrialState,
    /// Mean validation score over folds (done trials; pruned ones: over their finished folds).
    pub score: Option<f64>,
    pub score_std: Option<f64>,
    pub train_score: Option<f64>,
    pub folds: Vec<FoldScore>,
    pub attempts: i64,
    pub worker: Option<String>,
    pub error: Option<String>,
    /// Wall-clock seconds from the last claim to the end.
    pub seconds: Option<f64>,
    /// Milliseconds the trial's worker spent in the store (claim, reports, finish).
    pub coordination_ms: Option<f64>,
}

/// The end of a trial, as its worker reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub state: TrialState,
    pub score: Option<f64>,
    pub score_std: Option<f64>,
    pub train_score: Option<f64>,
    pub error: Option<String>,
    pub coordination_ms: f64,
}

/// The values of a new trial from its number and the finished trials (`None`: no more).
pub type Suggest<'a> = dyn FnMut(u64, &[Observation]) -> Result<Option<Params>> + 'a;

/// A connection to a trial store.
pub struct Store {
    db: Box<dyn Backend>,
    url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.url)
    }
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serializes")
}

impl Store {
    /// Opens `sqlite:PATH` (or a path ending in `.sqlite` / `.db`) or `postgres://...` and
    /// creates the schema if needed.
    pub fn open(url: &str) -> Result<Store> {
        let db: Box<dyn Backend> = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Box::new(backend::Postgres::open(url)?)
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"));
            let path = match path {
                Some(p) => p,
                None if url.ends_with(".sqlite") || url.ends_with(".db") => url,
                None => {
                    return Err(TuneError::Store {
                        url: url.into(),
                        msg: "not a store URL (use sqlite:PATH or postgres://USER@HOST:PORT/DB)".into(),
                    });
                }
            };
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() && !dir.is_dir() {
                    return Err(TuneError::Store {
                        url: url.into(),
                        msg: format!("the directory {} does not exist", dir.display()),
                    });
                }
            }
            Box::new(backend::Sqlite::open(path, url)?)
        };
        let mut s = Store { db, url: redact(url) };
        s.create_schema()?;
        Ok(s)
    }

    /// The URL, without a password.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn tx<T>(&mut self, f: impl FnOnce(&mut dyn Backend) -> Result<T>) -> Result<T> {
        self.tx_with(true, f)
    }

    /// A transaction whose commit need not wait for the disk (see
    /// [`Backend::relax_durability`]): for writes a worker would redo if they were lost.
    fn tx_relaxed<T>(&mut self, f: impl FnOnce(&mut dyn Backend) -> Result<T>) -> Result<T> {
        self.tx_with(false, f)
    }

    fn tx_with<T>(&mut self, durable: bool, f: impl FnOnce(&mut dyn Backend) -> Result<T>) -> Result<T> {
        self.db.begin()?;
        if !durable {
            if let Err(e) = self.db.relax_durability() {
                let _ = self.db.rollback();
                return Err(e);
            }
        }
        match f(self.db.as_mut()) {
            Ok(v) => {
                self.db.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.db.rollback();
                Err(e)
            }
        }
    }

    fn create_schema(&mut self) -> Result<()> {
        let d = self.db.dialect();
        let id = d.id_column();
        let stmts = [
            format!(
                "CREATE TABLE IF NOT EXISTS studies ({id}, name TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, created DOUBLE PRECISION NOT NULL)"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS trials ({id}, study_id BIGINT NOT NULL REFERENCES studies(id), number BIGINT NOT NULL, \
                 params TEXT NOT NULL, state TEXT NOT NULL, worker TEXT, lease TEXT, heartbeat DOUBLE PRECISION, \
                 attempts BIGINT NOT NULL DEFAULT 0, score DOUBLE PRECISION, score_std DOUBLE PRECISION, \
                 train_score DOUBLE PRECISION, error TEXT, started DOUBLE PRECISION, finished DOUBLE PRECISION, \
                 coordination_ms DOUBLE PRECISION, UNIQUE (study_id, number))"
            ),
            "CREATE TABLE IF NOT EXISTS folds (trial_id BIGINT NOT NULL REFERENCES trials(id), fold BIGINT NOT NULL, \
             score DOUBLE PRECISION NOT NULL, train_score DOUBLE PRECISION NOT NULL, best_epoch BIGINT NOT NULL, \
             seconds DOUBLE PRECISION NOT NULL, PRIMARY KEY (trial_id, fold))"
                .to_string(),
            "CREATE TABLE IF NOT EXISTS epochs (trial_id BIGINT NOT NULL REFERENCES trials(id), fold BIGINT NOT NULL, \
             epoch BIGINT NOT NULL, val_score DOUBLE PRECISION, train_score DOUBLE PRECISION, val_loss DOUBLE PRECISION, \
             PRIMARY KEY (trial_id, fold, epoch))"
                .to_string(),
            "CREATE INDEX IF NOT EXISTS trials_state ON trials (study_id, state, number)".to_string(),
        ];
        self.tx(|db| {
            if d == Dialect::Postgres {
                // Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog.
                db.query("SELECT pg_advisory_xact_lock(7316555)::text", &[])?;
            }
            for s in &stmts {
                db.exec(s, &[])?;
            }
            Ok(())
        })
    }

    /// Creates a study, or returns the existing one of that name if its settings are the same
    /// (a resumed study). Another study of that name is an error naming the difference.
    pub fn create_study(&mut self, spec: &StudySpec) -> Result<i64> {
        let url = self.url.clone();
        let now = self.db.dialect().now();
        self.tx(|db| {
            let rows = db.query("SELECT id, spec FROM studies WHERE name = ?", &[spec.name.as_str().into()])?;
            if let Some(r) = rows.first() {
                let stored: StudySpec = serde_json::from_str(r[1].text().unwrap_or("")).map_err(|e| {
                    TuneError::Store {
                        url: url.clone(),
                        msg: format!("study '{}' has an unreadable spec ({e})", spec.name),
                    }
                })?;
                if let Some(diff) = spec.difference(&stored) {
                    return Err(TuneError::Conflict(format!(
                        "study '{}' already exists in {url} with {diff}; use another --name, or the stored settings to resume it",
                        spec.name
                    )));
                }
                return Ok(r[0].int().unwrap_or(0));
            }
            db.exec(
                &format!("INSERT INTO studies (name, spec, created) VALUES (?, ?, {now})"),
                &[spec.name.as_str().into(), json(spec).into()],
            )?;
            let rows = db.query("SELECT id FROM studies WHERE name = ?", &[spec.name.as_str().into()])?;
            Ok(rows[0][0].int().unwrap_or(0))
        })
    }

    /// Opens an existing study by name.
    pub fn open_study(&mut self, name: &str) -> Result<(i64, StudySpec)> {
        let rows = self
            .db
            .query("SELECT id, spec FROM studies WHERE name = ?", &[name.into()])?;
        let r = rows.first().ok_or_else(|| TuneError::Store {
            url: self.url.clone(),
            msg: format!("no study named '{name}' (create it with `droplab tune --name {name} ...`)"),
        })?;
        let spec = serde_json::from_str(r[1].text().unwrap_or("")).map_err(|e| TuneError::Store {
            url: self.url.clone(),
            msg: format!("study '{name}' has an unreadable spec ({e})"),
        })?;
        Ok((r[0].int().unwrap_or(0), spec))
    }

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
