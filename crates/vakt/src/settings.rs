//! Settings: built-in defaults, then `vakt.toml`, then `VAKT_*` variables, then flags.
//!
//! Later layers win. Nested keys in variables are joined with `__`, as in
//! `VAKT_HTTP__LISTEN=0.0.0.0:8080`. `vakt default-config` prints [`DEFAULT_CONFIG`], the
//! annotated file, which a test keeps equal to the defaults in code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use vakt_receiver::{BadFrameAnswer, Limits, ListenerConfig, Protocols, UnknownAccountPolicy};

/// Every setting of Vakt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where Vakt keeps its files.
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://…`; empty means `sqlite:<data_dir>/vakt.db`.
    pub database_url: String,
    /// The log filter, such as `info` or `vakt_receiver=debug,info`.
    pub log: String,
    /// The HTTP side.
    pub http: HttpSettings,
    /// The DC-09 receiver.
    pub receiver: ReceiverSettings,
    /// The signal journal.
    pub journal: JournalSettings,
    /// Sign-in, sessions and secrets.
    pub security: SecuritySettings,
    /// The alarm pipeline.
    pub engine: EngineSettings,
    /// SMS and e-mail delivery.
    pub notify: vakt_notify::NotifyConfig,
}

/// Security settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// Send cookies only over HTTPS.
    pub secure_cookies: bool,
    /// How long a console session lasts, in hours.
    pub session_hours: u32,
    /// Wrong passwords or codes in a row before the account or code is locked.
    pub failures_max: u32,
    /// How long a lock lasts, in seconds.
    pub lock_s: u32,
    /// Argon2id memory per hash, in KiB.
    pub hash_memory_kib: u32,
    /// Argon2id passes.
    pub hash_iterations: u32,
    /// The server-side secret for hashes (hex or text, at least 16 bytes); empty means one is
    /// generated into `<data_dir>/secret-key`.
    pub secret_key: String,
}

impl Default for SecuritySettings {
    fn default() -> SecuritySettings {
        SecuritySettings {
            secure_cookies: true,
            session_hours: 12,
            failures_max: 5,
            lock_s: 900,
            hash_memory_kib: 19 * 1024,
            hash_iterations: 2,
            secret_key: String::new(),
        }
    }
}

/// Engine settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// How long a burglary alarm waits for an authorised disarm, in seconds (0: never).
    pub hold_burglary_s: u32,
    /// The same for tamper alarms.
    pub hold_tamper_s: u32,
    /// The same for technical alarms.
    pub hold_technical_s: u32,
    /// More alarms than this from one point in an hour mark it as runaway.
    pub runaway_alarms_per_hour: u32,
    /// Added to a transmitter's heartbeat interval before its silence opens an incident, in
    /// seconds.
    pub supervision_grace_s: u32,
    /// How often the journal is read for new signals, in milliseconds.
    pub poll_ms: u64,
    /// Into how many shards the engine's work is cut on PostgreSQL, so several nodes can
    /// share it (SQLite always has one). Fixed once a database has data.
    pub shards: u32,
    /// How often a node on PostgreSQL looks for shards to take or give up, in milliseconds.
    pub lease_check_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> EngineSettings {
        EngineSettings {
            hold_burglary_s: 60,
            hold_tamper_s: 0,
            hold_technical_s: 0,
            runaway_alarms_per_hour: 10,
            supervision_grace_s: 60,
            poll_ms: 100,
            shards: 8,
            lease_check_ms: 500,
        }
    }
}

/// HTTP settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// The API's bearer token; empty means one is generated into `<data_dir>/api-token`.
    pub api_token: String,
}

/// Receiver settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiverSettings {
    /// The receiving ports.
    pub listeners: Vec<ListenerConfig>,
    /// Bounds on what clients can hold.
    pub limits: Limits,
    /// What to answer to bad frames: `none` or `nak`.
    pub bad_frame_answer: BadFrameAnswer,
    /// How often the registry is checked for changes, in milliseconds.
    pub registry_poll_ms: u64,
}

/// Journal settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalSettings {
    /// Most signals committed in one transaction.
    pub batch_signals_max: usize,
    /// Most writes queued for the writer.
    pub queue_writes_max: usize,
    /// How long a retransmission is recognised as the same message, in seconds.
    pub duplicate_window_s: u32,
    /// How long SQLite waits for its lock, in milliseconds.
    pub busy_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            log: "info".to_owned(),
            http: HttpSettings::default(),
            receiver: ReceiverSettings::default(),
            journal: JournalSettings::default(),
            security: SecuritySettings::default(),
            engine: EngineSettings::default(),
            notify: vakt_notify::NotifyConfig::default(),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_token: String::new(),
        }
    }
}

impl Default for ReceiverSettings {
    fn default() -> ReceiverSettings {
        ReceiverSettings {
            listeners: vec![ListenerConfig {
                name: "main".to_owned(),
                address: SocketAddr::from(([127, 0, 0, 1], 9100)),
                protocols: Protocols::Both,
                unknown_account: UnknownAccountPolicy::Ack,
            }],
            limits: Limits::default(),
            bad_frame_answer: BadFrameAnswer::None,
            registry_poll_ms: 1_000,
        }
    }
}

impl Default for JournalSettings {
    fn default() -> JournalSettings {
        JournalSettings {
            batch_signals_max: 512,
            queue_writes_max: 16_384,
            duplicate_window_s: 120,
            busy_timeout_ms: 5_000,
        }
    }
}

/// Where the database is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL.
    Postgres(String),
}

impl Database {
    /// The database as a person reads it: the file, or the URL without its password.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let credentials = &url[scheme + 3..at];
                    let user = credentials.split(':').next().unwrap_or_default();
                    format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
                }
                _ => url.clone(),
            },
        }
    }
}

impl Settings {
    /// Reads the layers. `file` is the configuration file given on the command line, if
    /// any; without one, `vakt.toml` in the working directory is read when it exists.
    ///
    /// # Errors
    /// A bad value, naming where it came from.
    pub fn load(
        file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("vakt.toml")),
        }
        figment = figment
            .merge(Env::prefixed("VAKT_").split("__").ignore(&["config"]))
            .merge(Serialized::defaults(overrides));
        figment.extract().map_err(Box::new)
    }

    /// The database to use.
    ///
    /// # Errors
    /// A URL of a kind Vakt does not support.
    pub fn database(&self) -> Result<Database, String> {
        if self.database_url.is_empty() {
            return Ok(Database::Sqlite(self.data_dir.join("vakt.db")));
        }
        if let Some(path) = self.database_url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
        {
            return Ok(Database::Postgres(self.database_url.clone()));
        }
        Err(format!(
            "database_url {:?}: use sqlite:PATH or postgres://USER:PASSWORD@HOST/DATABASE",
            Database::Postgres(self.database_url.clone()).describe()
        ))
    }
}

/// Settings given as flags; only those set override the other layers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--log`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// `--http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpOverride>,
}

/// `--http ADDRESS`.
#[derive(Clone, Debug, Serialize)]
pub struct HttpOverride {
    /// Where to listen.
    pub listen: SocketAddr,
}

/// The annotated configuration file that `vakt default-config` prints.
pub const DEFAULT_CONFIG: &str = r#"# vakt.toml: Vakt's configuration. Every value below is the default.
# Order of precedence: these defaults < this file < VAKT_* variables < command-line flags.
# A nested key becomes a variable with "__": [http] listen -> VAKT_HTTP__LISTEN.

# Where Vakt keeps its database and generated secrets.
data_dir = "data"
# "sqlite:PATH", or "postgres://USER:PASSWORD@HOST:PORT/DATABASE" for several nodes on one
# PostgreSQL (then set [security] secret_key and [http] api_token, the same on every node).
# Empty means sqlite:<data_dir>/vakt.db.
database_url = ""
# Log filter: error, warn, info, debug, trace, or per module ("vakt_receiver=debug,info").
log = "info"

[http]
# Console, JSON API (/api/v1), /healthz and /metrics.
listen = "127.0.0.1:8080"
# Bearer token for /api/v1. Empty: generated once into <data_dir>/api-token.
api_token = ""

[receiver]
# What to answer to frames with a bad CRC or length: "none" (as the standard's test plan
# says) or "nak".
bad_frame_answer = "none"
# How often to check the transmitter registry for changes, in milliseconds.
registry_poll_ms = 1000

# One block per receiving port. protocols: "tcp", "udp" or "both" (same port number).
# unknown_account: "ack" journals frames from unregistered accounts and acknowledges them so
# no alarm is lost; "nak" refuses them so the panel tries its backup path.
[[receiver.listeners]]
name = "main"
address = "127.0.0.1:9100"
protocols = "both"
unknown_account = "ack"

[receiver.limits]
# Open TCP connections in total, and from one address.
connections_max = 10000
connections_per_peer_max = 64
# Largest frame body accepted, in bytes (the length field's maximum is 4095).
frame_bytes_max = 4095
# A connection with nothing to read for this long is closed.
idle_timeout_ms = 120000
# A frame must be complete this long after its first byte.
frame_timeout_ms = 30000
# Answers one connection may have waiting for the journal commit.
pending_acks_max = 64
# UDP datagrams being committed at once.
udp_pending_max = 4096

[journal]
# Most signals committed in one transaction (one fsync).
batch_signals_max = 512
# Most writes queued for the journal writer before receivers wait.
queue_writes_max = 16384
# How long a retransmission (same account, prefix, receiver, sequence and content) is
# acknowledged again but handled once, in seconds.
duplicate_window_s = 120
# How long SQLite waits for its lock, in milliseconds.
busy_timeout_ms = 5000

[security]
# Send the console's cookies only over HTTPS. Turn off only when the console is reached over
# plain HTTP on a trusted network (browsers treat 127.0.0.1 and localhost as secure anyway).
secure_cookies = true
# How long a console session lasts, in hours.
session_hours = 12
# Wrong passwords in a row (sign-in, a contact's password, a revoking code) before it is locked,
# and for how long, in seconds.
failures_max = 5
lock_s = 900
# Argon2id cost for passwords and codes: memory in KiB and passes.
hash_memory_kib = 19456
hash_iterations = 2
# The server-side secret mixed into every hash, at least 16 characters. Empty: generated once
# into <data_dir>/secret-key. Losing it makes every stored password and code unusable.
secret_key = ""

[engine]
# How long an alarm waits for an authorised disarm before only an operator can close it, in
# seconds, per category (fire, hold-up and medical alarms are never held).
hold_burglary_s = 60
hold_tamper_s = 0
hold_technical_s = 0
# More alarms than this from one alarm point in an hour mark it as runaway: they are grouped
# on one incident and flagged.
runaway_alarms_per_hour = 10
# Added to a transmitter's heartbeat interval before its silence opens an incident, in seconds.
supervision_grace_s = 60
# How often the journal is read for new signals, in milliseconds.
poll_ms = 100
# On PostgreSQL the engine's work is cut into this many shards, shared among the running nodes
# (each transmitter belongs to one). Fixed once the database holds data. SQLite has one.
shards = 8
# How often a node on PostgreSQL looks for shards to take (a node gone) or give up (a node
# joined), in milliseconds.
lease_check_ms = 500

[notify]
# SMS gateway: Vakt POSTs {"to", "from", "message", "reference"} as JSON. Empty: SMS stay in
# the outbox undelivered.
sms_gateway_url = ""
sms_gateway_token = ""
sms_sender = "Vakt"
# SMTP relay as host:port. Empty: e-mail stays in the outbox undelivered.
smtp_relay = ""
email_from = "larmcentralen@vakt.invalid"
# How often the outbox is read, in milliseconds; attempts before giving up; the first retry's
# delay in seconds (doubling after each failure); the time one delivery may take, in seconds.
poll_ms = 500
attempts_max = 8
retry_base_s = 5
timeout_s = 10
"#;

/// The first configured DC-09 listener that takes TCP, where virtual panels send.
#[must_use]
pub fn default_tcp(settings: &Settings) -> Option<SocketAddr> {
    settings
        .receiver
        .listeners
        .iter()
        .find(|l| l.protocols != vakt_receiver::Protocols::Udp)
        .map(|l| l.address)
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's test jail returns its own error type.
mod tests {
    use super::*;

    #[test]
    fn the_annotated_file_says_exactly_the_defaults() {
        let parsed: Settings = Figment::from(Toml::string(DEFAULT_CONFIG))
            .extract()
            .unwrap();
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "vakt.toml",
                "log = \"debug\"\n[http]\nlisten = \"127.0.0.1:1\"\n",
            )?;
            jail.set_env("VAKT_HTTP__LISTEN", "127.0.0.1:2");
            let from_env = Settings::load(None, &Overrides::default()).unwrap();
            assert_eq!(from_env.log, "debug");
            assert_eq!(from_env.http.listen.port(), 2);
            let flags = Overrides {
                http: Some(HttpOverride {
                    listen: SocketAddr::from(([127, 0, 0, 1], 3)),
                }),
                ..Overrides::default()
            };
            assert_eq!(Settings::load(None, &flags).unwrap().http.listen.port(), 3);
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_source() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("VAKT_JOURNAL__BATCH_SIGNALS_MAX", "many");
            let error = Settings::load(None, &Overrides::default())
                .unwrap_err()
                .to_string()
                .to_lowercase();
            assert!(
                error.contains("batch_signals_max") && error.contains("vakt_"),
                "{error}"
            );
            Ok(())
        });
    }
}
