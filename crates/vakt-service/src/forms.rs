//! What people type into the registry, parsed once into validated rows or a list of
//! problems, each with a stable code and a message in Swedish and English.
//!
//! The console's forms and the JSON API both come through here, so a bad personnummer reads
//! the same wherever it was typed. Every field is checked and every problem reported, not only
//! the first; nothing is stored unless all of it is valid.

use serde::{Deserialize, Serialize};
use vakt_core::centre::{Authority, CallingHours, PointKind, Role, Step, StepAction};
use vakt_core::identity::{CivilDate, OrganisationNumber, PersonalNumber};
use vakt_core::phone::PhoneNumber;

use vakt_store::{AlarmPoint, CustomerKind, GuardCompany, NewCustomer, NewSite, PanelUser};

/// The longest name, address or short text accepted, in characters.
pub const NAME_CHARS_MAX: usize = 200;
/// The longest free text (notes, reports) accepted, in characters.
pub const TEXT_CHARS_MAX: usize = 4_000;
/// The shortest password or code accepted, in characters.
pub const SECRET_CHARS_MIN: usize = 4;
/// The longest password or code accepted, in characters.
pub const SECRET_CHARS_MAX: usize = 128;
/// The most alarm points, users, contacts or steps on one site.
pub const ROWS_MAX: usize = 256;
/// The highest zone or user number.
pub const NUMBER_MAX: u32 = 9_999;

/// One thing wrong with the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The field, as named in the form or JSON (`contacts[2].phone`).
    pub field: String,
    /// A stable code.
    pub code: &'static str,
    /// The message in English.
    pub en: String,
    /// The message in Swedish.
    pub sv: String,
}

impl Problem {
    /// A problem with a field.
    #[must_use]
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        en: impl Into<String>,
        sv: impl Into<String>,
    ) -> Problem {
        Problem {
            field: field.into(),
            code,
            en: en.into(),
            sv: sv.into(),
        }
    }

    /// The message in `lang`.
    #[must_use]
    pub fn message(&self, lang: &str) -> &str {
        if lang.starts_with("sv") {
            &self.sv
        } else {
            &self.en
        }
    }
}

/// Collects problems while fields are read.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Adds a problem.
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// A required text: trimmed, not empty, at most `max` characters.
    pub fn required(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.push(Problem::new(
                field,
                "required",
                "This field is required.",
                "Fältet måste fyllas i.",
            ));
        }
        self.optional(field, value, max)
    }

    /// An optional text: trimmed, at most `max` characters.
    pub fn optional(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        let chars = value.chars().count();
        if chars > max {
            self.push(Problem::new(
                field,
                "too_long",
                format!("At most {max} characters ({chars} given)."),
                format!("Högst {max} tecken ({chars} angivna)."),
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.push(Problem::new(
                field,
                "control_characters",
                "Control characters are not allowed.",
                "Styrtecken är inte tillåtna.",
            ));
        }
        value.to_owned()
    }

    /// A phone number in E.164; empty allowed when not `required`.
    pub fn phone(&mut self, field: &str, value: &str, required: bool) -> String {
        let value = value.trim();
        if value.is_empty() {
            if required {
                self.required(field, value, 1);
            }
            return String::new();
        }
        match PhoneNumber::parse(value) {
            Ok(phone) => phone.as_str().to_owned(),
            Err(error) => {
                self.push(Problem::new(
                    field,
                    error.code(),
                    error.message("en"),
                    error.message("sv"),
                ));
                String::new()
            }
        }
    }

    /// An e-mail address, loosely: one `@` with text on both sides and a dot after it.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let value = self.optional(field, value, NAME_CHARS_MAX);
        if value.is_empty() {
            return value;
        }
        let valid = value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
        });
        if !valid {
            self.push(Problem::new(
                field,
                "email",
                "Not an e-mail address.",
                "Inte en e-postadress.",
            ));
        }
        value
    }

    /// A password or code: at least [`SECRET_CHARS_MIN`], at most [`SECRET_CHARS_MAX`].
    pub fn secret(&mut self, field: &str, value: &str) {
        let chars = value.chars().count();
        if !(SECRET_CHARS_MIN..=SECRET_CHARS_MAX).contains(&chars) {
            self.push(Problem::new(
                field,
                "secret_length",
                format!("Must be {SECRET_CHARS_MIN} to {SECRET_CHARS_MAX} characters."),
                format!("Måste vara {SECRET_CHARS_MIN} till {SECRET_CHARS_MAX} tecken."),
            ));
        }
    }

    fn language(&mut self, field: &str, value: &str) -> String {
        match value.trim() {
            "" | "sv" => "sv".into(),
            "en" => "en".into(),
            other => {
                self.push(Problem::new(
                    field,
                    "language",
                    format!("{other:?} is not sv or en."),
                    format!("{other:?} är inte sv eller en."),
                ));
                "sv".into()
            }
        }
    }

    fn number(&mut self, field: &str, value: &str) -> u32 {
        match value.trim().parse::<u32>() {
            Ok(n) if (1..=NUMBER_MAX).contains(&n) => n,
            _ => {
                self.push(Problem::new(
                    field,
                    "number",
                    format!("Must be a whole number from 1 to {NUMBER_MAX}."),
                    format!("Måste vara ett heltal från 1 till {NUMBER_MAX}."),
                ));
                0
            }
        }
    }

    fn coordinate(&mut self, field: &str, value: &str, limit: f64) -> Option<f64> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        match value.replace(',', ".").parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= limit => Some(v),
            _ => {
                self.push(Problem::new(
                    field,
                    "coordinate",
                    format!("Must be decimal degrees between -{limit} and {limit}."),
                    format!("Måste vara decimalgrader mellan -{limit} och {limit}."),
                ));
                None
            }
        }
    }

    /// Done: the value, or every problem found.
    ///
    /// # Errors
    /// The problems, when there are any.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<Problem>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// A customer as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerForm {
    /// `private` or `business`.
    pub kind: String,
    /// The name.
    pub name: String,
    /// Personnummer, samordningsnummer or organisationsnummer.
    pub identity: String,
    /// The authorised signatory (business).
    #[serde(default)]
    pub signatory: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// `sv` or `en`.
    #[serde(default)]
    pub language: String,
}

impl CustomerForm {
    /// Validates the customer; personal numbers are checked against `today`.
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate(&self, today: CivilDate) -> Result<NewCustomer, Vec<Problem>> {
        let mut p = Problems::default();
        let name = p.required("name", &self.name, NAME_CHARS_MAX);
        let kind = match self.kind.trim() {
            "private" => Some(CustomerKind::Private),
            "business" => Some(CustomerKind::Business),
            _ => {
                p.push(Problem::new(
                    "kind",
                    "customer_kind",
                    "Choose private or business.",
                    "Välj privat eller företag.",
                ));
                None
            }
        };
        let identity = match kind {
            Some(CustomerKind::Private) => {
                PersonalNumber::parse(self.identity.trim(), today).map(|n| n.as_str().to_owned())
            }
            Some(CustomerKind::Business) => {
                OrganisationNumber::parse(self.identity.trim()).map(|n| n.as_str().to_owned())
            }
            None => Ok(String::new()),
        };
        let identity = identity.unwrap_or_else(|error| {
            p.push(Problem::new(
                "identity",
                error.code(),
                error.message("en"),
                error.message("sv"),
            ));
            String::new()
        });
        let signatory = if kind == Some(CustomerKind::Business) {
            p.required("signatory", &self.signatory, NAME_CHARS_MAX)
        } else {
            p.optional("signatory", &self.signatory, NAME_CHARS_MAX)
        };
        let email = p.email("email", &self.email);
        let phone = p.phone("phone", &self.phone, false);
        let language = p.language("language", &self.language);
        p.finish(NewCustomer {
            kind: kind.unwrap_or(CustomerKind::Private),
            name,
            identity,
            signatory,
            email,
            phone,
            language,
        })
    }
}

/// A site as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteForm {
    /// The customer's id, or empty.
    #[serde(default)]
    pub customer_id: String,
    /// The name.
    pub name: String,
    /// The address.
    #[serde(default)]
    pub address: String,
    /// Latitude.
    #[serde(default)]
    pub latitude: String,
    /// Longitude.
    #[serde(default)]
    pub longitude: String,
    /// Guard area.
    #[serde(default)]
    pub guard_area: String,
    /// A standing note.
    #[serde(default)]
    pub note: String,
}

impl SiteForm {
    /// Validates the site.
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate(&self) -> Result<NewSite, Vec<Problem>> {
        let mut p = Problems::default();
        let customer_id = match self.customer_id.trim() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    p.push(Problem::new(
                        "customer_id",
                        "customer",
                        "Choose a customer.",
                        "Välj en kund.",
                    ));
                    None
                }
            },
        };
        let site = NewSite {
            customer_id,
            name: p.required("name", &self.name, NAME_CHARS_MAX),
            address: p.required("address", &self.address, NAME_CHARS_MAX),
            latitude: p.coordinate("latitude", &self.latitude, 90.0),
            longitude: p.coordinate("longitude", &self.longitude, 180.0),
            guard_area: p.optional("guard_area", &self.guard_area, NAME_CHARS_MAX),
            note: p.optional("note", &self.note, TEXT_CHARS_MAX),
        };
        if site.latitude.is_some() != site.longitude.is_some() {
            p.push(Problem::new(
                "longitude",
                "coordinates_pair",
                "Give both latitude and longitude, or neither.",
                "Ange både latitud och longitud, eller ingen av dem.",
            ));
        }
        p.finish(site)
    }
}

/// An alarm point as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointForm {
    /// Zone number.
    pub number: String,
    /// Name.
    pub name: String,
    /// Kind (stable name).
    pub kind: String,
    /// Location.
    #[serde(default)]
    pub location: String,
}

/// Validates a site's alarm points: numbers unique.
///
/// # Errors
/// Every problem found.
pub fn validate_points(rows: &[PointForm]) -> Result<Vec<AlarmPoint>, Vec<Problem>> {
    let mut p = Problems::default();
    too_many(&mut p, "points", rows.len());
    let mut seen = std::collections::HashSet::new();
    let mut points = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let number = p.number(&format!("points[{i}].number"), &row.number);
        if number > 0 && !seen.insert(number) {
            p.push(duplicate(&format!("points[{i}].number"), number));
        }
        let name = p.required(&format!("points[{i}].name"), &row.name, NAME_CHARS_MAX);
        let kind = PointKind::parse(row.kind.trim()).unwrap_or_else(|| {
            p.push(Problem::new(
                format!("points[{i}].kind"),
                "point_kind",
                "Choose what kind of point it is.",
                "Välj vilken sorts larmpunkt det är.",
            ));
            PointKind::Other
        });
        let location = p.optional(
            &format!("points[{i}].location"),
            &row.location,
            NAME_CHARS_MAX,
        );
        points.push(AlarmPoint {
            number,
            name,
            kind,
            location,
            test_until: None,
        });
    }
    p.finish(points)
}

fn too_many(p: &mut Problems, field: &str, count: usize) {
    if count > ROWS_MAX {
        p.push(Problem::new(
            field,
            "too_many",
            format!("At most {ROWS_MAX} rows."),
            format!("Högst {ROWS_MAX} rader."),
        ));
    }
}

fn duplicate(field: &str, number: u32) -> Problem {
    Problem::new(
        field,
        "duplicate",
        format!("Number {number} appears twice."),
        format!("Nummer {number} förekommer två gånger."),
    )
}

/// A panel user as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserForm {
    /// User number.
    pub number: String,
    /// Who.
    pub name: String,
}

/// Validates a site's panel users: numbers unique.
///
/// # Errors
/// Every problem found.
pub fn validate_users(rows: &[UserForm]) -> Result<Vec<PanelUser>, Vec<Problem>> {
    let mut p = Problems::default();
    too_many(&mut p, "users", rows.len());
    let mut seen = std::collections::HashSet::new();
    let mut users = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let number = p.number(&format!("users[{i}].number"), &row.number);
        if number > 0 && !seen.insert(number) {
            p.push(duplicate(&format!("users[{i}].number"), number));
        }
        let name = p.required(&format!("users[{i}].name"), &row.name, NAME_CHARS_MAX);
        users.push(PanelUser { number, name });
    }
    p.finish(users)
}

/// A contact person as typed; the password is plain here and hashed by the caller.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactForm {
    /// The stored contact's id, or empty for a new one.
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// `full` or `cancel_only`.
    #[serde(default)]
    pub authority: String,
    /// Calling hours, `07:00-22:00`, or empty.
    #[serde(default)]
    pub hours: String,
    /// A new password, or empty to keep the stored one.
    #[serde(default)]
    pub password: String,
}

/// A contact validated, with the new password still in plain (to be hashed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidContact {
    /// The stored id.
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// E.164.
    pub phone: String,
    /// Authority.
    pub authority: Authority,
    /// Hours, normalised.
    pub hours: String,
    /// The new password, when one was given.
    pub password: Option<String>,
}

/// Validates a site's contacts in call order.
///
/// # Errors
/// Every problem found.
pub fn validate_contacts(rows: &[ContactForm]) -> Result<Vec<ValidContact>, Vec<Problem>> {
    let mut p = Problems::default();
    too_many(&mut p, "contacts", rows.len());
    let mut contacts = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let field = |name: &str| format!("contacts[{i}].{name}");
        let id = row.id.trim().parse::<i64>().ok().filter(|&id| id > 0);
        let name = p.required(&field("name"), &row.name, NAME_CHARS_MAX);
        let phone = p.phone(&field("phone"), &row.phone, true);
        let authority = match row.authority.trim() {
            "" => Authority::Full,
            text => Authority::parse(text).unwrap_or_else(|| {
                p.push(Problem::new(
                    field("authority"),
                    "authority",
                    "Choose full authority or cancel only.",
                    "Välj full behörighet eller endast återkallning.",
                ));
                Authority::Full
            }),
        };
        let hours = match CallingHours::parse(&row.hours) {
            Ok(hours) => hours.map(CallingHours::render).unwrap_or_default(),
            Err(_) => {
                p.push(Problem::new(
                    field("hours"),
                    "hours",
                    "Write calling hours as 07:00-22:00, or leave empty for any time.",
                    "Skriv samtalstider som 07:00-22:00, eller lämna tomt för när som helst.",
                ));
                String::new()
            }
        };
        let password = if row.password.is_empty() {
            if id.is_none() {
                p.push(Problem::new(
                    field("password"),
                    "required",
                    "A new contact needs a password for the alarm centre.",
                    "En ny kontaktperson behöver ett lösenord för larmcentralen.",
                ));
            }
            None
        } else {
            p.secret(&field("password"), &row.password);
            Some(row.password.clone())
        };
        contacts.push(ValidContact {
            id,
            name,
            phone,
            authority,
            hours,
            password,
        });
    }
    p.finish(contacts)
}

/// Validates an instruction's steps, given as stable action names with notes.
///
/// # Errors
/// Every problem found.
pub fn validate_steps(rows: &[(String, String)]) -> Result<Vec<Step>, Vec<Problem>> {
    let mut p = Problems::default();
    too_many(&mut p, "steps", rows.len());
    if rows.is_empty() {
        p.push(Problem::new(
            "steps",
            "required",
            "An instruction needs at least one step.",
            "En instruktion behöver minst ett steg.",
        ));
    }
    let mut steps = Vec::with_capacity(rows.len());
    for (i, (action, note)) in rows.iter().enumerate() {
        let action = StepAction::parse(action.trim()).unwrap_or_else(|| {
            p.push(Problem::new(
                format!("steps[{i}].action"),
                "step_action",
                "Choose what the step is.",
                "Välj vad steget är.",
            ));
            StepAction::CallContacts
        });
        let note = p.optional(&format!("steps[{i}].note"), note, NAME_CHARS_MAX);
        steps.push(Step { action, note });
    }
    p.finish(steps)
}

/// A guard company as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardCompanyForm {
    /// Name.
    pub name: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// Areas, separated by commas.
    #[serde(default)]
    pub areas: String,
}

impl GuardCompanyForm {
    /// Validates the company.
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate(&self, id: i64) -> Result<GuardCompany, Vec<Problem>> {
        let mut p = Problems::default();
        let name = p.required("name", &self.name, NAME_CHARS_MAX);
        let phone = p.phone("phone", &self.phone, false);
        let areas_text = p.optional("areas", &self.areas, TEXT_CHARS_MAX);
        let areas = areas_text
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        p.finish(GuardCompany {
            id,
            name,
            phone,
            areas,
        })
    }
}

/// A member of staff as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffForm {
    /// Login.
    pub login: String,
    /// Full name.
    pub name: String,
    /// Role (stable name).
    pub role: String,
    /// Guard company id, for guard users.
    #[serde(default)]
    pub guard_company_id: String,
    /// `sv` or `en`.
    #[serde(default)]
    pub language: String,
    /// The password.
    pub password: String,
}

/// A member of staff validated, password still in plain (to be hashed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidStaff {
    /// Login.
    pub login: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Guard company.
    pub guard_company_id: Option<i64>,
    /// Language.
    pub language: String,
    /// Password.
    pub password: String,
}

impl StaffForm {
    /// Validates the member of staff.
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate(&self) -> Result<ValidStaff, Vec<Problem>> {
        let mut p = Problems::default();
        let login = p.required("login", &self.login, 64);
        if !login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
        {
            p.push(Problem::new(
                "login",
                "login",
                "Use letters a-z, digits and . - _ @ only.",
                "Använd bara bokstäverna a-z, siffror och . - _ @.",
            ));
        }
        let name = p.required("name", &self.name, NAME_CHARS_MAX);
        let role = Role::parse(self.role.trim()).unwrap_or_else(|| {
            p.push(Problem::new(
                "role",
                "role",
                "Choose a role.",
                "Välj en roll.",
            ));
            Role::Operator
        });
        let guard_company_id = self.guard_company_id.trim().parse::<i64>().ok();
        if (role == Role::Guard) != guard_company_id.is_some() {
            p.push(Problem::new(
                "guard_company_id",
                "guard_company",
                "A guard company user needs a company; other roles have none.",
                "En vaktbolagsanvändare behöver ett vaktbolag; andra roller har inget.",
            ));
        }
        let language = p.language("language", &self.language);
        p.secret("password", &self.password);
        if self.password.chars().count() < 10 {
            p.push(Problem::new(
                "password",
                "password_short",
                "A staff password needs at least 10 characters.",
                "Ett lösenord för personal måste ha minst 10 tecken.",
            ));
        }
        p.finish(ValidStaff {
            login: login.to_lowercase(),
            name,
            role,
            guard_company_id,
            language,
            password: self.password.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: CivilDate = CivilDate {
        year: 2026,
        month: 11,
        day: 22,
    };

    fn codes(problems: &[Problem]) -> Vec<(&str, &str)> {
        problems
            .iter()
            .map(|p| (p.field.as_str(), p.code))
            .collect()
    }

    #[test]
    fn a_private_customer_is_checked_by_its_personnummer() {
        let form = CustomerForm {
            kind: "private".into(),
            name: "Anna Berg".into(),
            identity: "811218-9876".into(),
            phone: "070-123 45 67".into(),
            ..CustomerForm::default()
        };
        let customer = form.validate(TODAY);
        assert_eq!(
            customer
                .as_ref()
                .map(|c| (c.identity.as_str(), c.phone.as_str())),
            Ok(("19811218-9876", "+46701234567"))
        );
        let bad = CustomerForm {
            identity: "811218-9875".into(),
            phone: "12".into(),
            ..form
        };
        let problems = bad.validate(TODAY).err().unwrap_or_default();
        assert_eq!(codes(&problems)[0].0, "identity");
        assert_eq!(codes(&problems)[1].0, "phone");
        assert!(problems[0].sv != problems[0].en);
    }

    #[test]
    fn a_business_needs_an_organisation_number_and_a_signatory() {
        let form = CustomerForm {
            kind: "business".into(),
            name: "Bageriet AB".into(),
            identity: "556036-0793".into(),
            ..CustomerForm::default()
        };
        let problems = form.validate(TODAY).err().unwrap_or_default();
        assert_eq!(codes(&problems), vec![("signatory", "required")]);
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let rows = vec![
            PointForm {
                number: "4".into(),
                name: "Hall".into(),
                kind: "motion".into(),
                location: String::new(),
            },
            PointForm {
                number: "4".into(),
                name: String::new(),
                kind: "laser".into(),
                location: "x".repeat(NAME_CHARS_MAX + 1),
            },
        ];
        let problems = validate_points(&rows).err().unwrap_or_default();
        assert_eq!(
            codes(&problems),
            vec![
                ("points[1].number", "duplicate"),
                ("points[1].name", "required"),
                ("points[1].kind", "point_kind"),
                ("points[1].location", "too_long"),
            ]
        );
    }

    #[test]
    fn a_new_contact_needs_a_password_and_good_hours() {
        let rows = vec![ContactForm {
            name: "Bo".into(),
            phone: "+46 8 123 456 78".into(),
            hours: "7-22".into(),
            ..ContactForm::default()
        }];
        let problems = validate_contacts(&rows).err().unwrap_or_default();
        assert_eq!(
            codes(&problems),
            vec![
                ("contacts[0].hours", "hours"),
                ("contacts[0].password", "required")
            ]
        );
    }
}
