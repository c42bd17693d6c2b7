//! `leaseq dashboard`: the web app, its JSON API under /api (spec/http-api.md), /metrics and
//! /health, from one axum server with the assets embedded.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use futures_util::stream::Stream;
use leaseq::{Connection, ItemList, QueueStats, WorkQueue};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::commands::{all_stats, existing_queue, item_info_json};
use crate::dead::{self, BulkAction, DeadFilter};
use crate::metrics::{self, Accumulator};
use crate::view::{self, QueueSummary};
use crate::{CliError, CliResult, DataFormat};

/// Snapshots younger than this are shared by every tab and scrape instead of read again.
const SNAPSHOT_MAX_AGE: Duration = Duration::from_millis(900);
/// How often the queue list itself is rescanned (SCAN over the whole keyspace).
const QUEUE_LIST_MAX_AGE: Duration = Duration::from_secs(30);

struct Shared {
    connection: Connection,
    read_only: bool,
    /// Accepted `Authorization` header values.
    auth: Vec<String>,
    names: tokio::sync::Mutex<Option<(Instant, Vec<String>)>>,
    snapshot: tokio::sync::Mutex<Option<(Instant, Arc<Vec<QueueStats>>)>>,
    accumulator: std::sync::Mutex<Accumulator>,
    last_trim: std::sync::Mutex<Option<Instant>>,
}

type AppState = Arc<Shared>;

/// Serves until Ctrl-C.
pub(crate) async fn serve(
    connection: Connection,
    listen: &str,
    read_only: bool,
    auth: Option<String>,
    first_queue: Option<String>,
) -> CliResult<()> {
    let auth = match auth.as_deref() {
        None => Vec::new(),
        Some("") => return Err(CliError("--auth must not be empty".into())),
        Some(spec) if spec.contains(':') => vec![format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(spec)
        )],
        // A token: as a bearer token, or as the password of any Basic user (for browsers).
        Some(token) => vec![format!("Bearer {token}")],
    };
    let state = Arc::new(Shared {
        connection,
        read_only,
        auth,
        names: Default::default(),
        snapshot: Default::default(),
        accumulator: Default::default(),
        last_trim: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|err| CliError(format!("cannot listen on {listen}: {err}")))?;
    let address = listener.local_addr()?;
    match first_queue {
        Some(queue) => println!(
            "leaseq dashboard on http://{address}/#/queue/{}",
            encode_component(&queue)
        ),
        None => println!("leaseq dashboard on http://{address}/"),
    }
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn router(state: AppState) -> Router {
    let mut api = Router::new()
        .route("/", get(index))
        .route("/assets/app.js", get(app_js))
        .route("/assets/app.css", get(app_css))
        .route("/metrics", get(metrics_text))
        .route("/api/config", get(config))
        .route("/api/queues", get(queues))
        .route("/api/events", get(events))
        .route("/api/queues/{name}", get(queue_stats))
        .route("/api/queues/{name}/items", get(queue_items))
        .route("/api/queues/{name}/items/{id}", get(item))
        .route("/api/queues/{name}/dead", get(dead_list));
    if !state.read_only {
        api = api
            .route("/api/queues/{name}/pause", post(pause))
            .route("/api/queues/{name}/resume", post(resume))
            .route("/api/queues/{name}/dead/requeue", post(requeue))
            .route("/api/queues/{name}/dead/purge", post(purge));
    }
    let guarded = api.layer(middleware::from_fn_with_state(state.clone(), require_auth));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(guarded)
        .with_state(state)
}

async fn require_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.auth.is_empty() {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let accepted = state.auth.iter().any(|expected| same(expected, given))
        || token_as_basic_password(&state.auth, given);
    if accepted {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": "authentication required", "kind": "unauthorized" })),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"leaseq\""),
    );
    response
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn token_as_basic_password(auth: &[String], given: &str) -> bool {
    let Some(token) = auth.iter().find_map(|a| a.strip_prefix("Bearer ")) else {
        return false;
    };
    let Some(encoded) = given.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return false;
    };
    let decoded = String::from_utf8_lossy(&decoded);
    decoded
        .split_once(':')
        .is_some_and(|(_, password)| same(password, token))
}

struct ApiError(StatusCode, String);

impl From<CliError> for ApiError {
    fn from(err: CliError) -> ApiError {
        let status = if err.0.starts_with("unknown queue") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError(status, err.0)
    }
}

impl From<leaseq::Error> for ApiError {
    fn from(err: leaseq::Error) -> ApiError {
        let status = match err.kind() {
            leaseq::ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
            leaseq::ErrorKind::Connection | leaseq::ErrorKind::Timeout => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, CliError::from(err).0)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; style-src 'self'; img-src 'self' data:"),
    );
    (headers, body).into_response()
}

async fn index() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../assets/index.html"),
    )
}
async fn app_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    )
}
async fn app_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../assets/app.css"))
}

impl Shared {
    /// Every queue's stats, read at most once per [`SNAPSHOT_MAX_AGE`] whatever the number of
    /// tabs: live updates cost Redis the same for one tab or fifty.
    async fn snapshot(&self) -> CliResult<Arc<Vec<QueueStats>>> {
        let mut snapshot = self.snapshot.lock().await;
        if let Some((taken, stats)) = snapshot.as_ref() {
            if taken.elapsed() < SNAPSHOT_MAX_AGE {
                return Ok(stats.clone());
            }
        }
        let names = {
            let mut names = self.names.lock().await;
            match names.as_ref() {
                Some((taken, list)) if taken.elapsed() < QUEUE_LIST_MAX_AGE => list.clone(),
                _ => {
                    let list = leaseq::find_queues(&self.connection, false, |_| {}).await?;
                    *names = Some((Instant::now(), list.clone()));
                    list
                }
            }
        };
        let stats = Arc::new(all_stats(&self.connection, &names).await?);
        *snapshot = Some((Instant::now(), stats.clone()));
        self.trim_now_and_then(&names).await;
        Ok(stats)
    }

    /// Deletes old counter buckets every ten minutes (one HDEL per queue).
    async fn trim_now_and_then(&self, names: &[String]) {
        {
            let mut last = self.last_trim.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(600)) {
                return;
            }
            *last = Some(Instant::now());
        }
        for name in names {
            if let Ok(queue) = WorkQueue::new(&self.connection, name) {
                let _ = queue.trim_stats(false).await;
            }
        }
    }

    fn forget_snapshot(&self) {
        if let Ok(mut snapshot) = self.snapshot.try_lock() {
            *snapshot = None;
        }
    }
}

fn overview(stats: &[QueueStats]) -> Value {
    let summaries: Vec<QueueSummary> = stats.iter().map(QueueSummary::from).collect();
    let minutes = leaseq::STATS_MINUTES;
    let (mut completed, mut failed) = (vec![0u64; minutes], vec![0u64; minutes]);
    for s in stats {
        for i in 0..minutes.min(s.completed_per_minute.len()) {
            completed[i] += s.completed_per_minute[i];
            failed[i] += s.retried_per_minute[i] + s.dead_lettered_per_minute[i];
        }
    }
    json!({ "queues": summaries, "per_minute": { "completed": completed, "failed": failed } })
}

async fn config(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "read_only": state.read_only, "version": env!("CARGO_PKG_VERSION") }))
}

async fn queues(State(state): State<AppState>) -> ApiResult {
    Ok(Json(overview(&state.snapshot().await?)))
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold((state, true), |(state, first)| async move {
        if !first {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let event = match state.snapshot().await {
            Ok(stats) => Event::default()
                .event("queues")
                .data(overview(&stats).to_string()),
            Err(err) => Event::default()
                .event("failure")
                .data(json!({ "error": err.0 }).to_string()),
        };
        Some((Ok(event), (state, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn queue_stats(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let (_, stats) = existing_queue(&state.connection, &name).await?;
    Ok(Json(view::stats_json(&stats)))
}

#[derive(Deserialize)]
struct PageQuery {
    state: Option<String>,
    offset: Option<u64>,
    count: Option<u64>,
}

async fn queue_items(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult {
    let (queue, _) = existing_queue(&state.connection, &name).await?;
    let list = ItemList::parse(page.state.as_deref().unwrap_or("queued"))?;
    let (offset, count) = (page.offset.unwrap_or(0), page.count.unwrap_or(50));
    let items = queue.items_in(list, offset, count).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|i| view::item_json(i, DataFormat::Auto))
        .collect();
    Ok(Json(
        json!({ "offset": offset, "count": count, "items": items }),
    ))
}

async fn item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult {
    let (queue, _) = existing_queue(&state.connection, &name).await?;
    let info = queue.item_info(&id).await?;
    Ok(Json(item_info_json(&info, DataFormat::Auto)))
}

#[derive(Deserialize)]
struct DeadQuery {
    grep: Option<String>,
    error: Option<String>,
    offset: Option<usize>,
    count: Option<usize>,
}

async fn dead_list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<DeadQuery>,
) -> ApiResult {
    let (queue, _) = existing_queue(&state.connection, &name).await?;
    let filter = DeadFilter {
        grep: query.grep,
        error: query.error,
        ids: Vec::new(),
    };
    let (total, matched) = dead::select(&queue, &filter, |_, _| {}).await?;
    let offset = query.offset.unwrap_or(0);
    let count = query.count.unwrap_or(50).min(1000);
    let ids: Vec<&String> = matched.iter().map(|d| &d.item.id).collect();
    let items: Vec<Value> = matched
        .iter()
        .skip(offset)
        .take(count)
        .map(|d| {
            let mut value = view::item_json(&d.item, DataFormat::Auto);
            if let Value::Object(map) = &mut value {
                map.insert("error".into(), json!(d.error));
                let died = d
                    .died_at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|x| x.as_millis() as u64)
                    .unwrap_or(0);
                map.insert("died_ms".into(), json!(died));
            }
            value
        })
        .collect();
    Ok(Json(json!({
        "dead": total, "matching": matched.len(), "offset": offset,
        "matching_ids": ids, "items": items,
    })))
}

async fn bulk(state: &AppState, name: &str, filter: DeadFilter, action: BulkAction) -> ApiResult {
    let (queue, _) = existing_queue(&state.connection, name).await?;
    if filter.ids.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "ids: the ids that were shown must be sent (a bulk action only touches those)".into(),
        ));
    }
    // The filter narrows the shown ids to those that still match; `ids` in the filter itself
    // would be redundant.
    let shown = filter.ids.clone();
    let narrowing = DeadFilter {
        ids: Vec::new(),
        ..filter
    };
    let done = dead::apply(&queue, &narrowing, &shown, action).await?;
    state.forget_snapshot();
    let key = match action {
        BulkAction::Requeue => "requeued",
        BulkAction::Purge => "purged",
    };
    Ok(Json(json!({ key: done, "shown": shown.len() })))
}

async fn requeue(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(filter): Json<DeadFilter>,
) -> ApiResult {
    bulk(&state, &name, filter, BulkAction::Requeue).await
}

async fn purge(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(filter): Json<DeadFilter>,
) -> ApiResult {
    bulk(&state, &name, filter, BulkAction::Purge).await
}

async fn pause(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    WorkQueue::new(&state.connection, &name)?.pause().await?;
    state.forget_snapshot();
    Ok(Json(json!({ "queue": name, "paused": true })))
}

async fn resume(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let was_paused = WorkQueue::new(&state.connection, &name)?.resume().await?;
    state.forget_snapshot();
    Ok(Json(
        json!({ "queue": name, "paused": false, "was_paused": was_paused }),
    ))
}

async fn metrics_text(State(state): State<AppState>) -> Result<Response, ApiError> {
    let stats = state.snapshot().await?;
    let body = {
        let mut accumulator = state.accumulator.lock().unwrap_or_else(|p| p.into_inner());
        metrics::render(&mut accumulator, &stats)
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
