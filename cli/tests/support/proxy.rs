//! An HTTP proxy on 127.0.0.1 between the binary and the embedded server that rewrites a
//! listing, as a hostile or buggy server could: the part of the library's fault-injecting
//! proxy (tests/it/proxy.rs) that the CLI tests use. It forwards requests with their headers
//! unchanged (Host included), so SigV4 signatures stay valid.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// What the proxy does to a request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward, with the first text replaced by the second in the answer's body: a server
    /// that lists keys no file system would store, such as `../evil`.
    Rewrite(&'static str, &'static str),
}

/// Which requests a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matches {
    /// Listings (GET on a bucket).
    List,
}

/// One request as the proxy saw it.
struct Seen {
    method: String,
    path_and_query: String,
}

impl Seen {
    fn matches(&self, which: Matches) -> bool {
        let path = self
            .path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path);
        // Path style: /bucket/key for objects, /bucket or /bucket/ for the bucket itself.
        let is_object = path
            .trim_start_matches('/')
            .split_once('/')
            .is_some_and(|(_, key)| !key.is_empty());
        match which {
            Matches::List => self.method == "GET" && !is_object,
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
    };
    let fault = {
        let mut state = state.lock().unwrap();
        state
            .rules
            .iter_mut()
            .find(|rule| rule.remaining > 0 && seen.matches(rule.which))
            .map(|rule| {
                rule.remaining -= 1;
                rule.struck += 1;
                rule.fault.clone()
            })
    };
    // Forward, with the whole request and answer in memory.
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let uri = format!("{upstream}{}", seen.path_and_query);
    let mut forward = Request::from_parts(parts, Full::new(body));
    *forward.uri_mut() = uri.parse()?;
    let answer = client.request(forward).await?;
    let (mut parts, body) = answer.into_parts();
    let body = body.collect().await?.to_bytes();
    match fault {
        Some(Fault::Rewrite(from, to)) => {
            let text = String::from_utf8_lossy(&body).replacen(from, to, 1);
            parts.headers.remove("content-length");
            Ok(Response::from_parts(parts, full(Bytes::from(text))))
        }
        None => Ok(Response::from_parts(parts, full(body))),
    }
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed()
}
