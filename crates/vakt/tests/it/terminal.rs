//! `vakt panel` as a person uses it, driven through tmux: keys sent, the screen read back.

use std::process::Command;
use std::time::Duration;

use vakt_store::{Journal, SignalFilter};
use vakt_testkit::{spawn_app, transmitter};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed (the test script installs it)")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "panel"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "panel"]).stdout)
            .into_owned()
    }

    async fn shows(&self, text: &str) -> String {
        let mut screen = String::new();
        for _ in 0..200 {
            screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the screen never showed {text:?}:\n{screen}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_arms_opens_knocks_and_reads_the_keypad() {
    let app = spawn_app().await;
    app.register(vec![transmitter("7001", None)]).await;
    let folder = tempfile::tempdir().unwrap();
    let command = format!(
        "{} --data-dir {} panel --account 7001 --code 1234 --server {} --exit-delay 2 --entry-delay 30",
        env!("CARGO_BIN_EXE_vakt"),
        folder.path().display(),
        app.tcp
    );
    let tmux = Tmux {
        socket: format!("vakt-test-{}", std::process::id()),
    };
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "panel",
        "-x",
        "160",
        "-y",
        "50",
        &command,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );

    let screen = tmux.shows("| Frånkopplat").await;
    assert!(screen.contains("Ytterdörr"), "{screen}");
    assert!(screen.contains("konto 7001"), "{screen}");

    // A wrong code is refused on the display.
    tmux.keys(&["9", "9", "9", "9", "a"]);
    tmux.shows("Fel kod").await;

    // Type the code and arm: the exit delay counts down, then the system is armed and the
    // centre has acknowledged the arming.
    tmux.keys(&["1", "2", "3", "4"]);
    tmux.shows("Kod: ****").await;
    tmux.keys(&["a"]);
    tmux.shows("| Utpassering 0:0").await;
    tmux.shows("| Tillkopplat").await;
    tmux.shows("kvitterade 1").await;
    let signals = app
        .app
        .store
        .signals(&SignalFilter {
            account: Some("7001".into()),
            limit: 10,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    let closing = signals
        .iter()
        .find(|s| s.record.events.first().is_some_and(|e| e.code.code == "CL"))
        .expect("the arming reached the journal");
    assert_eq!(closing.record.events[0].user, Some(1));

    // Disarm, open the front door (the first point), and try to arm: not ready.
    tmux.keys(&["1", "2", "3", "4", "d"]);
    tmux.shows("| Frånkopplat").await;
    tmux.keys(&["Space"]);
    tmux.shows("öppen").await;
    tmux.keys(&["1", "2", "3", "4", "a"]);
    tmux.shows("Larm ej klart: Ytterdörr").await;
    tmux.keys(&["Space"]);
    tmux.shows("stängd").await;

    // A knock on the control box: service needed, and the tamper reaches the centre.
    tmux.keys(&["k"]);
    tmux.shows("Behov av service, tryck *2").await;
    tmux.shows("kvitterade 3").await;

    // The same in English.
    tmux.keys(&["l"]);
    tmux.shows("Service needed, press *2").await;
    tmux.shows("Tamper").await;

    tmux.keys(&["q"]);
    for _ in 0..100 {
        if !tmux.run(&["has-session", "-t", "panel"]).status.success() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("q did not end the program:\n{}", tmux.screen());
}
