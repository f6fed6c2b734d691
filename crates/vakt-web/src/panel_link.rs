//! Vakt's end of the panel link: panels connect here over a WebSocket with their own token,
//! announce their account, and push their state; operators see which panels are connected
//! and in what state, and the API (later the customer app) asks a panel for its state and
//! sends arm and disarm commands.
//!
//! The link is interactive, not the alarm path: an alarm always travels over DC-09 and the
//! journal. Connected panels are kept in memory on the node they reached (several nodes are
//! issue-5 work: the command must go to the node holding the socket).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use vakt_core::UnixMicros;
use vakt_core::access::Scope;
use vakt_panel::link::{FromPanel, PanelStatus, ToPanel};
use vakt_panel::{ArmMode, Refusal};
use vakt_service::secret::token_hash;
use vakt_store::{StoreError, Transmitter};

use crate::{ApiError, Store, WebState, authorize};

/// The largest message a panel may send.
pub const LINK_MESSAGE_BYTES_MAX: usize = 64 * 1024;
/// How long a panel has to say hello after connecting.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a command waits for the panel's reply.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Commands queued for one panel.
const COMMANDS_QUEUED_MAX: usize = 16;

/// A connected panel as operators and the API see it.
#[derive(Clone, Debug, Serialize)]
pub struct LinkView {
    /// The transmitter.
    pub transmitter_id: i64,
    /// Its account.
    pub account: String,
    /// Its site.
    pub site_id: i64,
    /// The site's name.
    pub site: String,
    /// When the link came up.
    pub connected_since: UnixMicros,
    /// The last state the panel pushed.
    pub status: Option<PanelStatus>,
}

/// A command for a panel, as the API takes it.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command", deny_unknown_fields)]
pub enum PanelCommand {
    /// Ask for the state.
    GetState,
    /// Arm.
    Arm {
        /// Full (`away`) or partial (`home`).
        mode: ArmMode,
    },
    /// Disarm.
    Disarm,
}

struct Pending {
    command: PanelCommand,
    reply: oneshot::Sender<Result<(), Refusal>>,
}

struct Linked {
    view: LinkView,
    session: u64,
    commands: mpsc::Sender<Pending>,
}

/// The panels connected to this node.
#[derive(Default)]
pub struct PanelLinks {
    linked: Mutex<HashMap<i64, Linked>>,
    sessions: AtomicU64,
}

impl std::fmt::Debug for PanelLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PanelLinks")
            .field("connected", &self.all().len())
            .finish()
    }
}

/// Why a command did not reach a panel.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The panel is not connected.
    #[error("the panel is not connected")]
    NotConnected,
    /// The panel did not answer in time.
    #[error("the panel did not answer")]
    NoAnswer,
}

impl PanelLinks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Linked>> {
        self.linked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every connected panel, by account.
    #[must_use]
    pub fn all(&self) -> Vec<LinkView> {
        let mut views: Vec<LinkView> = self.lock().values().map(|l| l.view.clone()).collect();
        views.sort_by(|a, b| a.account.cmp(&b.account));
        views
    }

    /// The connected panel of a site, if any.
    #[must_use]
    pub fn for_site(&self, site_id: i64) -> Option<LinkView> {
        self.lock()
            .values()
            .find(|l| l.view.site_id == site_id)
            .map(|l| l.view.clone())
    }

    /// Sends a command to a site's panel and waits for its answer.
    ///
    /// # Errors
    /// When no panel of the site is connected or it does not answer in time.
    pub async fn command(
        &self,
        site_id: i64,
        command: PanelCommand,
    ) -> Result<Result<(), Refusal>, LinkError> {
        let sender = self
            .lock()
            .values()
            .find(|l| l.view.site_id == site_id)
            .map(|l| l.commands.clone())
            .ok_or(LinkError::NotConnected)?;
        let (reply, answer) = oneshot::channel();
        sender
            .try_send(Pending { command, reply })
            .map_err(|_| LinkError::NoAnswer)?;
        match tokio::time::timeout(COMMAND_TIMEOUT, answer).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(_)) => Err(LinkError::NotConnected),
            Err(_) => Err(LinkError::NoAnswer),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// `GET /panel-link`: a panel opens its link with `Authorization: Bearer <link token>`.
pub async fn upgrade<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Some(token) = bearer(&headers) else {
        return ApiError::unauthorized().into_response();
    };
    let transmitter = match st.store.link_transmitter(&token_hash(token)).await {
        Ok(Some(transmitter)) => transmitter,
        Ok(None) => return ApiError::unauthorized().into_response(),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let Ok(ws) = ws else {
        return ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "websocket_required",
            "The panel link is a WebSocket.",
            "Panellänken är en WebSocket.",
        )
        .into_response();
    };
    ws.max_message_size(LINK_MESSAGE_BYTES_MAX)
        .on_upgrade(move |socket| session(st, transmitter, socket))
}

async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// WebSocket close code for a message that breaks the protocol.
const POLICY_VIOLATION: u16 = 1008;

async fn session<S: Store>(st: Arc<WebState<S>>, transmitter: Transmitter, mut socket: WebSocket) {
    let hello = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await;
    let account_ok = match hello {
        Ok(Some(Ok(Message::Text(text)))) => matches!(
            serde_json::from_str::<FromPanel>(&text),
            Ok(FromPanel::Hello { account, .. }) if account == transmitter.spec.account
        ),
        _ => false,
    };
    if !account_ok {
        close(
            socket,
            POLICY_VIOLATION,
            "hello with this panel's account first",
        )
        .await;
        return;
    }
    let session = st.links.sessions.fetch_add(1, Ordering::Relaxed) + 1;
    let (commands, mut queued) = mpsc::channel::<Pending>(COMMANDS_QUEUED_MAX);
    let view = LinkView {
        transmitter_id: transmitter.id,
        account: transmitter.spec.account.clone(),
        site_id: transmitter.site_id,
        site: transmitter.spec.site.name.clone(),
        connected_since: st.clock.now(),
        status: None,
    };
    // A panel that reconnects replaces its older link.
    st.links.lock().insert(
        transmitter.id,
        Linked {
            view,
            session,
            commands,
        },
    );
    tracing::info!(account = %transmitter.spec.account, "panel link up");
    let mut waiting: HashMap<u64, oneshot::Sender<Result<(), Refusal>>> = HashMap::new();
    let mut next_id: u64 = 0;
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        close(socket, POLICY_VIOLATION, "text messages only").await;
                        break;
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                match serde_json::from_str::<FromPanel>(&text) {
                    Ok(FromPanel::State(status)) => {
                        if let Some(linked) = st.links.lock().get_mut(&transmitter.id)
                            && linked.session == session
                        {
                            linked.view.status = Some(status);
                        }
                    }
                    Ok(FromPanel::Reply { id, ok, refusal }) => {
                        if let Some(reply) = waiting.remove(&id) {
                            let result = if ok {
                                Ok(())
                            } else {
                                Err(refusal.unwrap_or(Refusal::AlreadySo))
                            };
                            let _ = reply.send(result);
                        }
                    }
                    Ok(FromPanel::Hello { .. }) => {}
                    Err(_) => {
                        close(socket, POLICY_VIOLATION, "not a panel-link message").await;
                        break;
                    }
                }
            }
            pending = queued.recv() => {
                let Some(pending) = pending else { break };
                next_id += 1;
                let message = match pending.command {
                    PanelCommand::GetState => ToPanel::GetState { id: next_id },
                    PanelCommand::Arm { mode } => ToPanel::Arm { id: next_id, mode },
                    PanelCommand::Disarm => ToPanel::Disarm { id: next_id },
                };
                let Ok(text) = serde_json::to_string(&message) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
                waiting.insert(next_id, pending.reply);
            }
        }
    }
    let mut linked = st.links.lock();
    if linked
        .get(&transmitter.id)
        .is_some_and(|l| l.session == session)
    {
        linked.remove(&transmitter.id);
    }
    drop(linked);
    tracing::info!(account = %transmitter.spec.account, "panel link down");
}

/// `GET /api/v1/panels`: every connected panel.
pub async fn api_panels<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    headers: HeaderMap,
) -> Result<Json<Vec<LinkView>>, ApiError> {
    let _client = authorize(&st, &headers, Scope::Panels).await?;
    Ok(Json(st.links.all()))
}

/// No panel of the site is connected: 404 when asking for the link, 409 for a command to a
/// site that exists (its state does not allow the command now).
fn not_connected_with(status: StatusCode) -> ApiError {
    ApiError::new(
        status,
        "panel_not_connected",
        "The site's panel is not connected.",
        "Objektets centralapparat är inte ansluten.",
    )
}

/// `GET /api/v1/sites/{id}/panel`: a site's connected panel.
pub async fn api_site_panel<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    headers: HeaderMap,
    crate::ApiPath(site_id): crate::ApiPath<i64>,
) -> Result<Json<LinkView>, ApiError> {
    let _client = authorize(&st, &headers, Scope::Panels).await?;
    st.links
        .for_site(site_id)
        .map(Json)
        .ok_or_else(|| not_connected_with(StatusCode::NOT_FOUND))
}

/// `POST /api/v1/sites/{id}/panel`: a command for the site's panel; the answer carries the
/// panel's refusal, if any, and the state after.
pub async fn api_command<S: Store>(
    State(st): State<Arc<WebState<S>>>,
    headers: HeaderMap,
    crate::ApiPath(site_id): crate::ApiPath<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let _client = authorize(&st, &headers, Scope::Panels).await?;
    let command: PanelCommand = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            format!("The command is not valid: {e}."),
            format!("Kommandot är ogiltigt: {e}."),
        )
    })?;
    match st.links.command(site_id, command).await {
        Err(LinkError::NotConnected) => {
            // No such site is 404; a site whose panel is away is a conflict with its state.
            st.store.site(site_id).await?;
            Err(not_connected_with(StatusCode::CONFLICT))
        }
        Err(LinkError::NoAnswer) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "panel_no_answer",
            "The panel did not answer.",
            "Centralapparaten svarade inte.",
        )),
        Ok(result) => {
            // Give the panel's state push a moment to land before reporting it.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let status = st.links.for_site(site_id).and_then(|l| l.status);
            let status_code = if result.is_ok() {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            Ok((
                status_code,
                Json(serde_json::json!({
                    "ok": result.is_ok(),
                    "refusal": result.err(),
                    "status": status,
                })),
            )
                .into_response())
        }
    }
}

impl From<StoreError> for LinkError {
    fn from(_: StoreError) -> LinkError {
        LinkError::NotConnected
    }
}
