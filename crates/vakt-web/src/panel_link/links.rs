//! The panels connected to this node: who they are, their last state, and a way to send
//! each a command and wait for its answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use vakt_core::UnixMicros;
use vakt_link::PanelStatus;
use vakt_link::{ArmMode, Refusal};
use vakt_store::StoreError;

/// The largest message a panel may send.
pub const LINK_MESSAGE_BYTES_MAX: usize = 64 * 1024;
/// How long a panel has to say hello after connecting.
pub(crate) const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a command waits for the panel's reply.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Commands queued for one panel.
pub(crate) const COMMANDS_QUEUED_MAX: usize = 16;

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

pub(crate) struct Pending {
    pub(crate) command: PanelCommand,
    pub(crate) reply: oneshot::Sender<Result<(), Refusal>>,
}

pub(crate) struct Linked {
    pub(crate) view: LinkView,
    pub(crate) session: u64,
    pub(crate) commands: mpsc::Sender<Pending>,
}

/// The panels connected to this node.
#[derive(Default)]
pub struct PanelLinks {
    linked: Mutex<HashMap<i64, Linked>>,
    pub(crate) sessions: AtomicU64,
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
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Linked>> {
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

impl From<StoreError> for LinkError {
    fn from(_: StoreError) -> LinkError {
        LinkError::NotConnected
    }
}
