//! The `vakt` command.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use vakt::settings::{HttpOverride, Overrides, Settings};
use vakt_core::{Clock, SystemClock};
use vakt_store::Identities;
use vakt_store::{Journal, Registry, SignalFilter};

// The receiver's hot path allocates many small buffers; glibc's allocator spent a fifth of
// the benchmark's CPU time (docs/BENCHMARKS.md), mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Vakt: the platform of a monitored-alarm operator.
#[derive(Debug, Parser)]
#[command(name = "vakt", version, about)]
struct Cli {
    /// Configuration file (default: ./vakt.toml when it exists).
    #[arg(long, short, global = true, env = "VAKT_CONFIG")]
    config: Option<PathBuf>,
    /// Data folder (database, generated secrets).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite:PATH).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Log filter (error, warn, info, debug, trace).
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run Vakt: the DC-09 receiver, the journal and the HTTP API.
    Serve {
        /// HTTP address, such as 127.0.0.1:8080.
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
    },
    /// Run Vakt with a demo operator: staff for every role, guard companies, 50 sites and a
    /// fleet of virtual panels living their days. The data stays for the next start.
    Demo {
        /// HTTP address, such as 127.0.0.1:8080.
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
        /// Sites to create on the first run.
        #[arg(long, default_value_t = 50)]
        sites: usize,
        /// Seed for names, addresses and the panels' days.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Panel time runs this many times faster than real time.
        #[arg(long, default_value_t = 60)]
        speed: u32,
        /// Do not run the fleet of panels.
        #[arg(long)]
        no_fleet: bool,
    },
    /// One virtual panel in the terminal: a keypad, points to open, tamper, mains, battery.
    Panel(vakt_sim::terminal::PanelOptions),
    /// Many virtual panels against a running Vakt, at a fixed rate or living simulated days.
    Fleet(vakt_sim::fleet::FleetOptions),
    /// List journalled signals, newest last.
    Signals(SignalsOptions),
    /// Manage the transmitter registry.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Manage the staff who sign in to the console.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Manage the programs allowed to use the JSON API, each with its own token and scopes.
    ApiClient {
        #[command(subcommand)]
        command: vakt::api_clients::ApiClientCommand,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print an annotated vakt.toml with every default.
    DefaultConfig,
}

/// Options of `vakt signals`.
#[derive(Debug, clap::Args)]
struct SignalsOptions {
    /// Only this account.
    #[arg(long)]
    account: Option<String>,
    /// From this time: RFC 3339, or a span back from now such as 15m or 2h.
    #[arg(long)]
    since: Option<String>,
    /// Until this time (exclusive), in the same forms.
    #[arg(long)]
    until: Option<String>,
    /// At most this many (the newest).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a console login; the password is read from standard input.
    Add {
        /// The login name.
        #[arg(long)]
        login: String,
        /// The full name.
        #[arg(long)]
        name: String,
        /// operator, lead, customer_service, billing, technician, guard or admin.
        #[arg(long)]
        role: String,
        /// The guard company's id (for the guard role).
        #[arg(long)]
        guard_company: Option<i64>,
        /// sv or en.
        #[arg(long, default_value = "sv")]
        language: String,
    },
    /// List the console logins.
    List,
}

#[derive(Debug, Subcommand)]
enum AccountsCommand {
    /// Import transmitters from a CSV or JSON file; nothing is imported if any line is wrong.
    Import {
        /// The file.
        file: PathBuf,
        /// The format (default: from the file's extension).
        #[arg(long, value_enum)]
        format: Option<vakt::accounts::Format>,
    },
    /// List the registered transmitters (keys are described, never shown).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("vakt: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("vakt: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let http = match &cli.command {
        Command::Serve { http } | Command::Demo { http, .. } => {
            http.map(|listen| HttpOverride { listen })
        }
        _ => None,
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        log: cli.log.clone(),
        http,
    };
    let settings = Settings::load(cli.config.as_deref(), &overrides)
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let default_filter = if matches!(cli.command, Command::Serve { .. }) {
        settings.log.clone()
    } else {
        "warn".to_owned()
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VAKT_LOG_FILTER")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&default_filter))
        .context("the log filter")?;
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Serve { .. } => serve(settings).await,
        Command::Demo {
            sites,
            seed,
            speed,
            no_fleet,
            ..
        } => {
            let options = vakt_sim::seed::DemoOptions {
                sites,
                seed,
                speed,
                fleet: !no_fleet,
            };
            vakt::demo::run(settings, options, &mut out).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Panel(options) => vakt::sim::panel(&settings, options).await,
        Command::Fleet(options) => vakt::sim::fleet(settings, options, &mut out).await,
        Command::DefaultConfig => {
            write!(out, "{}", vakt::settings::DEFAULT_CONFIG)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let database = vakt::migrate(&settings).await?;
            writeln!(out, "The database {database} is up to date.")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Signals(options) => signals(&settings, clock, &mut out, options).await,
        Command::Accounts {
            command: AccountsCommand::Import { file, format },
        } => import_accounts(&settings, clock, &mut out, (file, format)).await,
        Command::Accounts {
            command: AccountsCommand::List { json },
        } => {
            let (store, _) = vakt::open_store(&settings, clock).await?;
            let transmitters = store.transmitters().await;
            store.close().await;
            let transmitters = transmitters?;
            if json {
                let items: Vec<serde_json::Value> = transmitters
                    .iter()
                    .map(vakt_service::transmitters::describe)
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
            } else {
                write!(out, "{}", vakt::accounts::table(&transmitters))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff {
            command: command @ StaffCommand::Add { .. },
        } => add_staff(&settings, clock, &mut out, command).await,
        Command::Staff {
            command: StaffCommand::List,
        } => {
            let (store, _) = vakt::open_store(&settings, clock).await?;
            let staff = store.staff().await;
            store.close().await;
            for s in staff? {
                writeln!(out, "{:<20} {:<30} {}", s.login, s.name, s.role.as_str())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ApiClient { command } => Ok(ExitCode::from(
            vakt::api_clients::run(&settings, clock, command, &mut out).await?,
        )),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    vakt::install_metrics();
    let app = vakt::launch(settings).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Vakt is running.")?;
    for bound in &app.dc09 {
        writeln!(
            out,
            "  DC-09 receiver \"{}\": {} {}",
            bound.name,
            bound.transport.as_str(),
            bound.address
        )?;
    }
    writeln!(
        out,
        "  Console: http://{}  (API /api/v1, health /healthz, metrics /metrics)",
        app.http
    )?;
    writeln!(out, "  Database: {}", app.database)?;
    match &app.api_token_file {
        Some(path) => writeln!(out, "  API token: in {}", path.display())?,
        None => writeln!(out, "  API token: from the configuration")?,
    }
    writeln!(
        out,
        "  Sign in with a login made by: vakt staff add --login NAME --name \"Full Name\" --role admin"
    )?;
    writeln!(out, "Stop with Ctrl-C.")?;
    out.flush()?;
    drop(out);
    wait_for_stop().await;
    tracing::info!("stopping: no new connections; answering what is committed");
    app.shutdown().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_stop() {
    vakt::wait_for_stop().await;
}

/// `vakt signals`: the journal, newest last.
async fn signals(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    out: &mut impl Write,
    options: SignalsOptions,
) -> anyhow::Result<ExitCode> {
    let SignalsOptions {
        account,
        since,
        until,
        limit,
        json,
    } = options;
    let now = clock.now();
    let since = since
        .map(|t| vakt::signals::parse_time(&t, now))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let until = until
        .map(|t| vakt::signals::parse_time(&t, now))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let (store, _) = vakt::open_store(settings, clock).await?;
    let filter = SignalFilter {
        account,
        since,
        until,
        after_id: None,
        limit,
        shard: None,
    };
    let signals = store.signals(&filter).await?;
    store.close().await;
    if json {
        let items: Vec<serde_json::Value> = signals
            .iter()
            .rev()
            .map(vakt_store::StoredSignal::to_json)
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
    } else {
        write!(out, "{}", vakt::signals::table(&signals))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `vakt accounts import`: all of the file or nothing.
async fn import_accounts(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    out: &mut impl Write,
    (file, format): (PathBuf, Option<vakt::accounts::Format>),
) -> anyhow::Result<ExitCode> {
    let format = format
        .or_else(|| vakt::accounts::Format::of(&file))
        .context("say --format csv or --format json")?;
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let transmitters = match vakt::accounts::parse(&text, format) {
        Ok(transmitters) => transmitters,
        Err(problems) => {
            for problem in &problems {
                eprintln!("{}: {problem}", file.display());
            }
            eprintln!(
                "Nothing was imported: {} problem(s) in {}.",
                problems.len(),
                file.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let (store, _) = vakt::open_store(settings, clock).await?;
    let outcome = store.import_transmitters(transmitters).await;
    store.close().await;
    let outcome = outcome?;
    writeln!(
        out,
        "Imported {} transmitter(s): {} new, {} updated.",
        outcome.created + outcome.updated,
        outcome.created,
        outcome.updated
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `vakt staff add`: a console login, its password read from standard input.
async fn add_staff(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    out: &mut impl Write,
    command: StaffCommand,
) -> anyhow::Result<ExitCode> {
    let StaffCommand::Add {
        login,
        name,
        role,
        guard_company,
        language,
    } = command
    else {
        return Ok(ExitCode::from(2));
    };
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let form = vakt_service::forms::StaffForm {
        login,
        name,
        role,
        guard_company_id: guard_company.map(|g| g.to_string()).unwrap_or_default(),
        language,
        password: password.trim_end_matches(['\r', '\n']).to_owned(),
    };
    let login = form.login.trim().to_lowercase();
    let hasher = vakt::hasher(settings)?;
    let (store, _) = vakt::open_store(settings, clock).await?;
    let by = vakt_store::Actor {
        staff_id: None,
        name: "command line".into(),
    };
    let created =
        vakt_service::access::create_staff(&store, &hasher, &vakt_core::OsEntropy, &form, &by)
            .await;
    store.close().await;
    match created {
        Ok(id) => {
            writeln!(out, "Created {login} (id {id}).")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) if problems.iter().any(|p| p.code == "duplicate") => {
            writeln!(out, "The login {login} is taken.")?;
            Ok(ExitCode::from(2))
        }
        Err(problems) if problems.iter().any(|p| p.code == "unavailable") => {
            anyhow::bail!("{}", problems[0].en)
        }
        Err(problems) => {
            for p in problems {
                writeln!(out, "{}: {}", p.field, p.en)?;
            }
            Ok(ExitCode::from(2))
        }
    }
}
