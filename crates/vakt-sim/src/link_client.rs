//! The panel's end of the panel link: a WebSocket to Vakt that stays up, reconnects when it
//! drops, pushes the panel's state when it changes and carries out Vakt's commands as
//! operations "from the app" (which the panel logs as an unknown user, as real panels do).
//! The messages are `vakt_panel::link`'s; the protocol is in `docs/panel-link.md`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use vakt_panel::link::{FromPanel, PROTOCOL, ToPanel};
use vakt_panel::{Credential, Input, Refusal};

use crate::view::PanelView;

/// How long the panel waits before it dials again after the link drops.
const RECONNECT_DELAY: Duration = Duration::from_secs(2);

/// Where and how the panel link connects.
#[derive(Clone, Debug)]
pub struct LinkSpec {
    /// `ws://host:port/panel-link`.
    pub url: String,
    /// The panel's link token.
    pub token: String,
    /// The DC-09 account, announced in `hello`.
    pub account: String,
}

/// A command from the link for the panel's task.
#[derive(Debug)]
pub struct LinkRequest {
    /// What to do.
    pub input: Input,
    /// The panel's answer.
    pub reply: oneshot::Sender<Result<(), Refusal>>,
}

/// Keeps the link up until `cancel` fires; `connected` says whether it is up.
pub async fn run_client(
    spec: LinkSpec,
    requests: mpsc::Sender<LinkRequest>,
    mut view: watch::Receiver<PanelView>,
    connected: watch::Sender<bool>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = session(&spec, &requests, &mut view, &connected) => {}
        }
        let _ = connected.send(false);
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(RECONNECT_DELAY) => {}
        }
    }
}

async fn session(
    spec: &LinkSpec,
    requests: &mpsc::Sender<LinkRequest>,
    view: &mut watch::Receiver<PanelView>,
    connected: &watch::Sender<bool>,
) {
    let Ok(mut request) = spec.url.as_str().into_client_request() else {
        return;
    };
    let Ok(bearer) = format!("Bearer {}", spec.token).parse() else {
        return;
    };
    request.headers_mut().insert("authorization", bearer);
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
        return;
    };
    let hello = FromPanel::Hello {
        account: spec.account.clone(),
        protocol: PROTOCOL,
        firmware: concat!("vakt-panel ", env!("CARGO_PKG_VERSION")).to_owned(),
    };
    let mut last = view.borrow_and_update().status.clone();
    for message in [hello, FromPanel::State(last.clone())] {
        if send(&mut socket, &message).await.is_err() {
            return;
        }
    }
    let _ = connected.send(true);
    loop {
        tokio::select! {
            changed = view.changed() => {
                if changed.is_err() {
                    return;
                }
                let status = view.borrow_and_update().status.clone();
                if status != last {
                    last = status.clone();
                    if send(&mut socket, &FromPanel::State(status)).await.is_err() {
                        return;
                    }
                }
            }
            incoming = socket.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                };
                let Ok(command) = serde_json::from_str::<ToPanel>(&text) else {
                    // Not a command this panel knows: ignore it, as firmware does.
                    continue;
                };
                let (id, input) = match command {
                    ToPanel::GetState { id } => {
                        let status = view.borrow().status.clone();
                        if send(&mut socket, &FromPanel::State(status)).await.is_err() {
                            return;
                        }
                        (id, None)
                    }
                    ToPanel::Arm { id, mode } => (id, Some(Input::Arm {
                        credential: Credential::App,
                        mode,
                        partition: None,
                    })),
                    ToPanel::Disarm { id } => (id, Some(Input::Disarm {
                        credential: Credential::App,
                        partition: None,
                    })),
                };
                let result = match input {
                    None => Ok(()),
                    Some(input) => {
                        let (reply, answer) = oneshot::channel();
                        if requests.send(LinkRequest { input, reply }).await.is_err() {
                            return;
                        }
                        answer.await.unwrap_or(Err(Refusal::AlreadySo))
                    }
                };
                let reply = FromPanel::Reply { id, ok: result.is_ok(), refusal: result.err() };
                if send(&mut socket, &reply).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn send<S>(socket: &mut S, message: &FromPanel) -> Result<(), ()>
where
    S: futures_util::Sink<Message> + Unpin,
{
    let text = serde_json::to_string(message).map_err(|_| ())?;
    socket.send(Message::text(text)).await.map_err(|_| ())
}
