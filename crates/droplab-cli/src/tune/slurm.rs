//! `droplab tune --slurm`: a job array whose tasks each run `droplab worker` on the study.

use std::path::Path;
use std::process::Command;

use crate::cli::TuneArgs;
use crate::error::{CliError, CliResult};

use super::Resolved;

fn absolute(p: &Path) -> CliResult<String> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| CliError::runtime(format!("current directory: {e}")))?
            .join(p)
    };
    Ok(abs.display().to_string())
}

/// Quotes a word for the shell.
fn quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The batch script: one array task per worker, each with `threads` CPUs. A SQLite store is
/// named by its absolute path (the tasks may start in another directory).
pub fn script(args: &TuneArgs, r: &Resolved, workers: usize, threads: usize) -> CliResult<String> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::runtime(format!("cannot find the droplab binary: {e}")))?;
    let store = match r.store.strip_prefix("sqlite:") {
        Some(path) => format!("sqlite:{}", absolute(Path::new(path))?),
        None => r.store.clone(),
    };
    let out = absolute(&r.out)?;
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name=droplab-{}\n", r.spec.name));
    s.push_str(&format!("#SBATCH --array=0-{}\n", workers - 1));
    s.push_str("#SBATCH --ntasks=1\n");
    s.push_str(&format!("#SBATCH --cpus-per-task={threads}\n"));
    s.push_str(&format!("#SBATCH --output={out}/workers/slurm-%A_%a.log\n"));
    for extra in &args.sbatch {
        s.push_str(&format!("#SBATCH {extra}\n"));
    }
    s.push_str(&format!(
        "# droplab study '{}': each task is one worker; they share trials through the store.\n",
        r.spec.name
    ));
    let mut cmd = vec![
        quote(&exe.display().to_string()),
        "worker".into(),
        "--store".into(),
        quote(&store),
        "--study".into(),
        quote(&r.spec.name),
        "--threads".into(),
        threads.to_string(),
    ];
    if let Some(st) = args.stale_secs {
        cmd.push("--stale-secs".into());
        cmd.push(st.to_string());
    }
    s.push_str(&format!("exec {}\n", cmd.join(" ")));
    Ok(s)
}

/// Writes the script to the study directory and submits it with `sbatch --parsable`; with
/// `--dry-run` prints it instead and returns `None`.
pub fn submit(args: &TuneArgs, r: &Resolved, workers: usize, threads: usize) -> CliResult<Option<String>> {
    let text = script(args, r, workers, threads)?;
    let path = r.out.join("slurm.sh");
    std::fs::create_dir_all(r.out.join("workers")).map_err(|e| crate::error::io_err(&r.out, e))?;
    std::fs::write(&path, &text).map_err(|e| crate::error::io_err(&path, e))?;
    if args.dry_run {
        print!("{text}");
        return Ok(None);
    }
    let output = Command::new("sbatch")
        .arg("--parsable")
        .arg(&path)
        .output()
        .map_err(|e| {
            CliError::runtime(format!(
                "sbatch: {e} (is Slurm installed and on PATH? --dry-run prints the script without submitting)"
            ))
        })?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(CliError::runtime(format!(
            "sbatch {}: {}",
            path.display(),
            err.trim().replace('\n', " ")
        )));
    }
    let out = String::from_utf8_lossy(&output.stdout);
    let job = out.trim().split(';').next().unwrap_or("").to_string();
    if job.is_empty() {
        return Err(CliError::runtime("sbatch printed no job id"));
    }
    if !args.train.quiet {
        eprintln!(
            "submitted Slurm job array {job} ({workers} tasks); script {}",
            path.display()
        );
    }
    Ok(Some(job))
}

/// Whether any task of the job is still pending or running.
pub fn job_alive(job: &str) -> bool {
    Command::new("squeue")
        .args(["-h", "-j", job, "-o", "%i"])
        .output()
        .map(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(false)
}
