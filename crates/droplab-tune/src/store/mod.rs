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
#[cfg(feature = "postgres")]
mod postgres;
mod trials;

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
    /// Waiting for a worker.
    Queued,
    /// Held by a worker.
    Running,
    /// Every fold finished.
    Done,
    /// Training failed, or a fold stopped without a result.
    Failed,
    /// Stopped early by median pruning.
    Pruned,
}

impl TrialState {
    /// The name stored in the database.
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
    /// The trial's row id in the store.
    pub id: i64,
    /// The trial's number in its study, from 0.
    pub number: i64,
    /// The trial's values.
    pub params: Params,
    /// The token of this claim; every later write of the trial names it.
    pub lease: String,
    /// Folds finished by an earlier attempt.
    pub done_folds: Vec<FoldScore>,
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// A trial to run.
    Trial(Claimed),
    /// Nothing to take now, but trials are running elsewhere (one may come back).
    Wait,
    /// Every trial has ended.
    Finished,
}

/// A trial as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// The trial's number in its study, from 0.
    pub number: i64,
    /// The trial's values.
    pub params: Params,
    /// The trial's state.
    pub state: TrialState,
    /// Mean validation score over folds (done trials; pruned ones: over their finished folds).
    pub score: Option<f64>,
    /// Standard deviation of the validation score over those folds.
    pub score_std: Option<f64>,
    /// Mean training score over those folds.
    pub train_score: Option<f64>,
    /// The finished folds, in fold order.
    pub folds: Vec<FoldScore>,
    /// How many times the trial was claimed.
    pub attempts: i64,
    /// The worker that holds or finished the trial (none while it is queued).
    pub worker: Option<String>,
    /// The error message of a failed trial.
    pub error: Option<String>,
    /// Wall-clock seconds from the last claim to the end.
    pub seconds: Option<f64>,
    /// Milliseconds the trial's worker spent in the store (claim, reports, finish).
    pub coordination_ms: Option<f64>,
}

/// The end of a trial, as its worker reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// How the trial ended.
    pub state: TrialState,
    /// Mean validation score over the finished folds (`None` when no fold finished).
    pub score: Option<f64>,
    /// Standard deviation of the validation score over the finished folds.
    pub score_std: Option<f64>,
    /// Mean training score over the finished folds.
    pub train_score: Option<f64>,
    /// The error message of a failed trial.
    pub error: Option<String>,
    /// Milliseconds the worker spent in the store on this trial before this report.
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
            postgres_store(url)?
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"));
            let path = match path {
                Some(p) => p,
                None if url.ends_with(".sqlite") || url.ends_with(".db") => url,
                None => {
                    return Err(TuneError::StoreAddress {
                        url: url.into(),
                        msg: "not a store URL (use sqlite:PATH or postgres://USER@HOST:PORT/DB)".into(),
                    });
                }
            };
            if let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
                && !dir.is_dir()
            {
                return Err(TuneError::StoreAddress {
                    url: url.into(),
                    msg: format!("the directory {} does not exist", dir.display()),
                });
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
        if !durable && let Err(e) = self.db.relax_durability() {
            let _ = self.db.rollback();
            return Err(e);
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
        let r = rows.first().ok_or_else(|| TuneError::StoreAddress {
            url: self.url.clone(),
            msg: format!("no study named '{name}' (create it with `droplab tune --name {name} ...`)"),
        })?;
        let spec = serde_json::from_str(r[1].text().unwrap_or("")).map_err(|e| TuneError::Store {
            url: self.url.clone(),
            msg: format!("study '{name}' has an unreadable spec ({e})"),
        })?;
        Ok((r[0].int().unwrap_or(0), spec))
    }
}

/// A PostgreSQL store at `url`.
#[cfg(feature = "postgres")]
fn postgres_store(url: &str) -> Result<Box<dyn Backend>> {
    Ok(Box::new(postgres::Postgres::open(url)?))
}

/// Without the `postgres` feature there is no PostgreSQL client in this build.
#[cfg(not(feature = "postgres"))]
fn postgres_store(url: &str) -> Result<Box<dyn Backend>> {
    Err(TuneError::StoreAddress {
        url: redact(url),
        msg: "this droplab was built without PostgreSQL (cargo feature `postgres`, on by default); rebuild with it, or use sqlite:PATH".into(),
    })
}

#[cfg(all(test, not(feature = "postgres")))]
mod lean_tests {
    use super::*;

    #[test]
    fn without_the_postgres_feature_a_postgres_store_is_refused_naming_it() {
        let e = Store::open("postgres://tune:secret@127.0.0.1:1/db")
            .err()
            .expect("refused")
            .to_string();
        assert!(
            e.contains("cargo feature `postgres`") && !e.contains("secret"),
            "{e}"
        );
    }
}
