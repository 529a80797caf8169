//! `droplab export torch RUN_DIR`: a PyTorch script that rebuilds the run's network as an
//! `nn.Sequential` from its module list and loads `model.safetensors` into it strictly.

use droplab_lab::run::load_model;

use crate::cli::ExportTorchArgs;
use crate::error::{CliError, CliResult};

/// `droplab export torch`.
pub fn torch(args: &ExportTorchArgs) -> CliResult {
    if args.no_verify {
        eprintln!(
            "warning: --no-verify: {}'s weights are not checked against its record",
            args.run_dir.display()
        );
    }
    let (record, model) = load_model(&args.run_dir, !args.no_verify)?;
    if record.config.model.is_rnn() {
        return Err(CliError::usage(format!(
            "export torch {}: the run's model is recurrent; nn.LSTM and nn.GRU return tuples and do not fit an nn.Sequential (its weights are named as they name them: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0)",
            args.run_dir.display()
        )));
    }
    print!(
        "{}",
        script(
            &args.run_dir.join("model.safetensors").display().to_string(),
            &record,
            &model
        )
    );
    Ok(())
}

/// The script: the modules, a strict load, and how to prepare inputs.
fn script(weights: &str, record: &droplab_lab::record::RunRecord, model: &droplab::Sequential) -> String {
    let modules: Vec<String> = model
        .torch_specs()
        .iter()
        .map(|m| format!("    nn.{m},"))
        .collect();
    let shape = record.config.model.input_shape();
    let divisor = record
        .input_divisor
        .unwrap_or_else(|| droplab_lab::predict::input_divisor(&record.data.dataset));
    let scaler = match &record.scaler {
        droplab_lab::data::Scaler::None => "no scaler".to_string(),
        _ => {
            "then the scaler in record.json (standardize: (x - mean) / std; minmax: (x - min) / (max - min))"
                .to_string()
        }
    };
    let quoted = weights.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "# PyTorch module of the droplab run {weights} ({}, {}).\n\
         # Inputs: shape [batch, {}]; raw values divided by {divisor}, {scaler}.\n\
         # eval() gives droplab's weight-scaled predictions (a standard-convention run has its\n\
         # test-time 1 - p folded into the weights); train() draws PyTorch's own dropout masks.\n\
         from safetensors.torch import load_file\n\
         from torch import nn\n\
         \n\
         model = nn.Sequential(\n{}\n)\n\
         model.load_state_dict(load_file(\"{quoted}\"), strict=True)\n\
         model.eval()\n",
        record.data.dataset,
        record.config.model.model_string(),
        shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
        modules.join("\n"),
    )
}
