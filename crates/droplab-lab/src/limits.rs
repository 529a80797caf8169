//! Limits checked before any allocation: the memory a run's model will need against the memory
//! the machine can give it.

use crate::config::RunConfig;
use crate::error::{Error, Result};

/// The most threads a run may ask for.
pub const MAX_THREADS: usize = 1024;

/// Memory a run may use, in bytes: the smallest of the memory available now
/// (`/proc/meminfo`), the control group's limit, and `DROPLAB_MEMORY_LIMIT` (bytes, or with a
/// `K`, `M` or `G` suffix) where it is set. `None` where none of them can be read.
pub fn available_memory() -> Option<u128> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u128>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|t| t.trim().parse::<u128>().ok());
    let asked = std::env::var("DROPLAB_MEMORY_LIMIT")
        .ok()
        .and_then(|v| parse_bytes(&v));
    [meminfo, cgroup, asked].into_iter().flatten().min()
}

/// `123`, `64K`, `512M`, `6G` (binary multiples) as bytes.
fn parse_bytes(v: &str) -> Option<u128> {
    let v = v.trim();
    let (num, mult) = match v.chars().last()? {
        'K' | 'k' => (&v[..v.len() - 1], 1u128 << 10),
        'M' | 'm' => (&v[..v.len() - 1], 1 << 20),
        'G' | 'g' => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    num.trim().parse::<u128>().ok().map(|n| n * mult)
}

/// Bytes as `512.0 GB`.
fn show(bytes: u128) -> String {
    let gb = bytes as f64 / 1e9;
    if gb >= 1.0 {
        format!("{gb:.1} GB")
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// Refuses a run whose model, its gradients, optimizer state and a batch's activations would
/// not fit in [`available_memory`], naming the model's field and the estimate.
pub fn check(cfg: &RunConfig) -> Result {
    let size = droplab::model::size::size(&cfg.model)?;
    let need = size.training_bytes(cfg.train.batch_size);
    if let Some(have) = available_memory()
        && need > have
    {
        let field = if cfg.model.is_cnn() {
            "model.layers"
        } else if cfg.model.is_rnn() {
            "model.recurrent"
        } else {
            "model.widths"
        };
        return Err(Error::usage(format!(
            "{field} ({}): the model needs about {} ({} parameters with their gradients and \
                 optimizer state, and the activations of a batch of {}), more than the {} \
                 available; use smaller layers or a smaller batch",
            cfg.model.model_string(),
            show(need),
            size.params,
            cfg.train.batch_size,
            show(have)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_parse() {
        assert_eq!(parse_bytes("123"), Some(123));
        assert_eq!(parse_bytes("64K"), Some(65_536));
        assert_eq!(parse_bytes("6G"), Some(6 << 30));
        assert_eq!(parse_bytes("lots"), None);
    }
}
