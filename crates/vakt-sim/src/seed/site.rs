//! One demo site, seeded through the same validation as the console's forms: its customer,
//! the site with points, panel users and contacts, a revoking code and perhaps a key, the
//! panel's installation, and a DC-09 transmitter with a panel-link token.

use std::collections::HashSet;

use anyhow::Context;
use rand::RngExt;
use rand::rngs::StdRng;
use vakt_core::OsEntropy;
use vakt_core::identity::CivilDate;
use vakt_panel::panel::{Authority, Enrolled, PointSpec};
use vakt_panel::{Credential, Format, Installation, User};
use vakt_service::forms::{
    ContactForm, CustomerForm, PointForm, SiteForm, UserForm, validate_contacts, validate_points,
    validate_users,
};
use vakt_service::secret::{SecretHasher, new_token, token_hash};
use vakt_store::{Actor, Centre, NewContact, Registry};

use super::data::{
    BUSINESSES, FIRST_NAMES, FLAT, PLACES, Point, SHOP, SURNAMES, VILLA, code, digits, mobile,
    organisationsnummer, personnummer, pick, problems, registry_kind, secret_word,
};
use super::{DemoContact, DemoPanel, ascii};

/// What one seeded site is made of, before it is stored.
struct Party {
    business: bool,
    address: String,
    area: &'static str,
    lat: f64,
    lon: f64,
    customer: CustomerForm,
    site_name: String,
    layout: &'static [Point],
    first: &'static str,
    surname: &'static str,
}

/// Draws a customer (a home or a business) at an address no other site has.
fn party(rng: &mut StdRng, number: usize, used_addresses: &mut HashSet<String>) -> Party {
    let business = number % 10 == 3 || number % 10 == 7 || number.is_multiple_of(10);
    let (city, area, postal, lat, lon, streets) = *pick(rng, PLACES);
    let street = loop {
        let street = format!("{} {}", pick(rng, streets), rng.random_range(1..120_u32));
        if used_addresses.insert(street.clone()) {
            break street;
        }
    };
    let address = format!("{street}, {postal} {} {city}", digits(rng, 2));
    let surname = *pick(rng, SURNAMES);
    let first = *pick(rng, FIRST_NAMES);
    let (customer, site_name, layout) = if business {
        let (trade, kind) = *pick(rng, BUSINESSES);
        let company = format!("{surname}s {trade} AB");
        (
            CustomerForm {
                kind: "business".into(),
                name: company.clone(),
                identity: organisationsnummer(rng),
                signatory: format!("{first} {surname}"),
                email: format!("info@{}.se", ascii(&company)),
                phone: mobile(rng),
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
                identity: personnummer(rng),
                signatory: String::new(),
                email: format!("{}.{}@example.se", ascii(first), ascii(surname)),
                phone: mobile(rng),
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
    Party {
        business,
        address,
        area,
        lat,
        lon,
        customer,
        site_name,
        layout,
        first,
        surname,
    }
}

/// The people of a site: the customer, and in a home one or two more.
fn household(rng: &mut StdRng, party: &Party) -> Vec<String> {
    let (first, surname) = (party.first, party.surname);
    if party.business {
        vec![
            format!("{first} {surname}"),
            format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, SURNAMES)),
        ]
    } else {
        let mut people = vec![format!("{first} {surname}")];
        for _ in 0..rng.random_range(0..3) {
            people.push(format!("{} {surname}", pick(rng, FIRST_NAMES)));
        }
        people
    }
}

/// Stores the customer and the site with its points; returns the site's id and name.
async fn customer_and_site<S: Centre>(
    store: &S,
    rng: &mut StdRng,
    (by, today, number): (&Actor, CivilDate, usize),
    party: &Party,
) -> anyhow::Result<(i64, String)> {
    let customer = party
        .customer
        .validate(today)
        .map_err(|p| problems("customer", &p))?;
    let customer_id = store.save_customer(None, customer, by).await?;
    let site_form = SiteForm {
        customer_id: customer_id.to_string(),
        name: format!("{} ({number})", party.site_name),
        address: party.address.clone(),
        latitude: format!("{:.5}", party.lat + rng.random_range(-0.03..0.03)),
        longitude: format!("{:.5}", party.lon + rng.random_range(-0.05..0.05)),
        guard_area: party.area.into(),
        note: if party.business {
            "Larmet kopplas till och från av personalen; nyckel i nyckelskåp.".into()
        } else {
            String::new()
        },
    };
    let site = site_form.validate().map_err(|p| problems("site", &p))?;
    let site_name = site.name.clone();
    let site_id = store.save_site(None, site, by).await?;
    let point_forms: Vec<PointForm> = party
        .layout
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
    store.save_points(site_id, points, by).await?;
    Ok((site_id, site_name))
}

/// The site's panel users, one per person of the household.
async fn users<S: Centre>(
    store: &S,
    by: &Actor,
    site_id: i64,
    household: &[String],
) -> anyhow::Result<()> {
    let user_forms: Vec<UserForm> = household
        .iter()
        .zip(1_u32..)
        .map(|(name, n)| UserForm {
            number: n.to_string(),
            name: name.clone(),
        })
        .collect();
    let users = validate_users(&user_forms).map_err(|p| problems("users", &p))?;
    store.save_panel_users(site_id, users, by).await?;
    Ok(())
}

/// Up to three callers (the household and a neighbour), each with a password; the first may
/// do everything, the others only cancel, the last only by day.
async fn contacts<S: Centre>(
    store: &S,
    hasher: &SecretHasher,
    rng: &mut StdRng,
    (by, site_id): (&Actor, i64),
    household: &[String],
) -> anyhow::Result<Vec<DemoContact>> {
    let neighbour = format!(
        "{} {} (granne)",
        pick(rng, FIRST_NAMES),
        pick(rng, SURNAMES)
    );
    let callers: Vec<String> = household
        .iter()
        .cloned()
        .chain(std::iter::once(neighbour))
        .take(3)
        .collect();
    let mut contacts = Vec::new();
    let mut forms = Vec::new();
    for (i, name) in callers.iter().enumerate() {
        let contact = DemoContact {
            name: name.clone(),
            phone: mobile(rng),
            password: secret_word(rng),
        };
        forms.push(ContactForm {
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
    let valid = validate_contacts(&forms).map_err(|p| problems("contacts", &p))?;
    let mut stored = Vec::with_capacity(valid.len());
    for contact in valid {
        let password_hash = contact
            .password
            .as_deref()
            .map(|p| hasher.hash(p, &OsEntropy))
            .transpose()?;
        stored.push(NewContact {
            id: None,
            name: contact.name,
            phone: contact.phone,
            authority: contact.authority,
            hours: contact.hours,
            password_hash,
        });
    }
    store.save_contacts(site_id, stored, by).await?;
    Ok(contacts)
}

/// The site's revoking code and, for most businesses and a third of homes, a key left with
/// the guards; returns the code.
async fn code_and_key<S: Centre>(
    store: &S,
    hasher: &SecretHasher,
    rng: &mut StdRng,
    (by, site_id, number): (&Actor, i64, usize),
    party: &Party,
) -> anyhow::Result<String> {
    let revoking_code = digits(rng, 6);
    store
        .set_revoking_code(site_id, hasher.hash(&revoking_code, &OsEntropy)?, by)
        .await?;
    if party.business || rng.random_bool(0.35) {
        let door = party.layout.first().map_or("Ytterdörr", |p| p.name);
        let storage = format!(
            "Nyckelskåp {}-{:02}",
            char::from(b'A' + rng.random_range(0..6_u8)),
            rng.random_range(1..40)
        );
        store
            .add_key(site_id, format!("N{number:03}-1 {door}"), storage, by)
            .await?;
    }
    Ok(revoking_code)
}

/// The panel: user 1 holds the main code, the others user codes; one untied tag (the
/// cleaner's, or a spare) and a remote tied to the last person. Returns it and the main code.
fn installation(
    rng: &mut StdRng,
    layout: &[Point],
    household: &[String],
) -> (Installation, String) {
    let main_code = code(rng);
    let mut credentials = vec![Enrolled {
        credential: Credential::Code(main_code.clone()),
        authority: Authority::Main,
        user: Some(1),
    }];
    for n in 2..=household.len() {
        credentials.push(Enrolled {
            credential: Credential::Code(code(rng)),
            authority: Authority::User,
            user: u32::try_from(n).ok(),
        });
    }
    credentials.push(Enrolled {
        credential: Credential::Tag(format!("TAG-{}", digits(rng, 6))),
        authority: Authority::User,
        user: None,
    });
    credentials.push(Enrolled {
        credential: Credential::Remote(format!("RC-{}", digits(rng, 6))),
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
    (installation, main_code)
}

/// What a seeded transmitter is: account, format, key (hex, when encrypted), link token.
struct SeededTransmitter {
    account: String,
    format: Format,
    key_hex: Option<String>,
    link_token: String,
}

/// The site's transmitter: every second one encrypted (a fresh key), every third Contact ID,
/// with a panel-link token.
async fn transmitter<S: Registry>(
    store: &S,
    by: &Actor,
    number: usize,
    (site_name, address): (&str, &str),
) -> anyhow::Result<SeededTransmitter> {
    let account = format!("{:04}", 5000 + number);
    let format = if number.is_multiple_of(3) {
        Format::ContactId
    } else {
        Format::Sia
    };
    let key_hex = number
        .is_multiple_of(2)
        .then(|| hex::encode_upper(vakt_core::random::bytes::<16>(&OsEntropy)));
    let input = vakt_service::TransmitterInput {
        account: account.clone(),
        prefix: Some("0".into()),
        key: key_hex.clone(),
        key_form: key_hex.as_ref().map(|_| "hex".into()),
        supervision_interval_s: Some(300),
        site_name: site_name.to_owned(),
        site_address: Some(address.to_owned()),
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
        .set_link_token(transmitter_id, token_hash(&link_token), by)
        .await?;
    Ok(SeededTransmitter {
        account,
        format,
        key_hex,
        link_token,
    })
}

/// Seeds demo site `number` and returns what a person needs to use it.
pub(super) async fn site<S: Centre + Registry>(
    store: &S,
    hasher: &SecretHasher,
    rng: &mut StdRng,
    (by, today, number): (&Actor, CivilDate, usize),
    used_addresses: &mut HashSet<String>,
) -> anyhow::Result<DemoPanel> {
    let party = party(rng, number, used_addresses);
    let (site_id, site_name) = customer_and_site(store, rng, (by, today, number), &party).await?;
    let household = household(rng, &party);
    users(store, by, site_id, &household).await?;
    let contacts = contacts(store, hasher, rng, (by, site_id), &household).await?;
    let revoking_code = code_and_key(store, hasher, rng, (by, site_id, number), &party).await?;
    let (installation, main_code) = installation(rng, party.layout, &household);
    let sent = transmitter(store, by, number, (&site_name, &party.address)).await?;
    Ok(DemoPanel {
        number,
        site_id,
        site: site_name,
        account: sent.account,
        format: sent.format.as_str().into(),
        key_hex: sent.key_hex,
        link_token: sent.link_token,
        main_code,
        revoking_code,
        installation,
        contacts,
    })
}
