//! The queue: open incidents, most urgent first, kept live over server-sent events.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use vakt_core::Category;
use vakt_core::centre::Permission;
use vakt_store::{QueueItem, StoreError};

use crate::auth::Me;
use crate::i18n::Lang;
use crate::{Store, WebState};

use super::{QUEUE_COALESCE_MS, Shared};
use crate::extract::Allowed;
use crate::i18n::Words as _;
use crate::page::{Chrome, Page, chrome, render, store_err};

/// One queue row as shown.
#[derive(Debug)]
pub(crate) struct Row {
    pub(super) item: QueueItem,
    pub(super) title: String,
    pub(super) mine: bool,
}

#[derive(Template)]
#[template(path = "queue/queue.html")]
pub(super) struct QueuePage {
    c: Chrome,
    rows: Vec<Row>,
    now_us: i64,
}

#[derive(Template)]
#[template(path = "queue/queue_rows.html")]
pub(super) struct QueueRows {
    c: Chrome,
    rows: Vec<Row>,
    now_us: i64,
}

/// What an incident is about, in the reader's language.
pub(super) fn incident_title(lang: Lang, item: &QueueItem, supervision: bool) -> String {
    let what = if supervision {
        lang.t("no_contact").to_owned()
    } else {
        item.title.clone()
    };
    if what.is_empty() {
        item.category.label(lang.code()).to_owned()
    } else {
        format!("{} – {what}", item.category.label(lang.code()))
    }
}

pub(super) fn queue_rows_of(me: &Me, items: Vec<QueueItem>) -> Vec<Row> {
    items
        .into_iter()
        .map(|item| Row {
            title: incident_title(
                me.lang,
                &item,
                item.category == Category::Technical && item.title.is_empty(),
            ),
            mine: item
                .owner
                .as_ref()
                .is_some_and(|(id, _)| *id == me.staff.id),
            item,
        })
        .collect()
}

pub(super) async fn queue_page<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    let items = st.store.queue().await.map_err(store_err(&me))?;
    Ok(render(&QueuePage {
        c: chrome(Some(&me), me.lang, "queue"),
        rows: queue_rows_of(&me, items),
        now_us: st.clock.now().0,
    }))
}

pub(super) async fn render_rows<S: Store>(st: &WebState<S>, me: &Me) -> Result<String, StoreError> {
    let items = st.store.queue().await?;
    QueueRows {
        c: chrome(Some(me), me.lang, "queue"),
        rows: queue_rows_of(me, items),
        now_us: st.clock.now().0,
    }
    .render()
    .map_err(|e| StoreError::Unavailable(e.to_string()))
}

pub(super) async fn queue_rows<S: Store>(State(st): Shared<S>, Allowed(me): Allowed) -> Page {
    let html = render_rows(&st, &me).await.map_err(store_err(&me))?;
    Ok(Html(html).into_response())
}

/// How often an idle live queue checks that its session still stands, in milliseconds: a
/// stream whose session ended is closed within this time even when nothing changes.
pub(crate) const STREAM_SESSION_CHECK_MS: u64 = 5_000;

/// The live queue: the rendered rows now and after every change, and the id of each changed
/// incident (for an open incident page). The session is checked again before every event and
/// every [`STREAM_SESSION_CHECK_MS`] while idle: once it is signed out, expired or no longer
/// allowed the queue, the stream ends and sends nothing more.
pub(super) async fn queue_events<S: Store>(
    State(st): Shared<S>,
    headers: HeaderMap,
    Allowed(me): Allowed,
) -> Page {
    let mut changes = st.changes.subscribe();
    let first = render_rows(&st, &me).await.map_err(store_err(&me))?;
    let state = (st.clone(), headers, Some(first));
    let stream = futures_util::stream::unfold(
        (state, changes_pending(&mut changes), changes),
        |((st, headers, first), _, mut changes)| async move {
            if let Some(html) = first {
                let event = SseEvent::default().event("rows").data(html);
                return Some((
                    Ok::<_, Infallible>(vec![event]),
                    ((st, headers, None), Vec::new(), changes),
                ));
            }
            let mut changed = Vec::new();
            loop {
                let check = tokio::time::sleep(Duration::from_millis(STREAM_SESSION_CHECK_MS));
                tokio::select! {
                    received = changes.recv() => match received {
                        Ok(id) => {
                            changed.push(id);
                            break;
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                    () = check => {
                        still_allowed(&st, &headers).await?;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(QUEUE_COALESCE_MS)).await;
            changed.extend(changes_pending(&mut changes));
            // Whoever reads this stream must still be signed in and allowed, now.
            let me = still_allowed(&st, &headers).await?;
            let mut events = Vec::new();
            match render_rows(&st, &me).await {
                Ok(html) => events.push(SseEvent::default().event("rows").data(html)),
                Err(error) => {
                    tracing::warn!(%error, "could not render the queue for a live console")
                }
            }
            changed.sort_unstable();
            changed.dedup();
            for id in changed {
                events.push(SseEvent::default().event("changed").data(id.to_string()));
            }
            Some((Ok(events), ((st, headers, None), Vec::new(), changes)))
        },
    );
    let flat =
        futures_util::StreamExt::flat_map(stream, |batch: Result<Vec<SseEvent>, Infallible>| {
            futures_util::stream::iter(
                batch
                    .unwrap_or_default()
                    .into_iter()
                    .map(Ok::<_, Infallible>),
            )
        });
    Ok(Sse::new(flat)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The stream's reader as the session stands now, when still allowed the live queue.
pub(super) async fn still_allowed<S: Store>(st: &WebState<S>, headers: &HeaderMap) -> Option<Me> {
    st.me(headers)
        .await
        .ok()
        .filter(|me| me.may(Permission::HandleAlarms))
}

pub(super) fn changes_pending(changes: &mut tokio::sync::broadcast::Receiver<i64>) -> Vec<i64> {
    let mut ids = Vec::new();
    while let Ok(id) = changes.try_recv() {
        ids.push(id);
    }
    ids
}
