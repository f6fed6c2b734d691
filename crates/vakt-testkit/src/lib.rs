//! Test helpers: start the real Vakt on free loopback ports with its own database, play a
//! DC-09 panel against it, and speak plain HTTP to its API.
//!
//! Nothing here fakes Vakt: [`spawn_app`] runs the same `launch` that `vakt serve` runs.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use vakt::settings::Settings;
use vakt_dc09::message::{Outgoing, encode};
use vakt_dc09::{FrameStyle, Key, Timestamp, TokenName};
use vakt_store::{Registry, Transport};

/// A free port below the kernel's ephemeral range, for a server run as a process on a port
/// chosen in advance. Ports the kernel hands out for `:0` come from the ephemeral range, so
/// no other test's server is given this one between two runs of the server that owns it
/// (which would then answer in its place).
#[must_use]
pub fn stable_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let low = 10_000_u16;
    let span = u64::from(ephemeral_from.saturating_sub(low).max(1));
    (0_u64..)
        .map(|attempt| low + u16::try_from(RandomState::new().hash_one(attempt) % span).unwrap())
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port")
}

/// Runs `vakt --config CONFIG serve` from `binary` as a process of its own (killed when
/// dropped) and returns once it says it is running. Its log is appended to `log` when given
/// (and shown if it does not start), or goes to this process's standard error.
pub async fn serve_process(
    binary: &std::path::Path,
    config: &std::path::Path,
    log: Option<&std::path::Path>,
) -> tokio::process::Child {
    use tokio::io::AsyncBufReadExt;
    let stderr = match log {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the server's log file")
            .into(),
        None => std::process::Stdio::inherit(),
    };
    let mut child = tokio::process::Command::new(binary)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("vakt starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("its output")).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("Vakt is running") {
                return true;
            }
        }
        false
    });
    assert!(
        ready.await.unwrap_or(false),
        "vakt serve did not start: {}",
        log.and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default()
    );
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

/// How long a test waits for an answer before it fails.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// A running Vakt for one test.
#[derive(Debug)]
pub struct TestApp {
    /// The app.
    pub app: vakt::App,
    /// Its settings.
    pub settings: Settings,
    /// The DC-09 TCP address.
    pub tcp: SocketAddr,
    /// The DC-09 UDP address.
    pub udp: SocketAddr,
    /// The HTTP address.
    pub http: SocketAddr,
    /// Its data folder (removed when dropped).
    pub folder: Arc<tempfile::TempDir>,
}

/// Settings for a test: a fresh data folder and port 0 everywhere.
#[must_use]
pub fn test_settings(folder: &std::path::Path) -> Settings {
    let mut settings = Settings {
        data_dir: folder.to_path_buf(),
        log: "warn".into(),
        ..Settings::default()
    };
    settings.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.http.api_token = "test-token".into();
    settings.receiver.registry_poll_ms = 50;
    // Cheap hashes and a quick engine: tests check behaviour, not cost.
    settings.security.hash_memory_kib = 64;
    settings.security.hash_iterations = 1;
    settings.engine.poll_ms = 20;
    for listener in &mut settings.receiver.listeners {
        listener.address = SocketAddr::from(([127, 0, 0, 1], 0));
    }
    settings
}

/// Starts Vakt with test settings changed by `change`.
///
/// # Panics
/// When Vakt does not start.
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let folder = Arc::new(tempfile::tempdir().expect("a temporary folder"));
    let mut settings = test_settings(folder.path());
    change(&mut settings);
    start(settings, folder).await
}

/// Starts Vakt with test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Vakt on an existing folder (to restart after a shutdown).
///
/// # Panics
/// When Vakt does not start.
pub async fn start(settings: Settings, folder: Arc<tempfile::TempDir>) -> TestApp {
    let app = vakt::launch(settings.clone()).await.expect("Vakt starts");
    let tcp = app.dc09_address(Transport::Tcp).expect("a TCP listener");
    let udp = app.dc09_address(Transport::Udp).expect("a UDP listener");
    let http = app.http;
    TestApp {
        app,
        settings,
        tcp,
        udp,
        http,
        folder,
    }
}

impl TestApp {
    /// The database file.
    #[must_use]
    pub fn database(&self) -> PathBuf {
        PathBuf::from(&self.app.database)
    }

    /// Registers transmitters through the store, as `vakt accounts import` does, and waits
    /// until the receiver has reloaded them.
    ///
    /// # Panics
    /// When the import fails.
    pub async fn register(&self, inputs: Vec<vakt_service::TransmitterInput>) {
        let transmitters = inputs
            .into_iter()
            .map(|i| i.validate().expect("a valid transmitter"))
            .collect();
        let (store, _) = vakt::open_store(&self.settings, Arc::new(vakt_core::SystemClock))
            .await
            .expect("the store opens");
        store
            .import_transmitters(transmitters)
            .await
            .expect("the import");
        store.close().await;
        tokio::time::sleep(Duration::from_millis(
            self.settings.receiver.registry_poll_ms * 12,
        ))
        .await;
    }

    /// Stops Vakt and hands back its folder and settings for a restart.
    pub async fn stop(self) -> (Settings, Arc<tempfile::TempDir>) {
        self.app.shutdown().await;
        (self.settings, self.folder)
    }
}

/// A transmitter input with the common defaults.
#[must_use]
pub fn transmitter(account: &str, key: Option<(&str, &str)>) -> vakt_service::TransmitterInput {
    vakt_service::TransmitterInput {
        account: account.into(),
        prefix: Some("0".into()),
        key: key.map(|(k, _)| k.to_owned()),
        key_form: key.map(|(_, f)| f.to_owned()),
        site_name: format!("Site {account}"),
        site_address: Some("Storgatan 1, 111 22 Stockholm".into()),
        ..vakt_service::TransmitterInput::default()
    }
}

/// A panel that writes DC-09 frames.
#[derive(Clone, Debug)]
pub struct Panel {
    /// The account.
    pub account: String,
    /// The key, for an encrypted panel.
    pub key: Option<Key>,
    /// The receiver number it sends.
    pub receiver: Option<String>,
    /// The prefix it sends.
    pub prefix: String,
    /// The frame style it writes.
    pub style: FrameStyle,
    pad: u8,
}

impl Panel {
    /// A plain panel.
    #[must_use]
    pub fn new(account: &str) -> Panel {
        Panel {
            account: account.into(),
            key: None,
            receiver: None,
            prefix: "0".into(),
            style: FrameStyle::STANDARD,
            pad: 7,
        }
    }

    /// An encrypted panel.
    #[must_use]
    pub fn encrypted(account: &str, key: Key) -> Panel {
        Panel {
            key: Some(key),
            ..Panel::new(account)
        }
    }

    /// The frame for one message with the given timestamp.
    pub fn frame_at(
        &mut self,
        token: TokenName,
        sequence: u16,
        data: &str,
        timestamp: Option<Timestamp>,
    ) -> Vec<u8> {
        let outgoing = Outgoing {
            token,
            sequence,
            receiver: self.receiver.as_deref(),
            prefix: Some(&self.prefix),
            account: &self.account,
            data: data.as_bytes(),
            xdata: &[],
            timestamp,
        };
        let pad = &mut self.pad;
        encode(
            &outgoing,
            self.key.as_ref(),
            &mut || {
                *pad = pad.wrapping_mul(29).wrapping_add(11);
                *pad
            },
            self.style,
        )
    }

    /// The frame for one message stamped with the current time.
    pub fn frame(&mut self, token: TokenName, sequence: u16, data: &str) -> Vec<u8> {
        let now = vakt_core::Clock::now(&vakt_core::SystemClock);
        self.frame_at(
            token,
            sequence,
            data,
            Some(Timestamp::from_unix_micros(now)),
        )
    }
}

/// Reads one answer frame (through CR) from a stream.
///
/// # Errors
/// When the stream ends or the answer does not come in time.
pub async fn read_answer(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut answer = Vec::new();
    let mut byte = [0_u8; 1];
    tokio::time::timeout(ANSWER_TIMEOUT, async {
        loop {
            let count = stream.read(&mut byte).await?;
            if count == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            answer.push(byte[0]);
            if byte[0] == b'\r' {
                return Ok(());
            }
        }
    })
    .await
    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    Ok(answer)
}

/// Sends one frame on a new TCP connection and returns the answer.
///
/// # Errors
/// When no answer comes.
pub async fn tcp_exchange(address: SocketAddr, frame: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(frame).await?;
    read_answer(&mut stream).await
}

/// Sends one datagram and returns the answer datagram.
///
/// # Errors
/// When no answer comes.
pub async fn udp_exchange(address: SocketAddr, frame: &[u8]) -> std::io::Result<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    socket.send_to(frame, address).await?;
    let mut buffer = vec![0_u8; 4096];
    let (count, _) = tokio::time::timeout(ANSWER_TIMEOUT, socket.recv_from(&mut buffer))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    buffer.truncate(count);
    Ok(buffer)
}

/// Sends a frame and waits briefly to see that nothing is answered; `true` when silent.
pub async fn tcp_silent(address: SocketAddr, frame: &[u8], wait: Duration) -> bool {
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return false;
    };
    if stream.write_all(frame).await.is_err() {
        return false;
    }
    let mut buffer = [0_u8; 64];
    !matches!(tokio::time::timeout(wait, stream.read(&mut buffer)).await, Ok(Ok(count)) if count > 0)
}

/// A plain HTTP/1.1 request; returns the status and the body.
///
/// # Errors
/// When the server cannot be reached.
pub async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address).await?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or_default();
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(ANSWER_TIMEOUT, stream.read_to_end(&mut response))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    // The body may be chunked; take the JSON between the first '{' and the last '}'.
    let json = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(start), Some(end)) if end >= start => {
            body.get(start..=end).unwrap_or_default().to_owned()
        }
        _ => body,
    };
    Ok((status, json))
}

/// Calls the JSON API with `token` and returns the answer's JSON (`Null` when empty).
///
/// # Panics
/// When the call fails or does not succeed (2xx).
pub async fn api_call(
    address: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let (status, text) = http(address, method, path, Some(token), Some(&body.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {text}"
    );
    if text.is_empty() {
        serde_json::Value::Null
    } else {
        json(&text)
    }
}

/// Parses an HTTP body as JSON.
///
/// # Panics
/// When it is not JSON.
#[must_use]
pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// A console user over raw HTTP: a session cookie and the form token.
#[derive(Clone, Debug)]
pub struct Console {
    /// Where the console is.
    pub address: SocketAddr,
    /// The session cookie (`vakt_session=...`), empty when signed out.
    pub cookie: String,
    /// The session's form token.
    pub csrf: String,
    /// The language cookie, if chosen.
    pub lang: Option<&'static str>,
}

/// An HTTP answer: status, `Location`, body and every header line.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: String,
    /// The body.
    pub body: String,
    /// The raw header block.
    pub headers: String,
}

/// Sends one request with a cookie and an optional form body.
///
/// # Errors
/// When the server cannot be reached.
pub async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&[(&str, &str)]>,
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(address).await?;
    let body = form
        .map(|pairs| {
            let mut encoder = form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                encoder.append_pair(k, v);
            }
            encoder.finish()
        })
        .unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(ANSWER_TIMEOUT, stream.read_to_end(&mut response))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let location = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap_or_default()
        .to_owned();
    let body = if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Answer {
        status,
        location,
        body,
        headers: headers.to_owned(),
    })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        out.push_str(rest.get(..size).unwrap_or(rest));
        body = rest.get(size + 2..).unwrap_or_default();
    }
    out
}

impl Console {
    /// Signs in; panics when the sign-in is refused.
    ///
    /// # Panics
    /// When the login or password is wrong.
    pub async fn sign_in(address: SocketAddr, login: &str, password: &str) -> Console {
        let answer = request(
            address,
            "POST",
            "/login",
            "",
            Some(&[("login", login), ("password", password)]),
        )
        .await
        .expect("the console answers");
        assert_eq!(answer.status, 303, "sign-in as {login}: {}", answer.body);
        let cookie = answer
            .headers
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("set-cookie: vakt_session=")
                    .then(|| l[12..].to_owned())
            })
            .and_then(|c| c.split(';').next().map(str::to_owned))
            .expect("a session cookie");
        let mut console = Console {
            address,
            cookie,
            csrf: String::new(),
            lang: None,
        };
        let page = console.get("/").await;
        let page = if page.status == 303 {
            console
                .get(&page.location.replace(&format!("http://{address}"), ""))
                .await
        } else {
            page
        };
        console.csrf = page
            .body
            .split("data-csrf=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned();
        assert!(!console.csrf.is_empty(), "no form token on {}", page.body);
        console
    }

    fn cookies(&self) -> String {
        match self.lang {
            Some(lang) => format!("{}; vakt_lang={lang}", self.cookie),
            None => self.cookie.clone(),
        }
    }

    /// GETs a page.
    ///
    /// # Panics
    /// When the console does not answer.
    pub async fn get(&self, path: &str) -> Answer {
        request(self.address, "GET", path, &self.cookies(), None)
            .await
            .expect("the console answers")
    }

    /// POSTs a form with the session's token added.
    ///
    /// # Panics
    /// When the console does not answer.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        request(self.address, "POST", path, &self.cookies(), Some(&all))
            .await
            .expect("the console answers")
    }
}
