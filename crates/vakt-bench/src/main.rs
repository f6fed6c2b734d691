//! `vakt-bench`: Vakt's benchmarks. They print figures (and write them where asked); they
//! assert nothing, and `docs/BENCHMARKS.md` says which command gave which figure.
//!
//! Each starts a Vakt of its own (in this process, with the same allocator as `vakt`) on
//! loopback and a scratch data folder, unless told where a database is.

mod compare;
mod engine;
mod receiver;
mod supervision;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The same allocator as the `vakt` binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Vakt's benchmarks: figures, not tests.
#[derive(Debug, Parser)]
#[command(name = "vakt-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Durable acknowledged signals per second and acknowledgement latency.
    Receiver(receiver::ReceiverBench),
    /// Journal appends per second with no network in the way.
    Journal(receiver::JournalBench),
    /// The receiver beside a raw baseline and another DC-09 receiver, in one run.
    Compare(compare::CompareBench),
    /// Supervision of many transmitters: memory and how late a missed heartbeat is raised.
    Supervision(supervision::SupervisionBench),
    /// The engine's rate with every signal an alarm, and its lag behind the receiver.
    Engine(engine::EngineBench),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("vakt-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.bench {
            Bench::Receiver(options) => receiver::receiver(options).await,
            Bench::Journal(options) => receiver::journal(options).await,
            Bench::Compare(options) => compare::compare(options).await,
            Bench::Supervision(options) => supervision::supervision(&options),
            Bench::Engine(options) => engine::engine(options).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vakt-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
