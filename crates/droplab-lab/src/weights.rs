//! Model weights in safetensors, named and shaped as a PyTorch `nn.Sequential` would store
//! them: `{index}.weight` as `[out, in]` and `{index}.bias`, where `index` counts every module
//! (Dropout, Linear, ReLU, ...) as PyTorch does. The metadata carries the resolved config
//! and the module list, so a PyTorch user can rebuild the network and load the file.
//!
//! PyTorch's dropout is inverted (identity in `eval()`). For a network trained with the
//! paper's standard convention, whose test-time outputs are multiplied by `1 - p`, that factor
//! is folded into the weights of the following Linear layer on export (and divided out on
//! load), so `model.eval()` in PyTorch gives droplab's predictions either way.

use std::collections::HashMap;
use std::path::Path;

use droplab::Sequential;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::error::{Error, Result};

/// Serializes the model's parameters with `metadata`.
pub fn to_bytes(model: &Sequential, metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let names = model.torch_param_names();
    let params = model.params();
    let folds = model.torch_fold_factors();
    let bytes: Vec<Vec<u8>> = params
        .iter()
        .zip(&folds)
        .map(|(p, &f)| {
            if f == 1.0 {
                p.value.data().iter().flat_map(|v| v.to_le_bytes()).collect()
            } else {
                p.value
                    .data()
                    .iter()
                    .flat_map(|v| (v * f).to_le_bytes())
                    .collect()
            }
        })
        .collect();
    let buffers = model.buffers();
    let buffer_bytes: Vec<Vec<u8>> = buffers
        .iter()
        .map(|(_, t)| t.data().iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    // PyTorch's batch norm also keeps a step counter; a strict `load_state_dict` wants it.
    let counters: Vec<String> = buffers
        .iter()
        .filter_map(|(n, _)| {
            n.strip_suffix(".running_var")
                .map(|m| format!("{m}.num_batches_tracked"))
        })
        .collect();
    // droplab's LSTM has one bias; PyTorch's `nn.LSTM` has two that it adds. A zero
    // `bias_hh_l0` beside `bias_ih_l0` makes a strict `load_state_dict` work and changes nothing.
    let hh: Vec<(String, Vec<usize>, Vec<u8>)> = names
        .iter()
        .zip(params.iter())
        .filter_map(|(name, p)| {
            let stem = name.strip_suffix(".bias_ih_l0")?;
            let twin = format!("{stem}.bias_hh_l0");
            (!names.contains(&twin)).then(|| (twin, p.value.shape().to_vec(), vec![0u8; 4 * p.value.len()]))
        })
        .collect();
    let zero = 0i64.to_le_bytes();
    let mut views = Vec::new();
    let tensors = names
        .iter()
        .zip(params.iter().map(|p| p.value.shape()))
        .zip(&bytes)
        .chain(buffers.iter().map(|(n, t)| (n, t.shape())).zip(&buffer_bytes));
    for ((name, shape), b) in tensors {
        let view = TensorView::new(Dtype::F32, shape.to_vec(), b)
            .map_err(|e| Error::runtime(format!("safetensors: {name}: {e}")))?;
        views.push((name.clone(), view));
    }
    for (name, shape, b) in &hh {
        let view = TensorView::new(Dtype::F32, shape.clone(), b)
            .map_err(|e| Error::runtime(format!("safetensors: {name}: {e}")))?;
        views.push((name.clone(), view));
    }
    for name in &counters {
        let view = TensorView::new(Dtype::I64, Vec::new(), &zero)
            .map_err(|e| Error::runtime(format!("safetensors: {name}: {e}")))?;
        views.push((name.clone(), view));
    }
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::runtime(format!("safetensors: {e}")))?;
    canonical_header(bytes)
}

/// Rewrites the JSON header with its keys sorted. The crate writes the metadata map in hash
/// order, which differs between processes; a run must produce the same bytes (and the same
/// `model_sha256`) every time. Offsets are relative to the data block, so they stay valid.
fn canonical_header(bytes: Vec<u8>) -> Result<Vec<u8>> {
    let bad = || Error::runtime("safetensors: malformed header");
    let n = u64::from_le_bytes(bytes.get(..8).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    let header = bytes.get(8..8 + n).ok_or_else(bad)?;
    // serde_json's map is ordered by key.
    let value: serde_json::Value = serde_json::from_slice(header).map_err(|_| bad())?;
    let mut json = serde_json::to_vec(&value).map_err(|_| bad())?;
    // Pad with spaces so the data block stays 8-byte aligned, as the format recommends.
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&bytes[8 + n..]);
    Ok(out)
}

/// Loads weights saved by [`to_bytes`] into `model`, checking names and shapes.
pub fn load_into(model: &mut Sequential, path: &Path) -> Result {
    let bytes = std::fs::read(path).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    load_bytes_into(model, path, &bytes)
}

/// [`load_into`] from the file's bytes (`path` names it in errors).
pub fn load_bytes_into(model: &mut Sequential, path: &Path, bytes: &[u8]) -> Result {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::usage(format!("{}: not a safetensors file ({e})", path.display())))?;
    let names = model.torch_param_names();
    let folds = model.torch_fold_factors();
    let tensor = |name: &str, shape: &[usize]| {
        let t = st.tensor(name).map_err(|_| {
            Error::usage(format!(
                "{}: tensor '{name}' is missing (the run's config describes another model)",
                path.display()
            ))
        })?;
        if t.dtype() != Dtype::F32 || t.shape() != shape {
            return Err(Error::usage(format!(
                "{}: tensor '{name}' is {:?} {:?}, the config's model needs F32 {:?}",
                path.display(),
                t.dtype(),
                t.shape(),
                shape
            )));
        }
        Ok(t)
    };
    let buffer_names: Vec<String> = model.buffers().into_iter().map(|(n, _)| n).collect();
    for (name, b) in buffer_names.iter().zip(model.buffers_mut()) {
        let t = tensor(name, b.shape())?;
        for (v, c) in b.data_mut().iter_mut().zip(t.data().chunks_exact(4)) {
            *v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    for ((name, p), fold) in names.iter().zip(model.params_mut()).zip(folds) {
        let t = tensor(name, p.value.shape())?;
        // Undo the fold of the standard convention's test-time scaling (see `to_bytes`).
        let unfold = if fold > 0.0 { 1.0 / fold } else { 1.0 };
        for (v, c) in p.value.data_mut().iter_mut().zip(t.data().chunks_exact(4)) {
            let w = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            *v = if fold == 1.0 { w } else { w * unfold };
        }
    }
    Ok(())
}
