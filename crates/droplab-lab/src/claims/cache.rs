//! Trained networks of the claims kept on disk, so that a long run (hours on MNIST) that is
//! interrupted resumes where it stopped, and a rerun of some claims reuses what the others
//! trained. An entry is named by the sha256 of everything that defines the run: the network's
//! config, the training config, the seed and the training (and validation) data themselves, so
//! a change of any of them trains afresh. One safetensors file per entry: the weights in order
//! (`0`, `1`, ...) and the fit report as JSON in the metadata; written to a temporary name and
//! renamed, so an interrupted write never leaves an entry that looks complete.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use droplab::Tensor;
use droplab::data::Dataset;
use droplab::model::ModelConfig;
use droplab::nn::Targets;
use droplab::train::{EpochMetrics, FitReport, TrainConfig};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Bumped when the meaning of an entry changes.
const FORMAT: &str = "droplab-claims-cache-1";

/// The part of a [`FitReport`] a finished run keeps.
#[derive(Serialize, Deserialize)]
struct Report {
    history: Vec<EpochMetrics>,
    best_epoch: usize,
    stopped_early: bool,
    steps: u64,
}

/// A directory of trained networks.
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache in `dir` (created when the first network is stored).
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry name of a run.
    pub fn key(
        cfg: &ModelConfig,
        tc: &TrainConfig,
        train: &Dataset,
        val: Option<&Dataset>,
        seed: u64,
    ) -> String {
        let mut h = Sha256::new();
        h.update(format!("{FORMAT}\n{cfg:?}\n{tc:?}\n{seed}\n").as_bytes());
        for d in std::iter::once(train).chain(val) {
            hash_dataset(&mut h, d);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.safetensors"))
    }

    /// The weights and report stored under `key`, if there is a readable entry whose tensors
    /// have the shapes of `expect`. An unreadable entry counts as missing (it is retrained
    /// and overwritten).
    pub fn get(&self, key: &str, expect: &[Tensor]) -> Option<(Vec<Tensor>, FitReport)> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let (_, meta) = SafeTensors::read_metadata(&bytes).ok()?;
        let report: Report = serde_json::from_str(meta.metadata().as_ref()?.get("report")?).ok()?;
        let st = SafeTensors::deserialize(&bytes).ok()?;
        let mut state = Vec::with_capacity(expect.len());
        for (i, e) in expect.iter().enumerate() {
            let v = st.tensor(&i.to_string()).ok()?;
            if v.dtype() != Dtype::F32 || v.shape() != e.shape() {
                return None;
            }
            let data = v
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            state.push(Tensor::from_vec(e.shape(), data).ok()?);
        }
        if st.len() != expect.len() {
            return None;
        }
        Some((
            state,
            FitReport {
                history: report.history,
                best_epoch: report.best_epoch,
                stopped_early: report.stopped_early,
                diverged: None,
                steps: report.steps,
                interrupted: false,
                last_state: None,
            },
        ))
    }

    /// Stores a finished run under `key`.
    pub fn put(&self, key: &str, state: &[Tensor], report: &FitReport) -> Result {
        let io = |e: &dyn std::fmt::Display| {
            Error::runtime(format!(
                "claims: cannot write the cache {}: {e} (pass another --cache DIR, or --no-cache)",
                self.dir.display()
            ))
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&e))?;
        let bytes: Vec<Vec<u8>> = state
            .iter()
            .map(|t| t.data().iter().flat_map(|v| v.to_le_bytes()).collect())
            .collect();
        let mut views = Vec::with_capacity(state.len());
        for (i, (t, b)) in state.iter().zip(&bytes).enumerate() {
            views.push((
                i.to_string(),
                TensorView::new(Dtype::F32, t.shape().to_vec(), b).map_err(|e| io(&e))?,
            ));
        }
        let report = Report {
            history: report.history.clone(),
            best_epoch: report.best_epoch,
            stopped_early: report.stopped_early,
            steps: report.steps,
        };
        let meta = HashMap::from([(
            "report".to_string(),
            serde_json::to_string(&report).map_err(|e| io(&e))?,
        )]);
        let out = safetensors::serialize(views, Some(meta)).map_err(|e| io(&e))?;
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, out).map_err(|e| io(&e))?;
        std::fs::rename(&tmp, self.path(key)).map_err(|e| io(&e))
    }
}

fn hash_dataset(h: &mut Sha256, d: &Dataset) {
    h.update(format!("{:?}/{}/{:?}\n", d.x.shape(), d.classes, d.lengths).as_bytes());
    for v in d.x.data() {
        h.update(v.to_le_bytes());
    }
    match &d.y {
        Targets::Classes(c) => {
            for v in c {
                h.update(v.to_le_bytes());
            }
        }
        Targets::Values(t) => {
            for v in t.data() {
                h.update(v.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use droplab::train::{FitSpec, fit};

    #[test]
    fn a_stored_run_comes_back_and_any_change_of_its_definition_misses() {
        let data = droplab::data::digits::load()
            .unwrap()
            .select(&(0..100).collect::<Vec<_>>());
        let cfg = ModelConfig {
            widths: vec![64, 8, 10],
            ..Default::default()
        };
        let tc = TrainConfig {
            epochs: 2,
            batch_size: 20,
            ..Default::default()
        };
        let threads = droplab::tensor::Threads::new(Some(1)).unwrap();
        let mut model = cfg.build(3).unwrap();
        let report = fit(
            &mut model,
            &data,
            FitSpec::new(&tc, &threads).seed(3),
            &mut |_| {},
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let key = Cache::key(&cfg, &tc, &data, None, 3);
        let fresh = cfg.build(0).unwrap().state();
        assert!(cache.get(&key, &fresh).is_none());
        cache.put(&key, &model.state(), &report).unwrap();
        let (state, back) = cache.get(&key, &fresh).unwrap();
        assert_eq!(state, model.state());
        // (Debug: the history's missing validation numbers are NaN, unequal to themselves.)
        assert_eq!(format!("{back:?}"), format!("{report:?}"));
        // Another seed, training config, network or data is another entry.
        assert_ne!(key, Cache::key(&cfg, &tc, &data, None, 4));
        let tc2 = TrainConfig {
            epochs: 3,
            ..tc.clone()
        };
        assert_ne!(key, Cache::key(&cfg, &tc2, &data, None, 3));
        let cfg2 = ModelConfig {
            widths: vec![64, 9, 10],
            ..Default::default()
        };
        assert_ne!(key, Cache::key(&cfg2, &tc, &data, None, 3));
        let mut other = data.clone();
        other.x =
            Tensor::from_vec(other.x.shape(), other.x.data().iter().map(|v| v + 1e-3).collect()).unwrap();
        assert_ne!(key, Cache::key(&cfg, &tc, &other, None, 3));
        assert_ne!(key, Cache::key(&cfg, &tc, &data, Some(&data), 3));
        // Shapes that do not fit the network, or a damaged file, count as missing.
        assert!(cache.get(&key, &cfg2.build(0).unwrap().state()).is_none());
        std::fs::write(cache.path(&key), b"not a safetensors file").unwrap();
        assert!(cache.get(&key, &fresh).is_none());
    }
}
