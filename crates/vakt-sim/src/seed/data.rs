//! The demo's raw material: Swedish names, places with their streets and guard areas,
//! businesses, alarm point layouts, staff and guard companies, and the seeded draws that
//! combine them into believable people and numbers.

use rand::RngExt;
use rand::rngs::StdRng;
use vakt_core::centre::Role;
use vakt_core::identity::luhn_check_digit;
use vakt_panel::PointKind;

pub(super) const FIRST_NAMES: &[&str] = &[
    "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Kristina", "Per", "Lena",
    "Mikael", "Sara", "Karl", "Emma", "Nils", "Ingrid", "Olof", "Elin", "Gustav", "Sofia",
    "Magnus", "Ida", "Fredrik", "Linnéa", "Björn", "Maja", "Henrik", "Astrid", "Viktor",
];
pub(super) const SURNAMES: &[&str] = &[
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
pub(super) type Place = (
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    &'static [&'static str],
);

pub(super) const PLACES: &[Place] = &[
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
pub(super) const BUSINESSES: &[(&str, &str)] = &[
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
pub(super) const PASSWORD_WORDS: &[&str] = &[
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

pub(super) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn digits(rng: &mut StdRng, count: usize) -> String {
    (0..count)
        .map(|_| char::from(b'0' + rng.random_range(0..10_u8)))
        .collect()
}

/// A valid personnummer for someone born between 1940 and 2000.
pub(super) fn personnummer(rng: &mut StdRng) -> String {
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
pub(super) fn organisationsnummer(rng: &mut StdRng) -> String {
    let first = format!("556{}", digits(rng, 6));
    let nine: Vec<u8> = first.bytes().map(|b| b - b'0').collect();
    format!("{}-{}{}", &first[..6], &first[6..], luhn_check_digit(&nine))
}

pub(super) fn mobile(rng: &mut StdRng) -> String {
    format!("+4670{}", digits(rng, 7))
}

pub(super) fn code(rng: &mut StdRng) -> String {
    digits(rng, 4)
}

pub(super) fn problems(what: &str, problems: &[vakt_service::forms::Problem]) -> anyhow::Error {
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.en))
        .collect();
    anyhow::anyhow!("demo {what} is invalid: {}", list.join("; "))
}

pub(crate) struct Point {
    pub(crate) name: &'static str,
    pub(crate) kind: PointKind,
    pub(crate) entry_route: bool,
    pub(crate) location: &'static str,
}

pub(crate) const fn point(
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

pub(super) const VILLA: &[Point] = &[
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
pub(super) const FLAT: &[Point] = &[
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
pub(super) const SHOP: &[Point] = &[
    point("Entrédörr", PointKind::DoorWindow, true, "Entré"),
    point("Bakdörr", PointKind::DoorWindow, false, "Lager"),
    point("Butiksyta", PointKind::Motion, false, "Butik"),
    point("Kontor", PointKind::Motion, false, "Kontor"),
    point("Överfallsknapp kassa", PointKind::Panic, false, "Kassa"),
    point("Brandvarnare", PointKind::Smoke, false, "Lager"),
    point("Kamera lager", PointKind::Camera, false, "Lager"),
];

pub(super) fn registry_kind(kind: PointKind) -> &'static str {
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
pub(super) const STAFF: &[(&str, &str, Role)] = &[
    ("operator", "Olle Operatör", Role::Operator),
    ("operator2", "Oskar Operatör", Role::Operator),
    ("lead", "Sigrid Skiftledare", Role::Lead),
    ("kundtjanst", "Karin Kundtjänst", Role::CustomerService),
    ("fakturering", "Frida Fakturering", Role::Billing),
    ("tekniker", "Tore Tekniker", Role::Technician),
    ("admin", "Agnes Administratör", Role::Admin),
];

pub(super) const GUARD_COMPANIES: &[(&str, &str, &str, &[&str])] = &[
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

/// A password people can say over the phone: a word and two digits.
pub(super) fn secret_word(rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        pick(rng, PASSWORD_WORDS),
        rng.random_range(10..100_u32)
    )
}
