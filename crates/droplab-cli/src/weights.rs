//! Model weights in safetensors, named and shaped as a PyTorch `nn.Sequential` would store
//! them: `{index}.weight` as `[out, in]` and `{index}.bias`, where `index` counts every module
//! (Dropout, Linear, ReLU, ...) as PyTorch does. The metadata carries the resolved config
//! and the module list, so a PyTorch user can rebuild the network and load the file.

use std::collections::HashMap;
use std::path::Path;

use droplab::Sequential;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::error::{CliError, CliResult};

/// Serializes the model's parameters with `metadata`.
pub fn to_bytes(model: &Sequential, metadata: HashMap<String, String>) -> CliResult<Vec<u8>> {
    let names = model.torch_param_names();
    let params = model.params();
    let bytes: Vec<Vec<u8>> = params
        .iter()
        .map(|p| p.value.data().iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::new();
    for ((name, p), b) in names.iter().zip(&params).zip(&bytes) {
        let view = TensorView::new(Dtype::F32, p.value.shape().to_vec(), b)
            .map_err(|e| CliError::runtime(format!("safetensors: {name}: {e}")))?;
        views.push((name.clone(), view));
    }
    safetensors::serialize(views, Some(metadata)).map_err(|e| CliError::runtime(format!("safetensors: {e}")))
}

/// Loads weights saved by [`to_bytes`] into `model`, checking names and shapes.
pub fn load_into(model: &mut Sequential, path: &Path) -> CliResult {
    let bytes = std::fs::read(path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| CliError::usage(format!("{}: not a safetensors file ({e})", path.display())))?;
    let names = model.torch_param_names();
    for (name, p) in names.iter().zip(model.params_mut()) {
        let t = st.tensor(name).map_err(|_| {
            CliError::usage(format!(
                "{}: tensor '{name}' is missing (the run's config describes another model)",
                path.display()
            ))
        })?;
        if t.dtype() != Dtype::F32 || t.shape() != p.value.shape() {
            return Err(CliError::usage(format!(
                "{}: tensor '{name}' is {:?} {:?}, the config's model needs F32 {:?}",
                path.display(),
                t.dtype(),
                t.shape(),
                p.value.shape()
            )));
        }
        for (v, c) in p.value.data_mut().iter_mut().zip(t.data().chunks_exact(4)) {
            *v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    Ok(())
}
