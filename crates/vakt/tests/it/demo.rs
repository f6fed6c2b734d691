//! `vakt demo` as a newcomer runs it: the printed logins work, 50 sites are there with their
//! panels connected, and after a stop and a start everything is still there.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use vakt_testkit::Console;

fn start(folder: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vakt"))
        .current_dir(folder)
        .args(["--config", "vakt.toml", "demo", "--speed", "600"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    while !printed.contains("Stop with Ctrl-C") {
        let line = received
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the demo did not finish starting:\n{printed}"));
        printed.push_str(&line);
        printed.push('\n');
    }
    (child, printed)
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "the demo stopped with {status}");
}

fn console_address(printed: &str) -> std::net::SocketAddr {
    printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("Console:"))
        .and_then(|rest| rest.trim().strip_prefix("http://"))
        .and_then(|rest| rest.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no console address in:\n{printed}"))
}

fn password(printed: &str, login: &str) -> String {
    printed
        .lines()
        .map(str::split_whitespace)
        .find_map(|mut words| {
            (words.next() == Some(login))
                .then(|| words.next())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no password for {login} in:\n{printed}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_working_logins_fills_fifty_sites_and_survives_a_restart() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("vakt.toml"),
        "data_dir = \"data\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\n\
         [[receiver.listeners]]\nname = \"main\"\naddress = \"127.0.0.1:0\"\nprotocols = \"tcp\"\n\
         [security]\nhash_memory_kib = 64\nhash_iterations = 1\n",
    )
    .unwrap();
    let (child, printed) = start(folder.path());
    assert!(
        printed.contains("Setting up the demo operator"),
        "{printed}"
    );
    for login in [
        "operator",
        "lead",
        "kundtjanst",
        "fakturering",
        "tekniker",
        "admin",
        "nordvakt",
    ] {
        password(&printed, login);
    }
    assert!(printed.contains("panel --demo-site 1"), "{printed}");
    let address = console_address(&printed);
    let operator = password(&printed, "operator");
    let console = Console::sign_in(address, "operator", &operator).await;
    let sites = console.get("/sites").await;
    assert_eq!(sites.status, 200);
    assert_eq!(
        sites.body.matches("<a href=\"/sites/").count(),
        50,
        "{}",
        sites.body
    );
    assert!(sites.body.contains("Villa ") || sites.body.contains("Lägenhet "));
    assert!(sites.body.contains(" AB, "), "business customers too");
    // The fleet's 49 panels come up on the panel link.
    let mut connected = 0;
    for _ in 0..100 {
        let panels = console.get("/panels").await;
        connected = panels.body.matches("data-account=").count();
        if connected == 49 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(connected, 49);
    // A site has its people, contacts and panel.
    let site = console.get("/sites/1").await;
    assert_eq!(site.status, 200);
    assert!(site.body.contains("+4670"), "contacts with mobile numbers");
    let guard = Console::sign_in(address, "nordvakt", &password(&printed, "nordvakt")).await;
    assert_eq!(guard.get("/guard").await.status, 200);
    stop(child);

    let (child, printed) = start(folder.path());
    assert!(!printed.contains("Setting up"), "set up twice:\n{printed}");
    assert_eq!(password(&printed, "operator"), operator);
    let console = Console::sign_in(console_address(&printed), "operator", &operator).await;
    let sites = console.get("/sites").await;
    assert_eq!(sites.body.matches("<a href=\"/sites/").count(), 50);
    stop(child);
}
