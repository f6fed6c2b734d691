//! `vakt demo`: a whole demo operator in one command.
//!
//! The first run fills an empty database with what a newcomer needs to try Vakt: staff logins
//! for every role, guard companies by area, and 50 sites of private and business customers
//! with Swedish names, addresses, zones, panel users, contacts with passwords, revoking codes
//! and keys in the key store, each with a DC-09 transmitter (half of them encrypted, SIA or
//! Contact ID) and a panel-link token. Everything goes through the same validation as the
//! console's forms. What a person needs to use it (logins, codes, contact passwords, panel
//! settings) is written to `<data_dir>/demo.json`; a later run finds that file and starts the
//! same demo again, so the data survives a restart.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use vakt_core::OsEntropy;
use vakt_core::centre::Role;
use vakt_core::identity::CivilDate;
use vakt_panel::Installation;
use vakt_service::forms::GuardCompanyForm;
use vakt_service::secret::SecretHasher;
use vakt_store::{Actor, Centre, NewStaff, Registry};

/// The file the demo keeps its logins and panels in.
mod data;
mod site;

use data::{GUARD_COMPANIES, STAFF, problems, secret_word};

pub const MANIFEST: &str = "demo.json";

/// A login printed for the newcomer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Login {
    /// The login name.
    pub login: String,
    /// The password.
    pub password: String,
    /// The role's stable name.
    pub role: String,
    /// Who.
    pub name: String,
}

/// A contact person and the password the centre asks for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoContact {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// The password.
    pub password: String,
}

/// One demo site's panel, as `vakt panel --demo-site N` and the fleet run it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoPanel {
    /// The site's number in the demo, 1 and up.
    pub number: usize,
    /// The registry's site id.
    pub site_id: i64,
    /// The site's name.
    pub site: String,
    /// The DC-09 account.
    pub account: String,
    /// `sia` or `cid`.
    pub format: String,
    /// The AES key in hex, for encrypted transmitters.
    pub key_hex: Option<String>,
    /// The panel-link token.
    pub link_token: String,
    /// The main code (huvudkod).
    pub main_code: String,
    /// The revoking code (återkallningskod).
    pub revoking_code: String,
    /// Points, users and credentials.
    pub installation: Installation,
    /// The contacts in call order.
    pub contacts: Vec<DemoContact>,
}

/// What the demo made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// The seed the data was drawn from.
    pub seed: u64,
    /// Staff logins.
    pub logins: Vec<Login>,
    /// The panels, one per site.
    pub panels: Vec<DemoPanel>,
}

impl Manifest {
    /// The manifest's path in `data_dir`.
    #[must_use]
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(MANIFEST)
    }

    /// Reads the manifest, if the demo has been set up in `data_dir`.
    ///
    /// # Errors
    /// When the file exists but cannot be read.
    pub fn load(data_dir: &Path) -> anyhow::Result<Option<Manifest>> {
        let path = Manifest::path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("reading {}", path.display()))?,
            )),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn save(&self, data_dir: &Path) -> anyhow::Result<()> {
        let path = Manifest::path(data_dir);
        let text = serde_json::to_string_pretty(self)?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text)
            .with_context(|| format!("writing {}", temporary.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&temporary, &path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// Fills an empty store with the demo operator and writes the manifest; returns it.
///
/// # Errors
/// When the store refuses a write or the manifest cannot be written.
pub async fn seed<S: Centre + Registry>(
    store: &S,
    hasher: &SecretHasher,
    data_dir: &Path,
    seed: u64,
    sites: usize,
    today: CivilDate,
) -> anyhow::Result<Manifest> {
    let mut rng = StdRng::seed_from_u64(seed);
    let by = Actor::system();
    let logins = staff(store, hasher, &mut rng, &by).await?;
    let mut panels = Vec::with_capacity(sites);
    let mut used_addresses = std::collections::HashSet::new();
    for number in 1..=sites {
        let context = (&by, today, number);
        panels.push(site::site(store, hasher, &mut rng, context, &mut used_addresses).await?);
    }
    let manifest = Manifest {
        seed,
        logins,
        panels,
    };
    manifest.save(data_dir)?;
    Ok(manifest)
}

/// The guard companies, and a login for every role and every company; returns the logins
/// with their passwords.
async fn staff<S: Centre>(
    store: &S,
    hasher: &SecretHasher,
    rng: &mut StdRng,
    by: &Actor,
) -> anyhow::Result<Vec<Login>> {
    let mut company_ids = Vec::new();
    for (_, name, phone, areas) in GUARD_COMPANIES {
        let form = GuardCompanyForm {
            name: (*name).into(),
            phone: (*phone).into(),
            areas: areas.join(", "),
        };
        let company = form
            .validate(0)
            .map_err(|p| problems("guard company", &p))?;
        company_ids.push(store.save_guard_company(company, by).await?);
    }
    let guard_logins = GUARD_COMPANIES
        .iter()
        .zip(&company_ids)
        .map(|((login, name, _, _), id)| (*login, *name, Role::Guard, Some(*id)));
    let staff = STAFF
        .iter()
        .map(|(login, name, role)| (*login, *name, *role, None))
        .chain(guard_logins);
    let mut logins = Vec::new();
    for (login, name, role, guard_company_id) in staff {
        let password = secret_word(rng);
        store
            .create_staff(
                NewStaff {
                    login: login.into(),
                    name: name.into(),
                    role,
                    guard_company_id,
                    language: "sv".into(),
                    password_hash: hasher.hash(&password, &OsEntropy)?,
                },
                by,
            )
            .await?;
        logins.push(Login {
            login: login.into(),
            password,
            role: role.as_str().into(),
            name: name.into(),
        });
    }
    Ok(logins)
}

/// How `vakt demo` runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Sites to create on the first run.
    pub sites: usize,
    /// The seed for names, addresses and the panels' days.
    pub seed: u64,
    /// Panel time runs this many times faster than real time.
    pub speed: u32,
    /// Whether to run the fleet of panels.
    pub fleet: bool,
}

/// What the demo prints: where the console is and how to sign in.
#[must_use]
pub fn welcome(
    manifest: &Manifest,
    http: std::net::SocketAddr,
    tcp: std::net::SocketAddr,
    data_dir: &Path,
    options: &DemoOptions,
) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    let _ = writeln!(text, "Vakt demo is running.");
    let _ = writeln!(text);
    let _ = writeln!(text, "  Console:  http://{http}/");
    let _ = writeln!(text, "  DC-09:    tcp {tcp}");
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "Sign in with one of these logins (login / password, role):"
    );
    for login in &manifest.logins {
        let _ = writeln!(
            text,
            "  {:<12} {:<16} {} ({})",
            login.login, login.password, login.role, login.name
        );
    }
    let _ = writeln!(text);
    let fleet = if options.fleet {
        format!(
            "{} panels live their days {} times faster than real time; ",
            manifest.panels.len().saturating_sub(1),
            options.speed
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        text,
        "{fleet}site 1 is yours:\n  cargo run --release -p vakt -- panel --demo-site 1"
    );
    let _ = writeln!(
        text,
        "Codes, contact passwords and revoking codes: {}",
        Manifest::path(data_dir).display()
    );
    let _ = writeln!(
        text,
        "Stop with Ctrl-C; the data stays in {}.",
        data_dir.display()
    );
    text
}

/// Lower-case ASCII letters of `text`, for e-mail addresses.
fn ascii(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c.to_ascii_lowercase() {
            'å' | 'Å' | 'ä' | 'Ä' => Some('a'),
            'ö' | 'Ö' => Some('o'),
            'é' => Some('e'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::data::{organisationsnummer, personnummer};
    use super::*;
    use vakt_core::identity::{OrganisationNumber, PersonalNumber};

    #[test]
    fn generated_identity_numbers_pass_the_registry_checks() {
        let mut rng = StdRng::seed_from_u64(1);
        let today = CivilDate {
            year: 2026,
            month: 11,
            day: 22,
        };
        for _ in 0..1_000 {
            let person = personnummer(&mut rng);
            assert!(PersonalNumber::parse(&person, today).is_ok(), "{person}");
            let company = organisationsnummer(&mut rng);
            assert!(OrganisationNumber::parse(&company).is_ok(), "{company}");
        }
        assert_eq!(ascii("Åberg Sjöström"), "abergsjostrom");
    }
}
