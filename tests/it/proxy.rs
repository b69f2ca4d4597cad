//! A fault-injecting HTTP proxy on 127.0.0.1 between the connector and the embedded server.
//!
//! Each test scripts it with rules: "the next N requests that match get this fault". Every
//! request is logged, so tests can count what the connector sent. It forwards requests with
//! their headers unchanged (Host included), so SigV4 signatures stay valid.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// What the proxy does to a request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and an S3 XML error with this code, without forwarding.
    Status(u16, &'static str),
    /// Answer 200 with an S3 `InternalError` body, as S3 does when CompleteMultipartUpload or
    /// CopyObject fails after the headers went out. The request is not forwarded: it failed.
    ErrorIn200,
    /// Close the connection without answering.
    ResetBeforeResponse,
    /// Forward, send the headers and this many body bytes, then break the connection.
    ResetMidBody(usize),
    /// Forward, send the headers and this many body bytes, then end the body cleanly though
    /// the Content-Length promised more.
    Truncate(usize),
    /// Forward, send this many body bytes, then go silent for the duration.
    Stall(usize, Duration),
    /// Answer 502 with an HTML page, as a misbehaving proxy or load balancer does.
    HtmlPage,
    /// Forward, with another ETag: the object was replaced and the server ignored If-Match.
    OtherEtag,
    /// Forward, with the first text replaced by the second in the answer's body: a server
    /// that lists keys no file system would store, such as `../evil`.
    Rewrite(&'static str, &'static str),
}

/// Which requests a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matches {
    /// Every request.
    Any,
    /// GETs of objects (not listings).
    GetObject,
    /// Ranged GETs that do not start at byte 0: the later parts of a download.
    LaterRange,
    /// PUTs of multipart upload parts.
    UploadPart,
    /// The POST that completes a multipart upload.
    Complete,
    /// Listings (GET on a bucket).
    List,
    /// Single-request PUTs of objects whose path (as sent: percent-encoded) contains this
    /// text; `""` for every one.
    PutObjectContaining(&'static str),
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub range: Option<String>,
    /// Every header, names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request was signed: an Authorization header or a presigned query.
    pub fn signed(&self) -> bool {
        self.header("authorization").is_some() || self.path_and_query.contains("X-Amz-Signature")
    }

    fn matches(&self, which: Matches) -> bool {
        let (path, query) = self
            .path_and_query
            .split_once('?')
            .unwrap_or((&self.path_and_query, ""));
        // Path style: /bucket/key for objects, /bucket or /bucket/ for the bucket itself.
        let is_object = path
            .trim_start_matches('/')
            .split_once('/')
            .is_some_and(|(_, key)| !key.is_empty());
        match which {
            Matches::Any => true,
            Matches::GetObject => self.method == "GET" && is_object,
            Matches::LaterRange => {
                self.method == "GET"
                    && self
                        .range
                        .as_deref()
                        .is_some_and(|r| !r.starts_with("bytes=0-"))
            }
            Matches::UploadPart => self.method == "PUT" && query.contains("uploadId"),
            Matches::Complete => self.method == "POST" && query.contains("uploadId"),
            Matches::List => self.method == "GET" && !is_object,
            Matches::PutObjectContaining(text) => {
                self.method == "PUT"
                    && is_object
                    && !query.contains("uploadId")
                    && path.contains(text)
            }
        }
    }
}

struct Rule {
    which: Matches,
    fault: Fault,
    remaining: usize,
    /// How many requests it was applied to.
    struck: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
    /// The bytes of the response bodies the server sent.
    sent: u64,
}

/// A running proxy; dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (an `http://host:port` URL), on its own thread
    /// and runtime, like the server it fronts.
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("proxy port");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("proxy address");
        let state: Arc<Mutex<State>> = Arc::default();
        let upstream: Arc<str> = upstream.trim_end_matches('/').into();
        let shared = state.clone();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let client: Client<HttpConnector, Full<Bytes>> =
                    Client::builder(TokioExecutor::new()).build_http();
                loop {
                    let socket = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((socket, _)) => socket,
                            Err(_) => continue,
                        },
                        _ = &mut stopped => break,
                    };
                    let (state, client, upstream) =
                        (shared.clone(), client.clone(), upstream.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            handle(request, state.clone(), client.clone(), upstream.clone())
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(socket), service)
                            .await;
                    });
                }
            });
            runtime.shutdown_background();
        });
        FaultProxy {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The URL to point a connector at.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `times` requests that match `which` get `fault`. Rules apply in the order
    /// they were added.
    pub fn inject(&self, which: Matches, fault: Fault, times: usize) {
        self.state.lock().unwrap().rules.push(Rule {
            which,
            fault,
            remaining: times,
            struck: 0,
        });
    }

    /// Forgets the rules and the log.
    pub fn reset(&self) {
        let mut state = self.state.lock().unwrap();
        state.rules.clear();
        state.seen.clear();
        state.sent = 0;
    }

    /// The bytes of the response bodies the server sent since the start or the last reset.
    pub fn bytes_sent(&self) -> u64 {
        self.state.lock().unwrap().sent
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Whether every rule has been applied to a request at least once.
    pub fn struck(&self) -> bool {
        self.state
            .lock()
            .unwrap()
            .rules
            .iter()
            .all(|r| r.struck > 0)
    }
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: Arc<str>,
) -> Result<Response<Body>, Box<dyn std::error::Error + Send + Sync>> {
    let seen = Seen {
        method: request.method().to_string(),
        path_and_query: request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        range: request
            .headers()
            .get("range")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let fault = {
        let mut state = state.lock().unwrap();
        let fault = state
            .rules
            .iter_mut()
            .find(|rule| rule.remaining > 0 && seen.matches(rule.which))
            .map(|rule| {
                rule.remaining -= 1;
                rule.struck += 1;
                rule.fault.clone()
            });
        state.seen.push(seen.clone());
        fault
    };
    // Read the whole request first, as S3 does before it answers.
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    match &fault {
        Some(Fault::ResetBeforeResponse) => return Err("reset before the response".into()),
        Some(Fault::Status(status, code)) => return Ok(s3_error(*status, code)),
        Some(Fault::ErrorIn200) => {
            let mut response = s3_error(200, "InternalError");
            *response.status_mut() = StatusCode::OK;
            return Ok(response);
        }
        Some(Fault::HtmlPage) => {
            let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
            let mut response = Response::new(full(Bytes::from_static(page.as_bytes())));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("text/html"));
            return Ok(response);
        }
        _ => {}
    }

    // Forward, with the body in memory.
    let uri = format!("{upstream}{}", seen.path_and_query);
    let mut forward = Request::from_parts(parts, Full::new(body));
    *forward.uri_mut() = uri.parse()?;
    let answer = client.request(forward).await?;
    let (mut parts, body) = answer.into_parts();
    let body = body.collect().await?.to_bytes();
    state.lock().unwrap().sent += body.len() as u64;

    match fault {
        Some(Fault::ResetMidBody(after)) => {
            Ok(Response::from_parts(parts, cut_body(body, after, true)))
        }
        Some(Fault::Truncate(after)) => {
            Ok(Response::from_parts(parts, cut_body(body, after, false)))
        }
        Some(Fault::Stall(after, pause)) => {
            let head = body.slice(..after.min(body.len()));
            let rest = body.slice(after.min(body.len())..);
            let frames = stream::unfold(0u8, move |step| {
                let (head, rest) = (head.clone(), rest.clone());
                async move {
                    match step {
                        0 => Some((Ok(Frame::data(head)), 1)),
                        1 => {
                            tokio::time::sleep(pause).await;
                            Some((Ok(Frame::data(rest)), 2))
                        }
                        _ => None,
                    }
                }
            });
            Ok(Response::from_parts(
                parts,
                BodyExt::boxed(StreamBody::new(frames)),
            ))
        }
        Some(Fault::OtherEtag) => {
            parts.headers.insert(
                "etag",
                HeaderValue::from_static("\"00000000000000000000000000000000\""),
            );
            Ok(Response::from_parts(parts, full(body)))
        }
        Some(Fault::Rewrite(from, to)) => {
            let text = String::from_utf8_lossy(&body).replacen(from, to, 1);
            parts.headers.remove("content-length");
            Ok(Response::from_parts(parts, full(Bytes::from(text))))
        }
        _ => Ok(Response::from_parts(parts, full(body))),
    }
}

/// The first `after` bytes, a pause so that they reach the client, then a broken connection
/// (`reset`) or a clean end short of the Content-Length.
fn cut_body(body: Bytes, after: usize, reset: bool) -> Body {
    let head = body.slice(..after.min(body.len()));
    let frames = stream::unfold(0u8, move |step| {
        let head = head.clone();
        async move {
            match step {
                0 => Some((Ok(Frame::data(head)), 1)),
                1 if reset => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Err("reset mid-body".into()), 2))
                }
                1 => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    None
                }
                _ => None,
            }
        }
    });
    BodyExt::boxed(StreamBody::new(frames))
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn s3_error(status: u16, code: &str) -> Response<Body> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>injected by the test proxy</Message><RequestId>proxy-{status}</RequestId></Error>"
    );
    let mut response = Response::new(full(Bytes::from(xml)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/xml"));
    response
}
