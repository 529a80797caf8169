//! The shared setting of the claims' experiments: the data at each training-set size and seed,
//! the base network and schedule, and training runs cached by what defines them (several
//! claims look at the same dropout and no-dropout networks).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use droplab::model::{DropoutConfig, ModelConfig, RegularizationConfig};
use droplab::nn::{Loss, Mode};
use droplab::optim::OptimizerConfig;
use droplab::regularize::Convention;
use droplab::tensor::Threads;
use droplab::train::{FitReport, FitSpec, TrainConfig, evaluate, fit};
use droplab::{Sequential, Tensor};

use super::cache::Cache;
use crate::config::DataConfig;
use crate::data::{self as dataset, Splits};
use crate::error::{Error, Result};

/// One trained network, kept as its config and weights.
pub struct Trained {
    /// The network's config.
    pub cfg: ModelConfig,
    /// Its trained parameters and buffers, in the model's order.
    pub state: Vec<Tensor>,
    /// How training went.
    pub report: FitReport,
}

impl Trained {
    /// The network, rebuilt with its trained weights.
    pub fn model(&self) -> Result<Sequential> {
        let mut m = self.cfg.build(0)?;
        m.load_state(&self.state);
        Ok(m)
    }
}

/// Accuracy and mean NLL of a network on a dataset.
#[derive(Clone, Copy, Debug)]
pub struct Score {
    /// Accuracy.
    pub accuracy: f64,
    /// Mean negative log-likelihood.
    pub nll: f64,
}

/// What a network is: widths, dropout and penalties.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Layer widths, input to output.
    pub widths: Vec<usize>,
    /// Dropout rate on the inputs.
    pub input: f32,
    /// Dropout rate of each hidden layer (one for all when shorter).
    pub hidden: Vec<f32>,
    /// Where dropout's scaling happens.
    pub convention: Convention,
    /// L2 coefficient.
    pub l2: f32,
    /// Max-norm bound on each unit's incoming weights.
    pub max_norm: Option<f32>,
}

impl Net {
    /// A network of `widths` without dropout or penalties.
    pub fn plain(widths: &[usize]) -> Net {
        Net {
            widths: widths.to_vec(),
            input: 0.0,
            hidden: Vec::new(),
            convention: Convention::Inverted,
            l2: 0.0,
            max_norm: None,
        }
    }

    /// The model config of this network (ReLU).
    pub fn config(&self) -> ModelConfig {
        ModelConfig {
            widths: self.widths.clone(),
            dropout: DropoutConfig {
                input: self.input,
                hidden: self.hidden.clone(),
                convention: self.convention,
                ..Default::default()
            },
            regularization: RegularizationConfig {
                l2: self.l2,
                max_norm: self.max_norm,
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// The setting every claim shares.
pub struct Lab {
    /// The quick setting (the embedded digits) rather than the full one (MNIST).
    pub quick: bool,
    /// Seeds per arm.
    pub seeds: usize,
    /// Where the data comes from.
    pub data: DataConfig,
    /// The thread pool every training runs in.
    pub threads: Threads,
    /// The base (large) network's widths.
    pub widths: Vec<usize>,
    /// Training examples of the base runs (0 = the whole training split).
    pub train_size: usize,
    /// The "little data" size of claim 1.
    pub small_train: usize,
    /// The sizes of claim 5's sweep, increasing.
    pub sizes: Vec<usize>,
    /// Epochs of a base run.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// The standard rates: 0.2 on the inputs (0.1 on the 64 coarse pixels of digits, where
    /// each carries more), 0.5 on the hidden units.
    pub rates: (f32, f32),
    /// SGD learning rate (momentum 0.9).
    pub lr: f32,
    /// Where progress lines go (the command prints them, or not).
    say: Box<dyn Fn(&str)>,
    /// Trained networks on disk, reused across invocations.
    cache: Option<Cache>,
    /// Networks trained in this invocation, those taken from the cache, and the training
    /// seconds the cached ones took when they were trained.
    pub counts: Cell<(usize, usize, f64)>,
    splits: RefCell<HashMap<(usize, u64), Rc<Splits>>>,
    runs: RefCell<HashMap<String, Rc<Trained>>>,
}

impl Lab {
    /// The quick setting (the embedded digits) or the full one (MNIST).
    pub fn new(
        quick: bool,
        data: DataConfig,
        seeds: usize,
        threads: Threads,
        cache: Option<Cache>,
        say: Box<dyn Fn(&str)>,
    ) -> Result<Lab> {
        let features = if quick { 64 } else { 784 };
        let lab = Lab {
            quick,
            seeds,
            data,
            threads,
            widths: if quick {
                vec![features, 256, 256, 10]
            } else {
                vec![features, 1024, 1024, 10]
            },
            train_size: if quick { 0 } else { 10_000 },
            small_train: if quick { 200 } else { 1_000 },
            sizes: if quick {
                vec![50, 100, 200, 500, 1_000]
            } else {
                vec![100, 300, 1_000, 3_000, 10_000]
            },
            epochs: if quick { 100 } else { 30 },
            batch_size: if quick { 32 } else { 100 },
            rates: if quick { (0.1, 0.5) } else { (0.2, 0.5) },
            lr: 0.05,
            say,
            cache,
            counts: Cell::new((0, 0, 0.0)),
            splits: RefCell::new(HashMap::new()),
            runs: RefCell::new(HashMap::new()),
        };
        // Fail early, before any training, when the data is missing.
        let s = lab.splits(lab.train_size, 0)?;
        if s.train.features() != features || s.train.classes != 10 {
            return Err(Error::usage(format!(
                "claims: --dataset {} has {} features and {} classes; the claims run on 10-class images ({} features: {})",
                lab.data.dataset,
                s.train.features(),
                s.train.classes,
                features,
                if quick { "digits" } else { "mnist or fashion-mnist" }
            )));
        }
        Ok(lab)
    }

    /// `widths` with the standard dropout rates.
    pub fn dropout(&self, widths: &[usize]) -> Net {
        Net {
            input: self.rates.0,
            hidden: vec![self.rates.1],
            ..Net::plain(widths)
        }
    }

    /// The two arms most claims compare: `widths` without dropout and with the standard rates,
    /// each with its name.
    pub fn pair(&self, widths: &[usize]) -> [(String, Net); 2] {
        [
            ("no dropout".to_string(), Net::plain(widths)),
            (format!("dropout {}", self.rates_text()), self.dropout(widths)),
        ]
    }

    /// "0.1 / 0.5": the standard rates in words.
    pub fn rates_text(&self) -> String {
        format!("{} / {}", self.rates.0, self.rates.1)
    }

    /// Epochs that give a run on `size` examples as many updates as a base run (small sets
    /// get more epochs, not fewer updates).
    pub fn epochs_for(&self, size: usize) -> Result<usize> {
        let full = self.splits(self.train_size, 0)?.train.len();
        let n = if size == 0 { full } else { size.min(full) };
        let steps = |n: usize| n.div_ceil(self.batch_size);
        Ok((self.epochs * steps(full)).div_ceil(steps(n)).max(self.epochs))
    }

    /// The splits with a stratified training subset of `size` (0 = all), for `seed`.
    pub fn splits(&self, size: usize, seed: u64) -> Result<Rc<Splits>> {
        // The split of the whole set is the same for every seed on MNIST (fixed files), and
        // varies with the seed on digits; the training subset always varies with the seed.
        let key = (size, seed);
        if let Some(s) = self.splits.borrow().get(&key) {
            return Ok(s.clone());
        }
        let cfg = DataConfig {
            train_size: size,
            ..self.data.clone()
        };
        let s = Rc::new(dataset::load(&cfg, seed)?);
        self.splits.borrow_mut().insert(key, s.clone());
        Ok(s)
    }

    /// The base schedule: SGD with momentum 0.9, constant learning rate; the per-epoch
    /// training metrics on 500 examples.
    pub fn train_config(&self, epochs: usize) -> TrainConfig {
        TrainConfig {
            epochs,
            batch_size: self.batch_size,
            train_eval_size: 500,
            optimizer: OptimizerConfig {
                lr: self.lr,
                momentum: 0.9,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Trains `net` on `size` training examples with `seed`, as many updates as a base run
    /// (cached).
    pub fn train(&self, net: &Net, size: usize, seed: u64) -> Result<Rc<Trained>> {
        let key = format!("{net:?}/{size}/{seed}");
        if let Some(t) = self.runs.borrow().get(&key) {
            return Ok(t.clone());
        }
        let splits = self.splits(size, seed)?;
        let epochs = self.epochs_for(size)?;
        let t = Rc::new(self.fit(
            net.config(),
            &self.train_config(epochs),
            &splits.train,
            None,
            seed,
        )?);
        self.runs.borrow_mut().insert(key, t.clone());
        Ok(t)
    }

    /// Trains a config on `train`, or takes the network from the disk cache when it holds the
    /// same run.
    pub fn fit(
        &self,
        cfg: ModelConfig,
        tc: &TrainConfig,
        train: &droplab::data::Dataset,
        val: Option<&droplab::data::Dataset>,
        seed: u64,
    ) -> Result<Trained> {
        let mut model = cfg.build(seed)?;
        let key = self
            .cache
            .as_ref()
            .map(|_| Cache::key(&cfg, tc, train, val, seed));
        if let (Some(c), Some(k)) = (&self.cache, &key)
            && let Some((state, report)) = c.get(k, &model.state())
        {
            let (n, hit, secs) = self.counts.get();
            let took: f64 = report.history.iter().map(|e| e.seconds).sum();
            self.counts.set((n, hit + 1, secs + took));
            return Ok(Trained { cfg, state, report });
        }
        let report = fit(
            &mut model,
            train,
            FitSpec::new(tc, &self.threads).seed(seed).validation(val),
            &mut |_| {},
        )?;
        if let Some(e) = &report.diverged {
            return Err(Error::runtime(format!("claims: a run diverged: {e}")));
        }
        let state = model.state();
        if let (Some(c), Some(k)) = (&self.cache, &key) {
            c.put(k, &state, &report)?;
        }
        let (n, hit, secs) = self.counts.get();
        self.counts.set((n + 1, hit, secs));
        Ok(Trained { cfg, state, report })
    }

    /// Where the trained networks are kept, if anywhere.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache.as_ref().map(|c| c.dir())
    }

    /// Accuracy and NLL in Eval mode (weight scaling).
    pub fn score(&self, model: &mut Sequential, data: &droplab::data::Dataset) -> Result<Score> {
        let lo = evaluate(model, data, &Loss::default(), 500, &self.threads, Mode::Eval)?;
        Ok(Score {
            accuracy: lo.accuracy(),
            nll: lo.mean_loss(),
        })
    }

    /// Test and training accuracy of a cached run.
    pub fn test_and_train(&self, t: &Trained, size: usize, seed: u64) -> Result<(Score, Score)> {
        let splits = self.splits(size, seed)?;
        let mut m = t.model()?;
        Ok((
            self.score(&mut m, &splits.test)?,
            self.score(&mut m, &splits.train)?,
        ))
    }

    /// A progress line, to wherever the caller sends them.
    pub fn say(&self, msg: &str) {
        (self.say)(msg)
    }
}
