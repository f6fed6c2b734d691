//! One virtual panel on real sockets: the pure [`Panel`] and [`Transmitter`] of `vakt-panel`
//! driven by a task that owns the TCP connections to the primary and backup receivers and,
//! when configured, the panel link to Vakt's web server.
//!
//! Everything the panel decides stays in `vakt-panel`; this module only moves bytes, keeps
//! time, and publishes a [`PanelView`] for whoever shows the panel (the terminal keypad, the
//! fleet's progress bar, tests).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use vakt_core::{Clock, UnixMicros};
use vakt_dc09::StreamDecoder;
use vakt_dc09::frame::Decoded;
use vakt_panel::{
    Input, Installation, Lang, LogEntry, Panel, PanelConfig, Path, Refusal, Transmitter,
    TransmitterConfig,
};

/// How long a connection attempt to a receiver may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest answer frame a receiver sends.
const ANSWER_BYTES_MAX: usize = 1024;
/// How often the view refreshes while a delay counts down.
const COUNTDOWN_REFRESH: Duration = Duration::from_millis(250);
/// Log lines the view carries.
const VIEW_LOG_LINES: usize = 12;

pub use crate::view::PanelView;

/// Everything needed to run one panel.
#[derive(Clone, Debug)]
pub struct PanelSpec {
    /// A name for people (the site).
    pub name: String,
    /// Delays and limits.
    pub panel: PanelConfig,
    /// Points, users and credentials.
    pub installation: Installation,
    /// Account, format, key, timings.
    pub transmitter: TransmitterConfig,
    /// How many seconds the panel's clock is off at start.
    pub clock_offset_s: i64,
    /// The primary receiver.
    pub primary: SocketAddr,
    /// The backup receiver, if any.
    pub backup: Option<SocketAddr>,
    /// The panel link, if any.
    pub link: Option<crate::link_client::LinkSpec>,
    /// For simulated days: the panel's time at start. The panel's clock then moves only when
    /// told ([`Command::AdvanceTo`]), so a day can pass in seconds and a 30-second entry
    /// delay still lasts 30 panel seconds. `None`: the panel lives in real time.
    pub panel_start: Option<UnixMicros>,
    /// The local address to send from. A fleet on one machine gives each panel its own
    /// loopback address, as real panels each have their own, so the receiver's limit on
    /// connections per address applies to it as it would in the field.
    pub source: Option<std::net::IpAddr>,
}

/// What a panel's task can be told.
#[derive(Debug)]
pub enum Command {
    /// An input, with a place for the answer.
    Input(Input, Option<oneshot::Sender<Result<(), Refusal>>>),
    /// The transmitter loses its link for a while.
    LinkDown(Duration),
    /// Moves a simulated panel's clock forward to this panel time, through every delay that
    /// ends on the way, in order.
    AdvanceTo(UnixMicros),
}

/// A running panel.
#[derive(Debug)]
pub struct PanelHandle {
    /// Where to send commands.
    pub commands: mpsc::Sender<Command>,
    /// The latest view.
    pub view: watch::Receiver<PanelView>,
    /// The task; it ends when the cancellation token fires.
    pub task: tokio::task::JoinHandle<()>,
}

impl PanelHandle {
    /// Applies `input` and waits for the panel's answer.
    ///
    /// # Errors
    /// The panel's refusal; [`Refusal::AlreadySo`] when the task has ended.
    pub async fn apply(&self, input: Input) -> Result<(), Refusal> {
        let (reply, answer) = oneshot::channel();
        if self
            .commands
            .send(Command::Input(input, Some(reply)))
            .await
            .is_err()
        {
            return Err(Refusal::AlreadySo);
        }
        answer.await.unwrap_or(Err(Refusal::AlreadySo))
    }

    /// Waits until the view satisfies `check`, or `limit` passes; returns the last view.
    pub async fn wait_for(
        &mut self,
        limit: Duration,
        check: impl Fn(&PanelView) -> bool,
    ) -> PanelView {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let view = self.view.borrow_and_update().clone();
            if check(&view) {
                return view;
            }
            if tokio::time::timeout_at(deadline, self.view.changed())
                .await
                .is_err()
            {
                return self.view.borrow().clone();
            }
        }
    }
}

enum Wire {
    Frame(Path, u64, Vec<u8>),
    Closed(Path, u64),
}

struct Connection {
    writer: OwnedWriteHalf,
    generation: u64,
}

struct Runner {
    spec: PanelSpec,
    clock: Arc<dyn Clock>,
    panel: Panel,
    transmitter: Transmitter,
    connections: [Option<Connection>; 2],
    generation: u64,
    wire: mpsc::Sender<Wire>,
    link_down_until: Option<UnixMicros>,
    /// The panel's time when it is driven by [`Command::AdvanceTo`].
    driven: Option<UnixMicros>,
    pad: rand::rngs::StdRng,
}

fn slot(path: Path) -> usize {
    match path {
        Path::Primary => 0,
        Path::Backup => 1,
    }
}

impl Runner {
    fn panel_now(&self, now: UnixMicros) -> UnixMicros {
        self.driven.unwrap_or(now)
    }

    fn advance_to(&mut self, target: UnixMicros) {
        let Some(current) = self.driven else {
            return;
        };
        let mut now = current;
        // Each delay ends at its own time: an exit delay that arms a site with a door open
        // starts an entry delay from then, not from the target.
        while let Some(deadline) = self.panel.next_deadline().filter(|d| *d <= target) {
            now = deadline.max(now);
            self.panel.tick(now);
            if self.panel.next_deadline() == Some(deadline) {
                break;
            }
        }
        self.panel.tick(target);
        self.driven = Some(target.max(now));
    }

    fn view(&self, now: UnixMicros, link_connected: bool) -> PanelView {
        let panel_now = self.panel_now(now);
        let log: Vec<LogEntry> = self.panel.log().cloned().collect();
        PanelView {
            display_sv: self.panel.display(panel_now, Lang::Sv),
            display_en: self.panel.display(panel_now, Lang::En),
            state: self.panel.state(),
            siren: self.panel.siren(panel_now),
            points: self.panel.points().cloned().collect(),
            log: log[log.len().saturating_sub(VIEW_LOG_LINES)..].to_vec(),
            stats: self.transmitter.stats(),
            path: self.transmitter.active_path(),
            clock_offset_s: self.transmitter.clock_offset_s(),
            pending: self.transmitter.pending(),
            link_connected,
            mains: self.panel.mains(),
            battery_percent: self.panel.battery_percent(),
            panel_now,
            status: vakt_panel::link::status_of(&self.panel, panel_now),
        }
    }

    fn address(&self, path: Path) -> Option<SocketAddr> {
        match path {
            Path::Primary => Some(self.spec.primary),
            Path::Backup => self.spec.backup,
        }
    }

    async fn connect(&mut self, path: Path) -> bool {
        if self.connections[slot(path)].is_some() {
            return true;
        }
        let Some(address) = self.address(path) else {
            return false;
        };
        let source = self.spec.source;
        let connect = async move {
            match source {
                Some(ip) => {
                    let socket = if ip.is_ipv4() {
                        tokio::net::TcpSocket::new_v4()?
                    } else {
                        tokio::net::TcpSocket::new_v6()?
                    };
                    socket.bind(SocketAddr::new(ip, 0))?;
                    socket.connect(address).await
                }
                None => TcpStream::connect(address).await,
            }
        };
        let Ok(Ok(stream)) = tokio::time::timeout(CONNECT_TIMEOUT, connect).await else {
            return false;
        };
        let _ = stream.set_nodelay(true);
        let (mut reader, writer) = stream.into_split();
        self.generation += 1;
        let generation = self.generation;
        let wire = self.wire.clone();
        tokio::spawn(async move {
            let mut decoder = StreamDecoder::new(ANSWER_BYTES_MAX);
            let mut buffer = vec![0_u8; 4096];
            loop {
                match reader.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => {
                        decoder.push(buffer.get(..read).unwrap_or_default());
                        while let Some(decoded) = decoder.next_frame() {
                            if let Decoded::Frame(frame) = decoded
                                && wire
                                    .send(Wire::Frame(path, generation, frame.body().to_vec()))
                                    .await
                                    .is_err()
                            {
                                return;
                            }
                        }
                    }
                }
            }
            let _ = wire.send(Wire::Closed(path, generation)).await;
        });
        self.connections[slot(path)] = Some(Connection { writer, generation });
        true
    }

    /// Writes everything the transmitter has to send now.
    async fn pump(&mut self, now: UnixMicros) {
        self.transmitter.queue(self.panel.take_reports());
        let down = self.link_down_until.is_some_and(|until| now < until);
        if !down {
            self.link_down_until = None;
        }
        for _ in 0..4 {
            let Some(send) = self
                .transmitter
                .poll(now, &mut || rand::RngExt::random(&mut self.pad))
            else {
                return;
            };
            if down || !self.connect(send.path).await {
                self.transmitter.connection_failed(now, send.path);
                continue;
            }
            let written = match &mut self.connections[slot(send.path)] {
                Some(connection) => connection.writer.write_all(&send.bytes).await.is_ok(),
                None => false,
            };
            if !written {
                self.connections[slot(send.path)] = None;
                self.transmitter.connection_failed(now, send.path);
            }
        }
    }
}

/// Starts a panel. It runs until `cancel` fires.
#[must_use]
pub fn spawn(mut spec: PanelSpec, clock: Arc<dyn Clock>, cancel: CancellationToken) -> PanelHandle {
    // The transmitter fails over only when there is somewhere to go.
    spec.transmitter.has_backup = spec.backup.is_some();
    let now = clock.now();
    let panel = Panel::new(spec.panel.clone(), spec.installation.clone());
    let transmitter = Transmitter::new(spec.transmitter.clone(), now, spec.clock_offset_s);
    let (wire, mut wire_rx) = mpsc::channel(64);
    let (commands, mut commands_rx) = mpsc::channel::<Command>(64);
    let link = spec.link.clone();
    let mut runner = Runner {
        driven: spec.panel_start,
        spec,
        clock,
        panel,
        transmitter,
        connections: [None, None],
        generation: 0,
        wire,
        link_down_until: None,
        pad: rand::make_rng(),
    };
    let (view_tx, view) = watch::channel(runner.view(now, false));
    let (link_tx, mut link_rx) = mpsc::channel::<crate::link_client::LinkRequest>(16);
    let (link_state_tx, mut link_state) = watch::channel(false);
    let mut link_open = link.is_some();
    if let Some(link) = link {
        tokio::spawn(crate::link_client::run_client(
            link,
            link_tx,
            view.clone(),
            link_state_tx,
            cancel.clone(),
        ));
    }
    let task = tokio::spawn(async move {
        loop {
            let now = runner.clock.now();
            let panel_now = runner.panel_now(now);
            runner.panel.tick(panel_now);
            runner.pump(now).await;
            let _ = view_tx.send(runner.view(now, *link_state.borrow()));

            let mut wake = runner.transmitter.wake_at().0.saturating_sub(now.0);
            if let Some(deadline) = runner
                .panel
                .next_deadline()
                .filter(|_| runner.driven.is_none())
            {
                let until_panel = deadline.0.saturating_sub(panel_now.0);
                let refresh = i64::try_from(COUNTDOWN_REFRESH.as_micros()).unwrap_or(250_000);
                wake = wake.min(until_panel.max(0)).min(refresh);
            }
            if let Some(until) = runner.link_down_until {
                wake = wake.min(until.0.saturating_sub(now.0));
            }
            let sleep = Duration::from_micros(u64::try_from(wake.max(0)).unwrap_or(0));

            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(sleep) => {}
                command = commands_rx.recv() => match command {
                    Some(Command::Input(input, reply)) => {
                        let now = runner.clock.now();
                        let result = runner.panel.apply(runner.panel_now(now), input);
                        if let Some(reply) = reply {
                            let _ = reply.send(result);
                        }
                    }
                    Some(Command::AdvanceTo(target)) => runner.advance_to(target),
                    Some(Command::LinkDown(duration)) => {
                        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
                        runner.link_down_until = Some(runner.clock.now().add_micros(micros));
                        runner.connections = [None, None];
                    }
                    None => break,
                },
                request = link_rx.recv(), if link_open => match request {
                    Some(request) => {
                        let now = runner.clock.now();
                        let result = runner.panel.apply(runner.panel_now(now), request.input);
                        let _ = request.reply.send(result);
                    }
                    None => link_open = false,
                },
                changed = link_state.changed(), if link_open => if changed.is_err() {
                    link_open = false;
                },
                wire = wire_rx.recv() => match wire {
                    Some(Wire::Frame(path, generation, body)) => {
                        let current = runner.connections[slot(path)]
                            .as_ref()
                            .is_some_and(|c| c.generation == generation);
                        if current {
                            let now = runner.clock.now();
                            runner.transmitter.on_answer(now, path, &body);
                        }
                    }
                    Some(Wire::Closed(path, generation)) => {
                        let current = runner.connections[slot(path)]
                            .as_ref()
                            .is_some_and(|c| c.generation == generation);
                        if current {
                            // No answer can come on a closed connection.
                            runner.connections[slot(path)] = None;
                            runner.transmitter.connection_failed(runner.clock.now(), path);
                        }
                    }
                    None => break,
                },
            }
        }
    });
    PanelHandle {
        commands,
        view,
        task,
    }
}
