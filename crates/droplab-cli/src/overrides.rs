//! Applies `droplab train` flags on top of a run config. Each flag sets one field; the result
//! is validated as a whole afterwards, so a flag and the same TOML field get the same checks.

use droplab::model::ConvDropoutKind;
use droplab::nn::{Activation, Init, Loss};
use droplab::optim::{LrSchedule, MomentumSchedule, OptimizerKind};
use droplab::regularize::AugmentConfig;
use droplab::regularize::{Convention, DropoutKind};
use droplab::train::{EarlyStoppingConfig, Monitor};

use crate::cli::TrainArgs;
use crate::error::{CliError, CliResult};
use droplab_lab::config::RunConfig;

fn bad(flag: &str, value: &str, valid: &str) -> CliError {
    CliError::usage(format!("{flag}: '{value}' is not valid (expected {valid})"))
}

fn num<T: std::str::FromStr>(flag: &str, s: &str, what: &str) -> CliResult<T> {
    s.trim().parse().map_err(|_| bad(flag, s, what))
}

/// `constant | step:EVERY:GAMMA | exp:GAMMA | cosine[:MIN_LR] | inverse:T`.
pub fn parse_schedule(s: &str) -> CliResult<LrSchedule> {
    let f = "--schedule";
    let valid = "constant, step:EVERY:GAMMA, exp:GAMMA, cosine[:MIN_LR] or inverse:T";
    let parts: Vec<&str> = s.split(':').collect();
    Ok(match parts.as_slice() {
        ["constant"] => LrSchedule::Constant,
        ["step", every, gamma] => LrSchedule::Step {
            every: num(f, every, valid)?,
            gamma: num(f, gamma, valid)?,
        },
        ["exp", gamma] => LrSchedule::Exponential {
            gamma: num(f, gamma, valid)?,
        },
        ["cosine"] => LrSchedule::Cosine {
            total: 0,
            min_lr: 0.0,
        },
        ["cosine", min] => LrSchedule::Cosine {
            total: 0,
            min_lr: num(f, min, valid)?,
        },
        ["inverse", t] => LrSchedule::Inverse {
            t0: num(f, t, valid)?,
        },
        _ => return Err(bad(f, s, valid)),
    })
}

/// `constant | rise:START:END:T | ramp:START:END:T`.
pub fn parse_momentum_schedule(s: &str) -> CliResult<MomentumSchedule> {
    let f = "--momentum-schedule";
    let valid = "constant, rise:START:END:T or ramp:START:END:T";
    let parts: Vec<&str> = s.split(':').collect();
    Ok(match parts.as_slice() {
        ["constant"] => MomentumSchedule::Constant,
        ["rise", a, b, t] => MomentumSchedule::Rise {
            start: num(f, a, valid)?,
            end: num(f, b, valid)?,
            t0: num(f, t, valid)?,
        },
        ["ramp", a, b, t] => MomentumSchedule::Ramp {
            start: num(f, a, valid)?,
            end: num(f, b, valid)?,
            t0: num(f, t, valid)?,
        },
        _ => return Err(bad(f, s, valid)),
    })
}

/// `--dropout IN,H1,...`: the input rate then one per hidden layer (or one for all).
pub fn parse_dropout(s: &str) -> CliResult<(f32, Vec<f32>)> {
    let rates = s
        .split(',')
        .map(|r| num::<f32>("--dropout", r, "comma-separated rates such as 0.2,0.5,0.5"))
        .collect::<CliResult<Vec<f32>>>()?;
    // The library's rule for a rate, applied to the flag (named in the error) before the
    // rates are spread over the layers.
    for &r in &rates {
        droplab::error::check::rate("--dropout", r)?;
    }
    if rates.len() < 2 {
        return Err(CliError::usage(format!(
            "--dropout {s}: give the input rate then the hidden rate(s), e.g. 0.2,0.5 or 0.2,0.5,0.5"
        )));
    }
    Ok((rates[0], rates[1..].to_vec()))
}

/// `--augment shift:2,rotate:10,flip,noise:0.1` (or `none`).
pub fn parse_augment(s: &str) -> CliResult<AugmentConfig> {
    let f = "--augment";
    let valid = "comma-separated shift:PIXELS, rotate:DEGREES, flip, noise:STD, or none";
    let mut a = AugmentConfig::default();
    if s == "none" {
        return Ok(a);
    }
    for part in s.split(',') {
        match part.trim().split(':').collect::<Vec<_>>().as_slice() {
            ["shift", v] => a.shift = num(f, v, valid)?,
            ["rotate", v] => a.rotate = num(f, v, valid)?,
            ["noise", v] => a.noise = num(f, v, valid)?,
            ["flip"] => a.flip = true,
            _ => return Err(bad(f, part, valid)),
        }
    }
    Ok(a)
}

/// Sets every field a flag names. Returns whether the layer widths were given explicitly.
pub fn apply(cfg: &mut RunConfig, a: &TrainArgs, widths_in_file: bool) -> CliResult<bool> {
    let mut widths_explicit = widths_in_file;
    if let Some(v) = &a.dataset {
        cfg.data.dataset = v.clone();
    }
    if let Some(v) = &a.data_dir {
        cfg.data.data_dir = v.display().to_string();
    }
    if let Some(v) = &a.label {
        cfg.data.label = v.clone();
    }
    if let Some(v) = a.train_size {
        cfg.data.train_size = v;
    }
    if let Some(v) = &a.task {
        cfg.data.task = droplab_lab::config::Task::parse(v).ok_or_else(|| {
            CliError::usage(format!(
                "--task {v}: unknown task (valid: classification, regression, auto)"
            ))
        })?;
    }
    if let Some(v) = &a.scaling {
        cfg.data.scaling = v.clone();
    }
    if let Some(v) = a.seed {
        cfg.seed = v;
    }
    if let Some(v) = a.threads {
        cfg.threads = v;
    }
    let m = &mut cfg.model;
    if let Some(v) = &a.model {
        m.set_model_string(v)
            .map_err(|e| CliError::usage(format!("--{e}")))?;
        widths_explicit = true;
    }
    if let Some(v) = &a.activation {
        m.activation = Activation::parse(v).map_err(|e| CliError::usage(format!("--{e}")))?;
    }
    if let Some(v) = &a.init {
        m.init = Some(match v.as_str() {
            "he" => Init::He,
            "glorot" => Init::Glorot,
            "lecun" => Init::Lecun,
            _ => return Err(bad("--init", v, "he, glorot or lecun")),
        });
    }
    if let Some(v) = &a.dropout {
        let (input, hidden) = parse_dropout(v)?;
        m.dropout.input = input;
        m.dropout.hidden = hidden;
    }
    if let Some(v) = &a.dropout_kind {
        m.dropout.kind = match v.as_str() {
            "bernoulli" => DropoutKind::Bernoulli,
            "gaussian" => DropoutKind::Gaussian,
            "alpha" => DropoutKind::Alpha,
            "dropconnect" => DropoutKind::DropConnect,
            _ => {
                return Err(bad(
                    "--dropout-kind",
                    v,
                    "bernoulli, gaussian, alpha or dropconnect",
                ));
            }
        };
    }
    if let Some(v) = &a.conv_dropout {
        let rates = v
            .split(',')
            .map(|r| {
                num::<f32>(
                    "--conv-dropout",
                    r,
                    "comma-separated rates such as 0.1 or 0.1,0.2",
                )
            })
            .collect::<CliResult<Vec<f32>>>()?;
        m.dropout.conv = rates;
    }
    if let Some(v) = &a.conv_dropout_kind {
        m.dropout.conv_kind = match v.as_str() {
            "spatial" => ConvDropoutKind::Spatial,
            "dropblock" => ConvDropoutKind::DropBlock,
            "bernoulli" => ConvDropoutKind::Bernoulli,
            _ => return Err(bad("--conv-dropout-kind", v, "spatial, dropblock or bernoulli")),
        };
    }
    if let Some(v) = a.recurrent_dropout {
        m.dropout.recurrent = v;
    }
    if let Some(v) = a.weight_dropout {
        m.dropout.weight = v;
    }
    if let Some(v) = a.zoneout {
        m.dropout.zoneout = v;
    }
    if a.variational {
        m.dropout.variational = true;
    }
    if let Some(v) = &a.augment {
        cfg.train.augment = parse_augment(v)?;
    }
    if let Some(v) = a.block_size {
        m.dropout.block_size = v;
    }
    if let Some(v) = &a.dropout_convention {
        m.dropout.convention = match v.as_str() {
            "inverted" => Convention::Inverted,
            "standard" => Convention::Standard,
            _ => return Err(bad("--dropout-convention", v, "inverted or standard")),
        };
    }
    if let Some(v) = a.l1 {
        m.regularization.l1 = v;
    }
    if let Some(v) = a.l2 {
        m.regularization.l2 = v;
    }
    if let Some(v) = a.max_norm {
        m.regularization.max_norm = Some(v);
    }
    let t = &mut cfg.train;
    if let Some(v) = &a.optimizer {
        t.optimizer.kind = OptimizerKind::parse(v).map_err(|e| CliError::usage(format!("--{e}")))?;
    }
    if let Some(v) = a.lr {
        t.optimizer.lr = v;
    }
    if let Some(v) = a.momentum {
        t.optimizer.momentum = v;
    }
    if a.dampen {
        t.optimizer.dampen = true;
    }
    if let Some(v) = a.weight_decay {
        t.optimizer.weight_decay = v;
    }
    if let Some(v) = a.rho {
        t.optimizer.rho = v;
    }
    if let Some(v) = a.divergence_factor {
        t.divergence_factor = v;
    }
    if let Some(v) = &a.schedule {
        t.schedule = parse_schedule(v)?;
    }
    if let Some(v) = &a.momentum_schedule {
        t.momentum_schedule = parse_momentum_schedule(v)?;
    }
    if let Some(v) = a.label_smoothing {
        t.loss = Loss::SoftmaxCrossEntropy { label_smoothing: v };
    }
    if let Some(v) = a.clip_grad_norm {
        t.clip_grad_norm = Some(v);
    }
    if let Some(v) = a.epochs {
        t.epochs = v;
    }
    if let Some(v) = a.batch_size {
        t.batch_size = v;
    }
    if a.early_stopping.is_some() || a.min_delta.is_some() || a.monitor.is_some() {
        let mut es = t.early_stopping.clone().unwrap_or_default();
        if let Some(p) = a.early_stopping {
            es.patience = p;
        }
        if let Some(d) = a.min_delta {
            es.min_delta = d;
        }
        if let Some(mon) = &a.monitor {
            es.monitor = Monitor::parse(mon).map_err(|e| CliError::usage(format!("--{e}")))?;
        }
        t.early_stopping = Some(EarlyStoppingConfig { ..es });
    }
    check_applies(cfg, a)?;
    Ok(widths_explicit)
}

/// Refuses a flag that shapes one kind of network when the model is of another kind, naming
/// the flag and the model's kind (such flags were ignored without a word).
fn check_applies(cfg: &RunConfig, a: &TrainArgs) -> CliResult {
    let m = &cfg.model;
    let kind = if m.is_cnn() {
        "a convolutional network"
    } else if m.is_rnn() {
        "a recurrent network"
    } else {
        "an MLP"
    };
    let conv = [
        ("--conv-dropout", a.conv_dropout.is_some()),
        ("--conv-dropout-kind", a.conv_dropout_kind.is_some()),
        ("--block-size", a.block_size.is_some()),
    ];
    let recurrent = [
        ("--recurrent-dropout", a.recurrent_dropout.is_some()),
        ("--weight-dropout", a.weight_dropout.is_some()),
        ("--zoneout", a.zoneout.is_some()),
        ("--variational", a.variational),
    ];
    let misplaced = |flags: &[(&str, bool)], applies: bool, to: &str| -> CliResult {
        match flags.iter().find(|(_, given)| *given) {
            Some((flag, _)) if !applies => Err(CliError::usage(format!(
                "{flag} applies to {to}; the model ({}) is {kind}",
                m.model_string()
            ))),
            _ => Ok(()),
        }
    };
    misplaced(&conv, m.is_cnn(), "convolutional networks (--model cnn:...)")?;
    misplaced(&recurrent, m.is_rnn(), "recurrent networks (--model rnn:...)")
}

/// Resolves `--config` plus flags into a run config.
pub fn resolve(args: &TrainArgs) -> CliResult<(RunConfig, bool)> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("--config {}: {e}", path.display())))?;
            Some((path.display().to_string(), text))
        }
        None => None,
    };
    resolve_text(args, file.as_ref().map(|(n, t)| (n.as_str(), t.as_str())))
}

/// [`resolve`] with the config file's text already read (`(name for errors, text)`).
/// Returns the config and whether the widths were given explicitly.
pub fn resolve_text(args: &TrainArgs, file: Option<(&str, &str)>) -> CliResult<(RunConfig, bool)> {
    let (mut cfg, widths_in_file) = match file {
        Some((name, text)) => {
            let cfg = RunConfig::parse(name, text)?;
            let explicit = toml::from_str::<toml::Table>(text)
                .ok()
                .and_then(|t| t.get("model").and_then(|m| m.get("widths")).map(|_| ()))
                .is_some();
            (cfg, explicit)
        }
        None => (RunConfig::default(), false),
    };
    let explicit = apply(&mut cfg, args, widths_in_file)?;
    Ok((cfg, explicit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_schedules_parse_and_bad_ones_name_the_flag() {
        assert_eq!(
            parse_momentum_schedule("ramp:0.5:0.99:300000").unwrap(),
            MomentumSchedule::Ramp {
                start: 0.5,
                end: 0.99,
                t0: 300000.0
            }
        );
        assert_eq!(
            parse_momentum_schedule("rise:0.5:0.99:100000").unwrap(),
            MomentumSchedule::Rise {
                start: 0.5,
                end: 0.99,
                t0: 100000.0
            }
        );
        for s in ["ramp:0.5:0.99", "ramp:a:0.99:10", "linear:0.5:0.9:10"] {
            let CliError::Usage(e) = parse_momentum_schedule(s).unwrap_err() else {
                panic!("{s}: not a usage error");
            };
            assert!(
                e.contains("--momentum-schedule") && e.contains("ramp:START:END:T"),
                "{e}"
            );
        }
    }
}
