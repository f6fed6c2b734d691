//! Vakt's end of the panel link: panels connect here over a WebSocket with their own token,
//! announce their account, and push their state; operators see which panels are connected
//! and in what state, and the API (later the customer app) asks a panel for its state and
//! sends arm and disarm commands.
//!
//! The link is interactive, not the alarm path: an alarm always travels over DC-09 and the
//! journal. Connected panels are kept in memory on the node they reached (several nodes are
//! issue-5 work: the command must go to the node holding the socket).

pub mod links;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{mpsc, oneshot};
use vakt_link::Refusal;
use vakt_link::{FromPanel, ToPanel};
use vakt_service::secret::token_hash;
use vakt_store::Transmitter;

use crate::api::error::ApiError;
use crate::panel_link::links::{
    COMMANDS_QUEUED_MAX, HELLO_TIMEOUT, LINK_MESSAGE_BYTES_MAX, Linked, Pending,
};
use crate::state::{Store, WebState};

pub use links::{LinkError, LinkView, PanelCommand, PanelLinks};

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
