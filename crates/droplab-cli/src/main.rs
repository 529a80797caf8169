//! The `droplab` command: parse, validate, call the library.
//!
//! Exit codes: 0 on success; 2 for bad usage, config or data (a one-line message naming the
//! flag, file, line or field); 1 for a failure at run time (e.g. divergence, whose record is
//! still written and marked `diverged`).

mod analyze;
mod bench_cmd;
mod claims;
mod cli;
mod data_cmd;
mod demo;
mod error;
mod eval_cmd;
mod export_cmd;
mod overrides;
mod paper;
mod predict_cmd;
mod progress;
mod render;
mod report_cmd;
mod train_cmd;
mod tune;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{AnalyzeCommand, Cli, Command, DataCommand, ExportCommand, PaperCommand, StudyCommand};
use crate::error::Report;

/// On SIGINT or SIGTERM: let a checkpoint being written finish, remove what this process was
/// writing and exit as the shell expects (130, 143), so that an interrupted command leaves no
/// staging directory behind, and say where its last checkpoint is.
fn on_interrupt() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            // Held until the exit: no checkpoint starts after this one.
            let (_writes, last) = droplab_lab::checkpoint::finish_writes();
            droplab_lab::staging::remove_active();
            match last {
                Some(saved) => eprintln!(
                    "interrupted: epoch {} is saved in {}; the same command with --resume continues from it",
                    saved.epochs,
                    saved.path.display()
                ),
                None => eprintln!("interrupted: nothing half-written was left behind"),
            }
            std::process::exit(128 + sig);
        }
    });
}

/// A closed pipe on stdout (`droplab paper list | head`) ends the command quietly, as it
/// does any Unix tool, instead of a panic in `println!`.
fn default_sigpipe() {
    // SAFETY: restores the default disposition of SIGPIPE at the start of `main`, before any
    // other thread exists; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    on_interrupt();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return error::clap_exit(e),
    };
    let result = match cli.command {
        Command::Train(args) => train_cmd::run(&args),
        Command::Eval(args) => eval_cmd::run(&args),
        Command::Predict(args) => predict_cmd::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Bench(args) => bench_cmd::run(&args),
        Command::Paper {
            command: PaperCommand::List,
        } => paper::list(),
        Command::Paper {
            command: PaperCommand::Run(args),
        } => paper::run(&args),
        Command::Analyze {
            command: AnalyzeCommand::Uncertainty(args),
        } => analyze::uncertainty(&args),
        Command::Analyze {
            command: AnalyzeCommand::Ensemble(args),
        } => analyze::ensemble(&args),
        Command::Analyze {
            command: AnalyzeCommand::Coadaptation(args),
        } => analyze::coadaptation(&args),
        Command::Report(args) => report_cmd::run(&args),
        Command::Claims(args) => claims::run(&args),
        Command::Tune(args) => tune::run(&args),
        Command::Worker(args) => tune::worker(&args),
        Command::Export {
            command: ExportCommand::Torch(args),
        } => export_cmd::torch(&args),
        Command::Study {
            command: StudyCommand::Show(args),
        } => tune::show(&args),
        Command::Data {
            command: DataCommand::Fetch(args),
        } => data_cmd::fetch(&args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "droplab", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
