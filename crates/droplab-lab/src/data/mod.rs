//! From a data config to train / validation / test sets, split and scaled as the config says.
//!
//! * `digits` (embedded) and `csv:PATH`: one pool, split stratified into train / validation /
//!   test by `val_fraction` and `test_fraction` with the run's seed.
//! * `mnist`, `fashion-mnist` (fetched into `data_dir`) and `idx:DIR`: the test set is the
//!   t10k file; validation is the last `val_size` examples of the training file.
//! * `uci:SET` (regression, the splits of Gal & Ghahramani 2016 in `data_dir/uci-gal2016/`):
//!   split 0's test rows; validation is the last `val_fraction` of its training rows, as the
//!   authors held it out.
//!
//! `train_size` then keeps a stratified subset of the training split. Scaling is fitted on
//! the (final) training split only and applied to all three.

use std::path::{Path, PathBuf};

use droplab::data::csv::{CsvOptions, LabelColumn, read_csv};
use droplab::data::idx::{IdxSplit, load_idx_dir};
use droplab::data::split::{MinMax, Standardizer, stratified_split, subset};
use droplab::data::{Dataset, digits};
use serde::{Deserialize, Serialize};

pub mod uci;

use crate::config::{DataConfig, Task};
use crate::error::{Error, Result};

/// The three splits of a run.
#[derive(Debug)]
pub struct Splits {
    /// The training split, scaled.
    pub train: Dataset,
    /// The validation split, scaled (may be empty).
    pub val: Dataset,
    /// The test split, scaled.
    pub test: Dataset,
    /// The scaling fitted on the training split.
    pub scaler: Scaler,
    /// Choices the loader made that the user should know of, one line each (many integer
    /// classes that may be a regression's targets).
    pub notes: Vec<String>,
}

/// Scaling fitted on the training split, kept in the run record so that `eval` applies it to
/// other data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scaler {
    /// No scaling.
    None,
    /// Zero mean and unit variance per feature.
    Standardize(Standardizer),
    /// Each feature mapped to [0, 1].
    Minmax(MinMax),
}

impl Scaler {
    /// Applies the scaling in place.
    pub fn apply(&self, d: &mut Dataset) -> Result {
        match self {
            Scaler::None => Ok(()),
            Scaler::Standardize(s) => s.apply(&mut d.x).map_err(Error::from),
            Scaler::Minmax(m) => m.apply(&mut d.x).map_err(Error::from),
        }
    }
}

/// The datasets known by name (the others are paths: `csv:`, `idx:`, `ts:`).
pub const NAMED: &[&str] = &["digits", "mnist", "fashion-mnist", "japanese-vowels"];

fn data_error(dataset: &str, e: droplab::Error) -> Error {
    Error::usage(format!("--dataset {dataset}: {e}"))
}

fn fetched(cfg: &DataConfig, name: &str) -> Result<PathBuf> {
    crate::fetch::installed_dir(Path::new(&cfg.data_dir), name).ok_or_else(|| {
        Error::usage(format!(
            "--dataset {name}: not installed in {}/{name} (run `droplab data fetch {name}`, or pass --data-dir)",
            cfg.data_dir
        ))
    })
}

/// Loads the pool(s) of a dataset: `(train, Some(test))` for fixed splits, `(all, None)`.
fn load_raw(cfg: &DataConfig) -> Result<(Dataset, Option<Dataset>)> {
    let spec = cfg.dataset.as_str();
    // The task is the data's to decide except for CSV files, whose label column may be either.
    let regression_set = spec.starts_with("uci:");
    match cfg.task {
        Task::Regression if !regression_set && !spec.starts_with("csv:") => {
            return Err(Error::usage(format!(
                "data.task = regression: --dataset {spec} has class labels; a regression needs real-valued targets (csv:PATH, or a UCI set uci:NAME)"
            )));
        }
        Task::Classification if regression_set => {
            return Err(Error::usage(format!(
                "data.task = classification: --dataset {spec} is a regression set (real-valued targets)"
            )));
        }
        _ => {}
    }
    let idx_pair = |dir: &Path| -> Result<(Dataset, Option<Dataset>)> {
        let train = load_idx_dir(dir, IdxSplit::Train).map_err(|e| data_error(spec, e))?;
        let test = load_idx_dir(dir, IdxSplit::Test).map_err(|e| data_error(spec, e))?;
        let file = |f: &str| dir.join(f).display().to_string();
        check_pair(
            &train,
            &test,
            &file("t10k-images-idx3-ubyte"),
            &file("t10k-labels-idx1-ubyte"),
        )?;
        Ok((train, Some(test)))
    };
    match spec {
        "digits" => Ok((digits::load().map_err(|e| data_error(spec, e))?, None)),
        "mnist" | "fashion-mnist" => idx_pair(&fetched(cfg, spec)?),
        "japanese-vowels" => {
            let dir = fetched(cfg, spec)?;
            ts_pair(
                &dir.join("JapaneseVowels_TRAIN.ts"),
                &dir.join("JapaneseVowels_TEST.ts"),
            )
        }
        _ if spec.starts_with("uci:") => {
            let dir = uci::set_dir(spec, &cfg.data_dir)?;
            let set = uci::UciSet::load(&dir, Some(1))?;
            let (train, test) = &set.splits[0];
            let part = |rows: &[usize]| -> Result<Dataset> {
                let (x, y) = set.rows(rows);
                let y = droplab::Tensor::from_vec(&[rows.len(), 1], y).map_err(|e| data_error(spec, e))?;
                Dataset::new(x, droplab::nn::Targets::Values(y), 0).map_err(|e| data_error(spec, e))
            };
            Ok((part(train)?, Some(part(test)?)))
        }
        _ => {
            if let Some(dir) = spec.strip_prefix("idx:") {
                idx_pair(Path::new(dir))
            } else if let Some(path) = spec.strip_prefix("csv:") {
                let label = if cfg.label.is_empty() {
                    LabelColumn::Last
                } else if let Ok(i) = cfg.label.parse::<usize>() {
                    LabelColumn::Index(i)
                } else {
                    LabelColumn::Name(cfg.label.clone())
                };
                let opts = CsvOptions {
                    label,
                    regression: cfg.task == Task::Regression,
                    ..Default::default()
                };
                Ok((
                    read_csv(Path::new(path), &opts).map_err(|e| data_error(spec, e))?,
                    None,
                ))
            } else {
                if let Some(files) = spec.strip_prefix("ts:") {
                    if let Some((train, test)) = files.split_once(',') {
                        return ts_pair(Path::new(train), Path::new(test));
                    }
                    return Err(Error::usage(format!(
                        "--dataset {spec}: give the training and the test file, ts:TRAIN.ts,TEST.ts"
                    )));
                }
                Err(Error::usage(format!(
                    "--dataset: unknown dataset '{spec}' (valid: digits, mnist, fashion-mnist, japanese-vowels, csv:PATH, idx:DIR, ts:TRAIN.ts,TEST.ts, uci:SET)"
                )))
            }
        }
    }
}

/// A training and a test file of sequences (`.ts`), padded to one time axis, the test labels
/// mapped like the training ones.
fn ts_pair(train: &Path, test: &Path) -> Result<(Dataset, Option<Dataset>)> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| Error::usage(format!("--dataset: {}: {e}", p.display())))
    };
    let (tr, names) = droplab::data::ts::parse(&train.display().to_string(), &read(train)?, None)?;
    let (te, _) = droplab::data::ts::parse(&test.display().to_string(), &read(test)?, Some(&names))?;
    let name = test.display().to_string();
    check_pair(&tr, &te, &name, &name)?;
    let steps = tr.x.shape()[1].max(te.x.shape()[1]);
    Ok((pad_time(tr, steps)?, Some(pad_time(te, steps)?)))
}

/// Checks a test file against its training file before any training: examples of the same
/// shape (for sequences, the same number of dimensions per step) and, for classes, labels
/// among the training file's. `images` and `labels` name the test file(s) in errors.
fn check_pair(train: &Dataset, test: &Dataset, images: &str, labels: &str) -> Result<()> {
    let (a, b) = (&train.x.shape()[1..], &test.x.shape()[1..]);
    let same = if train.lengths.is_some() {
        a.last() == b.last()
    } else {
        a == b
    };
    if !same {
        return Err(Error::usage(format!(
            "{images}: the test examples have shape {b:?}, the training file's {a:?}; give the test \
             file of the same dataset"
        )));
    }
    if let (Some(_), Some(te)) = (train.y.classes(), test.y.classes())
        && let Some(&c) = te.iter().find(|&&c| c as usize >= train.classes)
    {
        return Err(Error::usage(format!(
            "{labels}: test label {c} is not among the training file's {} classes",
            train.classes
        )));
    }
    Ok(())
}

/// Pads sequences `[n, t, d]` with zeros to `steps` time steps.
fn pad_time(d: Dataset, steps: usize) -> Result<Dataset> {
    let (n, t, f) = (d.x.shape()[0], d.x.shape()[1], d.x.shape()[2]);
    if t == steps {
        return Ok(d);
    }
    let mut x = vec![0.0f32; n * steps * f];
    for (dst, src) in x.chunks_exact_mut(steps * f).zip(d.x.data().chunks_exact(t * f)) {
        dst[..t * f].copy_from_slice(src);
    }
    let lengths = d.lengths.clone();
    let mut out = Dataset::new(droplab::Tensor::from_vec(&[n, steps, f], x)?, d.y, d.classes)?;
    out.lengths = lengths;
    Ok(out)
}

/// The error for a split that ended up empty, out of `total` examples.
pub fn empty_split(cfg: &DataConfig, split: &str, total: usize) -> Error {
    Error::usage(format!(
        "--dataset {}: the {split} split is empty ({total} examples in all); give more data, or \
         smaller data.val_fraction / data.test_fraction",
        cfg.dataset
    ))
}

/// Above this many classes from integer labels, `auto` says that they may be a regression's
/// targets (scikit-learn's diabetes set has 214).
const MANY_CLASSES: usize = 50;

/// What a user should hear about how the labels were taken.
fn task_notes(cfg: &DataConfig, pool: &Dataset) -> Vec<String> {
    if cfg.task == Task::Auto && pool.classes > MANY_CLASSES && cfg.dataset.starts_with("csv:") {
        vec![format!(
            "{}: the labels are {} classes (integers); if they are quantities, train a regression with --task regression ([data] task = \"regression\"); --task classification keeps this choice and silences this line",
            cfg.dataset, pool.classes
        )]
    } else {
        Vec::new()
    }
}

/// Loads, splits and scales the data of a run.
pub fn load(cfg: &DataConfig, seed: u64) -> Result<Splits> {
    if !(0.0..1.0).contains(&cfg.val_fraction) || !(0.0..1.0).contains(&cfg.test_fraction) {
        return Err(Error::usage(format!(
            "data.val_fraction and data.test_fraction must lie in [0, 1) (got {} and {})",
            cfg.val_fraction, cfg.test_fraction
        )));
    }
    let (pool, test) = load_raw(cfg)?;
    let notes = task_notes(cfg, &pool);
    let sequences = pool.lengths.is_some();
    let (mut train, val, test) = match test {
        // Small sequence sets: a stratified validation split of the training file.
        Some(test) if sequences => {
            let parts = stratified_split(
                &pool.y,
                &[1.0 - cfg.val_fraction, cfg.val_fraction],
                seed,
                "split",
            )
            .map_err(|e| data_error(&cfg.dataset, e))?;
            (pool.select(&parts[0]), pool.select(&parts[1]), test)
        }
        // UCI regression: the authors' hold-out, the last rows of the training split.
        Some(test) if cfg.dataset.starts_with("uci:") => {
            let n = pool.len();
            let keep = ((n as f64) * (1.0 - cfg.val_fraction)) as usize;
            if keep == 0 || keep >= n {
                return Err(Error::usage(format!(
                    "data.val_fraction {} leaves no training or no validation rows out of {n}",
                    cfg.val_fraction
                )));
            }
            let tr: Vec<usize> = (0..keep).collect();
            let va: Vec<usize> = (keep..n).collect();
            (pool.select(&tr), pool.select(&va), test)
        }
        Some(test) => {
            let n = pool.len();
            if cfg.val_size >= n {
                return Err(Error::usage(format!(
                    "data.val_size: {} leaves no training examples out of {n}",
                    cfg.val_size
                )));
            }
            let tr: Vec<usize> = (0..n - cfg.val_size).collect();
            let va: Vec<usize> = (n - cfg.val_size..n).collect();
            (pool.select(&tr), pool.select(&va), test)
        }
        None => {
            let train_fraction = 1.0 - cfg.val_fraction - cfg.test_fraction;
            if train_fraction <= 0.0 {
                return Err(Error::usage(
                    "data.val_fraction + data.test_fraction must be below 1",
                ));
            }
            let parts = stratified_split(
                &pool.y,
                &[train_fraction, cfg.val_fraction, cfg.test_fraction],
                seed,
                "split",
            )
            .map_err(|e| data_error(&cfg.dataset, e))?;
            (
                pool.select(&parts[0]),
                pool.select(&parts[1]),
                pool.select(&parts[2]),
            )
        }
    };
    // A training split left empty would train on nothing (an empty test split is refused
    // where a test score is asked for: `run::run_config`; a search never reads it).
    if train.is_empty() {
        return Err(empty_split(cfg, "training", train.len() + val.len() + test.len()));
    }
    if cfg.train_size > 0 {
        if cfg.train_size > train.len() {
            return Err(Error::usage(format!(
                "--train-size {}: the training split has only {} examples",
                cfg.train_size,
                train.len()
            )));
        }
        let idx = subset(&train.y, cfg.train_size, seed).map_err(|e| data_error(&cfg.dataset, e))?;
        train = train.select(&idx);
    }
    let scaler = fit_scaler(&cfg.scaling, &train)?;
    let (mut train, mut val, mut test) = (train, val, test);
    for d in [&mut train, &mut val, &mut test] {
        scaler.apply(d)?;
    }
    Ok(Splits {
        train,
        val,
        test,
        scaler,
        notes,
    })
}

/// Scaling of the kind `scaling` (none | standardize | minmax) fitted on `train`.
pub fn fit_scaler(scaling: &str, train: &Dataset) -> Result<Scaler> {
    Ok(match scaling {
        "none" => Scaler::None,
        s if train.lengths.is_some() => {
            return Err(Error::usage(format!(
                "--scaling {s}: sequence data are used as given (scaling per time step would mix in the padding); use --scaling none"
            )));
        }
        "standardize" => Scaler::Standardize(Standardizer::fit(&train.x)),
        "minmax" => Scaler::Minmax(MinMax::fit(&train.x)),
        s => {
            return Err(Error::usage(format!(
                "--scaling: unknown scaling '{s}' (valid: none, standardize, minmax)"
            )));
        }
    })
}

/// The examples cross-validation may use: the training and validation splits together,
/// unscaled (each fold fits its own scaling on its training part). The test split is left
/// out, so a search never sees it.
pub fn cv_pool(cfg: &DataConfig, seed: u64) -> Result<Dataset> {
    let unscaled = DataConfig {
        scaling: "none".into(),
        ..cfg.clone()
    };
    let s = load(&unscaled, seed)?;
    concat(&s.train, &s.val)
}

/// Loads one split of a dataset for evaluation, scaled with a run's fitted scaler.
pub fn load_for_eval(cfg: &DataConfig, seed: u64, split: &str, scaler: &Scaler) -> Result<Dataset> {
    let cfg_unscaled = DataConfig {
        scaling: "none".into(),
        ..cfg.clone()
    };
    if split == "all" {
        // Every example in file order: the pool of digits / CSV, the training then the test
        // file of IDX data. Lets other tools line predictions up with the raw data.
        let (pool, test) = load_raw(&cfg_unscaled)?;
        let mut d = match test {
            None => pool,
            Some(t) => concat(&pool, &t)?,
        };
        scaler.apply(&mut d)?;
        return Ok(d);
    }
    let s = load(&cfg_unscaled, seed)?;
    let mut d = match split {
        "test" => s.test,
        "val" => s.val,
        "train" => s.train,
        _ => {
            return Err(Error::usage(format!(
                "--split: unknown split '{split}' (valid: test, val, train, all)"
            )));
        }
    };
    scaler.apply(&mut d)?;
    Ok(d)
}

/// Two datasets one after the other.
pub fn concat(a: &Dataset, b: &Dataset) -> Result<Dataset> {
    use droplab::Tensor;
    use droplab::nn::Targets;
    let mut x = a.x.data().to_vec();
    x.extend_from_slice(b.x.data());
    let mut shape = a.x.shape().to_vec();
    shape[0] = a.len() + b.len();
    let lengths = match (&a.lengths, &b.lengths) {
        (Some(p), Some(q)) => Some(p.iter().chain(q).copied().collect()),
        _ => None,
    };
    let y = match (&a.y, &b.y) {
        (Targets::Classes(p), Targets::Classes(q)) => Targets::Classes(p.iter().chain(q).copied().collect()),
        (Targets::Values(p), Targets::Values(q)) if p.shape()[1..] == q.shape()[1..] => {
            let mut v = p.data().to_vec();
            v.extend_from_slice(q.data());
            let mut shape = p.shape().to_vec();
            shape[0] += q.shape()[0];
            Targets::Values(Tensor::from_vec(&shape, v)?)
        }
        _ => {
            return Err(Error::usage(
                "--split all: the two files hold different kinds of targets",
            ));
        }
    };
    let mut d = Dataset::new(Tensor::from_vec(&shape, x)?, y, a.classes.max(b.classes))?;
    d.lengths = lengths;
    Ok(d)
}
