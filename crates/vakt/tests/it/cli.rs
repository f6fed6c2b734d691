//! The `vakt` command as a person uses it.

use std::process::Command;

fn vakt(folder: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vakt"))
        .current_dir(folder)
        .arg("--data-dir")
        .arg(folder.join("data"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn default_config_prints_the_annotated_defaults() {
    let folder = tempfile::tempdir().unwrap();
    let output = vakt(folder.path(), &["default-config"]);
    assert!(output.status.success());
    let printed = text(&output.stdout);
    assert!(printed.contains("synchronous") || printed.contains("[journal]"));
    let parsed: toml::Value = toml::from_str(&printed).unwrap();
    assert_eq!(
        parsed["receiver"]["limits"]["frame_bytes_max"].as_integer(),
        Some(4095)
    );
}

#[test]
fn a_bad_import_names_lines_and_fields_and_imports_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("accounts.csv");
    std::fs::write(
        &file,
        "account,prefix,key,key_form,site_name,site_address\n\
         1234,0,,,Villa Ek,Ekvägen 3\n\
         5678,0,0123456789ABCDEF,base64,Kontor AB,Hamngatan 2\n\
         9999,XYZ1234,,,Butik,Torget 1\n",
    )
    .unwrap();
    let output = vakt(
        folder.path(),
        &["accounts", "import", file.to_str().unwrap()],
    );
    assert!(!output.status.success());
    let errors = text(&output.stderr);
    assert!(errors.contains("line 3, field key_form"), "{errors}");
    assert!(errors.contains("line 4, field prefix"), "{errors}");
    assert!(errors.contains("Nothing was imported"), "{errors}");
    let listed = vakt(folder.path(), &["accounts", "list", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(listed.is_empty(), "nothing was imported: {listed:?}");
}

#[test]
fn a_good_import_lists_keys_described_never_shown() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("accounts.json");
    std::fs::write(
        &file,
        r#"[
  {"account": "1234", "prefix": "0", "site_name": "Villa Ek", "site_address": "Ekvägen 3"},
  {"account": "5678", "key": "SECRET-KEY-16-CH", "key_form": "ascii", "supervision_interval_s": 3600,
   "dialect": "crc_binary", "site_name": "Kontor AB"}
]"#,
    )
    .unwrap();
    let output = vakt(
        folder.path(),
        &["accounts", "import", file.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("2 new"));
    let again = vakt(
        folder.path(),
        &["accounts", "import", file.to_str().unwrap()],
    );
    assert!(
        text(&again.stdout).contains("2 updated"),
        "{}",
        text(&again.stdout)
    );
    let table = vakt(folder.path(), &["accounts", "list"]);
    let shown = text(&table.stdout);
    assert!(
        shown.contains("Villa Ek") && shown.contains("AES-128 (ascii)"),
        "{shown}"
    );
    assert!(
        !shown.contains("SECRET"),
        "the key must never be printed: {shown}"
    );
    let json = text(&vakt(folder.path(), &["accounts", "list", "--json"]).stdout);
    assert!(!json.contains("SECRET"), "{json}");
}

#[test]
fn signals_filters_and_errors() {
    let folder = tempfile::tempdir().unwrap();
    let output = vakt(folder.path(), &["signals", "--since", "yesterday"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("neither an RFC 3339 time"),
        "{}",
        text(&output.stderr)
    );
    let output = vakt(folder.path(), &["signals", "--json", "--since", "1h"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "[]");
}

#[test]
fn api_clients_are_added_listed_and_revoked_from_the_command_line() {
    let folder = tempfile::tempdir().unwrap();
    let added = vakt(
        folder.path(),
        &[
            "api-client",
            "add",
            "--name",
            "Fakturaexport",
            "--scopes",
            "registry:read, signals:read",
        ],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let printed = text(&added.stdout);
    let token = printed
        .lines()
        .find_map(|l| l.strip_prefix("Token (shown this once): "))
        .unwrap_or_else(|| panic!("no token in {printed}"));
    assert_eq!(token.len(), 64);
    let id = printed
        .split("(id ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap()
        .to_owned();

    let bad = vakt(
        folder.path(),
        &["api-client", "add", "--name", "x", "--scopes", "all"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stdout).contains("all is not a scope"));

    let listed = text(&vakt(folder.path(), &["api-client", "list"]).stdout);
    assert!(listed.contains("Fakturaexport"), "{listed}");
    assert!(listed.contains("registry:read signals:read"), "{listed}");
    assert!(listed.contains("active"), "{listed}");
    assert!(!listed.contains(token), "a token is shown once only");

    let revoked = vakt(folder.path(), &["api-client", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stdout));
    let listed = text(&vakt(folder.path(), &["api-client", "list"]).stdout);
    assert!(listed.contains("revoked"), "{listed}");
    let again = vakt(folder.path(), &["api-client", "revoke", &id]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stdout).contains("No active API client"));
}
