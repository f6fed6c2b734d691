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
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use vakt_core::OsEntropy;
use vakt_core::centre::Role;
use vakt_core::identity::{CivilDate, luhn_check_digit};
use vakt_panel::panel::{Authority, Enrolled, PointSpec};
use vakt_panel::{Credential, Format, Installation, PointKind, User};
use vakt_service::forms::{
    ContactForm, CustomerForm, GuardCompanyForm, PointForm, SiteForm, UserForm, validate_contacts,
    validate_points, validate_users,
};
use vakt_service::secret::{SecretHasher, new_token, token_hash};
use vakt_store::{Actor, Centre, NewContact, NewStaff, Registry};

/// The file the demo keeps its logins and panels in.
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

const FIRST_NAMES: &[&str] = &[
    "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Kristina", "Per", "Lena",
    "Mikael", "Sara", "Karl", "Emma", "Nils", "Ingrid", "Olof", "Elin", "Gustav", "Sofia",
    "Magnus", "Ida", "Fredrik", "Linnéa", "Björn", "Maja", "Henrik", "Astrid", "Viktor",
];
const SURNAMES: &[&str] = &[
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Lindberg",
    "Lindqvist",
    "Berg",
    "Holm",
    "Sjöberg",
    "Lundgren",
    "Wallin",
    "Engström",
    "Åberg",
    "Ström",
    "Björk",
    "Hedlund",
    "Söderberg",
];
/// City, guard area, postal code prefix, latitude, longitude, streets.
type Place = (
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    &'static [&'static str],
);

const PLACES: &[Place] = &[
    (
        "Stockholm",
        "Stockholm innerstad",
        "114",
        59.334,
        18.063,
        &[
            "Sveavägen",
            "Götgatan",
            "Hornsgatan",
            "Odengatan",
            "Karlavägen",
            "Ringvägen",
        ],
    ),
    (
        "Bromma",
        "Västerort",
        "167",
        59.338,
        17.940,
        &["Nockebyvägen", "Ålstensgatan", "Klövervägen", "Brommaplan"],
    ),
    (
        "Huddinge",
        "Söderort",
        "141",
        59.237,
        17.982,
        &[
            "Storängsvägen",
            "Sjödalsvägen",
            "Tomtbergavägen",
            "Kommunalvägen",
        ],
    ),
    (
        "Uppsala",
        "Uppsala",
        "753",
        59.858,
        17.639,
        &[
            "Svartbäcksgatan",
            "Kungsängsvägen",
            "Luthagsesplanaden",
            "Vaksalagatan",
        ],
    ),
    (
        "Göteborg",
        "Göteborg",
        "413",
        57.707,
        11.967,
        &[
            "Linnégatan",
            "Vasagatan",
            "Övre Husargatan",
            "Eklandagatan",
            "Mölndalsvägen",
        ],
    ),
    (
        "Malmö",
        "Malmö",
        "211",
        55.605,
        13.003,
        &[
            "Södra Förstadsgatan",
            "Regementsgatan",
            "Limhamnsvägen",
            "Amiralsgatan",
        ],
    ),
];
const BUSINESSES: &[(&str, &str)] = &[
    ("Bageri", "Bageri"),
    ("Frisör", "Frisörsalong"),
    ("Juvelerare", "Guldsmedsbutik"),
    ("Tandläkare", "Tandläkarpraktik"),
    ("Redovisning", "Kontor"),
    ("Cykel", "Cykelverkstad"),
    ("Blommor", "Blomsterhandel"),
    ("Elektronik", "Butik"),
    ("Restaurang", "Restaurang"),
    ("Bygg", "Lager"),
];
const PASSWORD_WORDS: &[&str] = &[
    "blåbär",
    "lingon",
    "ekorre",
    "fjällräv",
    "hjortron",
    "kantarell",
    "midsommar",
    "renstig",
    "sjöbod",
    "skärgård",
    "solvarv",
    "stuga",
    "vitsippa",
    "älgko",
    "åkervall",
    "kanelbulle",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn digits(rng: &mut StdRng, count: usize) -> String {
    (0..count)
        .map(|_| char::from(b'0' + rng.random_range(0..10_u8)))
        .collect()
}

/// A valid personnummer for someone born between 1940 and 2000.
fn personnummer(rng: &mut StdRng) -> String {
    let year = rng.random_range(1940..2000_u32);
    let month = rng.random_range(1..13_u32);
    let day = rng.random_range(1..29_u32);
    let serial = rng.random_range(0..1000_u32);
    let first = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
    let nine: Vec<u8> = first.bytes().map(|b| b - b'0').collect();
    format!(
        "{year}{month:02}{day:02}-{serial:03}{}",
        luhn_check_digit(&nine)
    )
}

/// A valid organisationsnummer of a limited company (aktiebolag, 55…).
fn organisationsnummer(rng: &mut StdRng) -> String {
    let first = format!("556{}", digits(rng, 6));
    let nine: Vec<u8> = first.bytes().map(|b| b - b'0').collect();
    format!("{}-{}{}", &first[..6], &first[6..], luhn_check_digit(&nine))
}

fn mobile(rng: &mut StdRng) -> String {
    format!("+4670{}", digits(rng, 7))
}

fn code(rng: &mut StdRng) -> String {
    digits(rng, 4)
}

fn problems(what: &str, problems: &[vakt_service::forms::Problem]) -> anyhow::Error {
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.en))
        .collect();
    anyhow::anyhow!("demo {what} is invalid: {}", list.join("; "))
}

struct Point {
    name: &'static str,
    kind: PointKind,
    entry_route: bool,
    location: &'static str,
}

const fn point(
    name: &'static str,
    kind: PointKind,
    entry_route: bool,
    location: &'static str,
) -> Point {
    Point {
        name,
        kind,
        entry_route,
        location,
    }
}

const VILLA: &[Point] = &[
    point("Ytterdörr", PointKind::DoorWindow, true, "Entré"),
    point("Altandörr", PointKind::DoorWindow, false, "Vardagsrum"),
    point("Hall", PointKind::Motion, false, "Entréplan"),
    point("Vardagsrum", PointKind::PetImmuneMotion, false, "Entréplan"),
    point("Köksfönster", PointKind::DoorWindow, false, "Kök"),
    point("Brandvarnare kök", PointKind::Smoke, false, "Kök"),
    point(
        "Brandvarnare övervåning",
        PointKind::Smoke,
        false,
        "Övervåning",
    ),
    point("Fotodetektor källare", PointKind::Camera, false, "Källare"),
];
const FLAT: &[Point] = &[
    point("Ytterdörr", PointKind::DoorWindow, true, "Hall"),
    point("Hall", PointKind::Motion, false, "Hall"),
    point(
        "Vardagsrum",
        PointKind::PetImmuneMotion,
        false,
        "Vardagsrum",
    ),
    point("Brandvarnare", PointKind::Smoke, false, "Hall"),
];
const SHOP: &[Point] = &[
    point("Entrédörr", PointKind::DoorWindow, true, "Entré"),
    point("Bakdörr", PointKind::DoorWindow, false, "Lager"),
    point("Butiksyta", PointKind::Motion, false, "Butik"),
    point("Kontor", PointKind::Motion, false, "Kontor"),
    point("Överfallsknapp kassa", PointKind::Panic, false, "Kassa"),
    point("Brandvarnare", PointKind::Smoke, false, "Lager"),
    point("Kamera lager", PointKind::Camera, false, "Lager"),
];

fn registry_kind(kind: PointKind) -> &'static str {
    match kind {
        PointKind::DoorWindow => "door_window",
        PointKind::Motion => "motion",
        PointKind::PetImmuneMotion => "pet_motion",
        PointKind::Smoke => "smoke",
        PointKind::Panic => "panic",
        PointKind::Camera => "camera",
    }
}

/// The staff logins: one per role, and one per guard company.
const STAFF: &[(&str, &str, Role)] = &[
    ("operator", "Olle Operatör", Role::Operator),
    ("operator2", "Oskar Operatör", Role::Operator),
    ("lead", "Sigrid Skiftledare", Role::Lead),
    ("kundtjanst", "Karin Kundtjänst", Role::CustomerService),
    ("fakturering", "Frida Fakturering", Role::Billing),
    ("tekniker", "Tore Tekniker", Role::Technician),
    ("admin", "Agnes Administratör", Role::Admin),
];

const GUARD_COMPANIES: &[(&str, &str, &str, &[&str])] = &[
    (
        "nordvakt",
        "Nordvakt Bevakning AB",
        "+46812345670",
        &["Stockholm innerstad", "Västerort", "Söderort", "Uppsala"],
    ),
    (
        "vastvakt",
        "Västkustens Väktare AB",
        "+46311234560",
        &["Göteborg"],
    ),
    (
        "sydvakt",
        "Sydvakt Larmutryckning AB",
        "+46401234560",
        &["Malmö"],
    ),
];

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
    let secret_word = |rng: &mut StdRng| {
        format!(
            "{}{}",
            pick(rng, PASSWORD_WORDS),
            rng.random_range(10..100_u32)
        )
    };

    let mut logins = Vec::new();
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
        company_ids.push(store.save_guard_company(company, &by).await?);
    }
    let guard_logins = GUARD_COMPANIES
        .iter()
        .zip(&company_ids)
        .map(|((login, name, _, _), id)| (*login, *name, Role::Guard, Some(*id)));
    let staff = STAFF
        .iter()
        .map(|(login, name, role)| (*login, *name, *role, None))
        .chain(guard_logins);
    for (login, name, role, guard_company_id) in staff {
        let password = secret_word(&mut rng);
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
                &by,
            )
            .await?;
        logins.push(Login {
            login: login.into(),
            password,
            role: role.as_str().into(),
            name: name.into(),
        });
    }

    let mut panels = Vec::with_capacity(sites);
    let mut used_addresses = std::collections::HashSet::new();
    for number in 1..=sites {
        let business = number % 10 == 3 || number % 10 == 7 || number % 10 == 0;
        let (city, area, postal, lat, lon, streets) = *pick(&mut rng, PLACES);
        let street = loop {
            let street = format!(
                "{} {}",
                pick(&mut rng, streets),
                rng.random_range(1..120_u32)
            );
            if used_addresses.insert(street.clone()) {
                break street;
            }
        };
        let address = format!("{street}, {postal} {} {city}", digits(&mut rng, 2));
        let surname = *pick(&mut rng, SURNAMES);
        let first = *pick(&mut rng, FIRST_NAMES);
        let (customer_form, site_name, layout) = if business {
            let (trade, kind) = *pick(&mut rng, BUSINESSES);
            let company = format!("{surname}s {trade} AB");
            (
                CustomerForm {
                    kind: "business".into(),
                    name: company.clone(),
                    identity: organisationsnummer(&mut rng),
                    signatory: format!("{first} {surname}"),
                    email: format!("info@{}.se", ascii(&company)),
                    phone: mobile(&mut rng),
                    language: "sv".into(),
                },
                format!("{company}, {kind}"),
                SHOP,
            )
        } else {
            let villa = rng.random_bool(0.6);
            (
                CustomerForm {
                    kind: "private".into(),
                    name: format!("{first} {surname}"),
                    identity: personnummer(&mut rng),
                    signatory: String::new(),
                    email: format!("{}.{}@example.se", ascii(first), ascii(surname)),
                    phone: mobile(&mut rng),
                    language: if rng.random_bool(0.9) { "sv" } else { "en" }.into(),
                },
                if villa {
                    format!("Villa {surname}")
                } else {
                    format!("Lägenhet {surname}")
                },
                if villa { VILLA } else { FLAT },
            )
        };
        let customer = customer_form
            .validate(today)
            .map_err(|p| problems("customer", &p))?;
        let customer_id = store.save_customer(None, customer, &by).await?;
        let site_form = SiteForm {
            customer_id: customer_id.to_string(),
            name: format!("{site_name} ({number})"),
            address: address.clone(),
            latitude: format!("{:.5}", lat + rng.random_range(-0.03..0.03)),
            longitude: format!("{:.5}", lon + rng.random_range(-0.05..0.05)),
            guard_area: area.into(),
            note: if business {
                "Larmet kopplas till och från av personalen; nyckel i nyckelskåp.".into()
            } else {
                String::new()
            },
        };
        let site = site_form.validate().map_err(|p| problems("site", &p))?;
        let site_name = site.name.clone();
        let site_id = store.save_site(None, site, &by).await?;

        let point_forms: Vec<PointForm> = layout
            .iter()
            .zip(1_u32..)
            .map(|(p, zone)| PointForm {
                number: zone.to_string(),
                name: p.name.into(),
                kind: registry_kind(p.kind).into(),
                location: p.location.into(),
            })
            .collect();
        let points = validate_points(&point_forms).map_err(|p| problems("points", &p))?;
        store.save_points(site_id, points, &by).await?;

        // People: the customer, and in a home one or two more.
        let household = if business {
            vec![
                format!("{first} {surname}"),
                format!(
                    "{} {}",
                    pick(&mut rng, FIRST_NAMES),
                    pick(&mut rng, SURNAMES)
                ),
            ]
        } else {
            let mut people = vec![format!("{first} {surname}")];
            for _ in 0..rng.random_range(0..3) {
                people.push(format!("{} {surname}", pick(&mut rng, FIRST_NAMES)));
            }
            people
        };
        let user_forms: Vec<UserForm> = household
            .iter()
            .zip(1_u32..)
            .map(|(name, n)| UserForm {
                number: n.to_string(),
                name: name.clone(),
            })
            .collect();
        let users = validate_users(&user_forms).map_err(|p| problems("users", &p))?;
        store.save_panel_users(site_id, users, &by).await?;

        let mut contacts = Vec::new();
        let mut contact_forms = Vec::new();
        let callers: Vec<String> = household
            .iter()
            .cloned()
            .chain(std::iter::once(format!(
                "{} {} (granne)",
                pick(&mut rng, FIRST_NAMES),
                pick(&mut rng, SURNAMES)
            )))
            .take(3)
            .collect();
        for (i, name) in callers.iter().enumerate() {
            let contact = DemoContact {
                name: name.clone(),
                phone: mobile(&mut rng),
                password: secret_word(&mut rng),
            };
            contact_forms.push(ContactForm {
                id: String::new(),
                name: contact.name.clone(),
                phone: contact.phone.clone(),
                authority: if i == 0 { "full" } else { "cancel_only" }.into(),
                hours: if i == callers.len() - 1 {
                    "07:00-22:00".into()
                } else {
                    String::new()
                },
                password: contact.password.clone(),
            });
            contacts.push(contact);
        }
        let valid = validate_contacts(&contact_forms).map_err(|p| problems("contacts", &p))?;
        let mut new_contacts = Vec::with_capacity(valid.len());
        for contact in valid {
            let password_hash = contact
                .password
                .as_deref()
                .map(|p| hasher.hash(p, &OsEntropy))
                .transpose()?;
            new_contacts.push(NewContact {
                id: None,
                name: contact.name,
                phone: contact.phone,
                authority: contact.authority,
                hours: contact.hours,
                password_hash,
            });
        }
        store.save_contacts(site_id, new_contacts, &by).await?;

        let revoking_code = digits(&mut rng, 6);
        store
            .set_revoking_code(site_id, hasher.hash(&revoking_code, &OsEntropy)?, &by)
            .await?;

        // Most business customers and a third of homes leave a key for the guards.
        if business || rng.random_bool(0.35) {
            let door = layout.first().map_or("Ytterdörr", |p| p.name);
            store
                .add_key(
                    site_id,
                    format!("N{number:03}-1 {door}"),
                    format!(
                        "Nyckelskåp {}-{:02}",
                        char::from(b'A' + rng.random_range(0..6_u8)),
                        rng.random_range(1..40)
                    ),
                    &by,
                )
                .await?;
        }

        // The panel: user 1 holds the main code, the others user codes; one untied tag
        // (the cleaner's, or a spare) and a remote tied to the last person.
        let main_code = code(&mut rng);
        let mut credentials = vec![Enrolled {
            credential: Credential::Code(main_code.clone()),
            authority: Authority::Main,
            user: Some(1),
        }];
        for n in 2..=household.len() {
            credentials.push(Enrolled {
                credential: Credential::Code(code(&mut rng)),
                authority: Authority::User,
                user: u32::try_from(n).ok(),
            });
        }
        credentials.push(Enrolled {
            credential: Credential::Tag(format!("TAG-{}", digits(&mut rng, 6))),
            authority: Authority::User,
            user: None,
        });
        credentials.push(Enrolled {
            credential: Credential::Remote(format!("RC-{}", digits(&mut rng, 6))),
            authority: Authority::User,
            user: u32::try_from(household.len()).ok(),
        });
        let installation = Installation {
            points: layout
                .iter()
                .zip(1_u32..)
                .map(|(p, zone)| PointSpec {
                    number: zone,
                    name: p.name.into(),
                    kind: p.kind,
                    partition: 1,
                    entry_route: p.entry_route,
                })
                .collect(),
            users: household
                .iter()
                .zip(1_u32..)
                .map(|(name, n)| User {
                    number: n,
                    name: name.clone(),
                })
                .collect(),
            credentials,
        };

        let account = format!("{:04}", 5000 + number);
        let encrypted = number % 2 == 0;
        let format = if number % 3 == 0 {
            Format::ContactId
        } else {
            Format::Sia
        };
        let key_hex = encrypted.then(|| {
            let bytes: [u8; 16] = rand::random();
            hex::encode_upper(bytes)
        });
        let input = vakt_service::TransmitterInput {
            account: account.clone(),
            prefix: Some("0".into()),
            key: key_hex.clone(),
            key_form: key_hex.as_ref().map(|_| "hex".into()),
            supervision_interval_s: Some(300),
            site_name: site_name.clone(),
            site_address: Some(address),
            ..vakt_service::TransmitterInput::default()
        };
        let transmitter = input
            .validate()
            .map_err(|e| anyhow::anyhow!("demo transmitter: {e:?}"))?;
        store.import_transmitters(vec![transmitter]).await?;
        let transmitter_id = store
            .transmitters()
            .await?
            .into_iter()
            .find(|t| t.spec.account == account)
            .map(|t| t.id)
            .context("the demo transmitter was stored")?;
        let link_token = new_token(&OsEntropy);
        store
            .set_link_token(transmitter_id, token_hash(&link_token), &by)
            .await?;
        panels.push(DemoPanel {
            number,
            site_id,
            site: site_name,
            account,
            format: format.as_str().into(),
            key_hex,
            link_token,
            main_code,
            revoking_code,
            installation,
            contacts,
        });
    }
    let manifest = Manifest {
        seed,
        logins,
        panels,
    };
    manifest.save(data_dir)?;
    Ok(manifest)
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
