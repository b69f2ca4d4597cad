//! An S3 server inside your process, for examples, notebooks and tests that need no AWS
//! account (feature `local-server`).
//!
//! It is [s3s-fs](https://crates.io/crates/s3s-fs) serving a folder over real HTTP on
//! 127.0.0.1, with signature checks on, on its own thread and tokio runtime, so it works
//! from synchronous code and from any async runtime alike.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> s3io::Result<()> {
//! let server = s3io::local::LocalS3::start()?;
//! let s3 = server.connect().await?;
//! s3.create_bucket("demo").await?;
//! s3.upload("demo", "hello.txt", "hi").await?;
//! assert_eq!(s3.download_text("demo", "hello.txt").await?, "hi");
//! # Ok(()) }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::sync::oneshot;

use crate::connector::S3Connector;
use crate::session::S3ConnectorBuilder;
use s3io_formats::{Error, ErrorKind, Result};

/// The access key id the local server accepts.
pub const ACCESS_KEY_ID: &str = "s3io-local";
/// The secret key the local server accepts.
pub const SECRET_ACCESS_KEY: &str = "s3io-local-secret";

/// A running local S3 server. Dropping it stops the server; a temporary folder it created
/// is removed then.
pub struct LocalS3 {
    addr: SocketAddr,
    root: PathBuf,
    _temp: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LocalS3 {
    /// Starts a server over a new temporary folder, on a free port of 127.0.0.1.
    pub fn start() -> Result<LocalS3> {
        let temp =
            tempfile::tempdir().map_err(|e| startup("cannot create a temporary folder", e))?;
        let mut server = Self::start_in(temp.path())?;
        server._temp = Some(temp);
        Ok(server)
    }

    /// Starts a server over `root`: each bucket is a folder in it, each object a file.
    pub fn start_in(root: impl AsRef<Path>) -> Result<LocalS3> {
        let root = root.as_ref().to_path_buf();
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| {
            startup(
                &format!("cannot serve {}", root.display()),
                std::io::Error::other(format!("{e:?}")),
            )
        })?;
        let service = {
            let mut builder = S3ServiceBuilder::new(fs);
            builder.set_auth(SimpleAuth::from_single(ACCESS_KEY_ID, SECRET_ACCESS_KEY));
            builder.build()
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| startup("cannot listen on 127.0.0.1", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| startup("no local address", e))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3io-local-s3")
            .enable_all()
            .build()
            .map_err(|e| startup("cannot start the server runtime", e))?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("s3io-local-s3".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let http = ConnBuilder::new(TokioExecutor::new());
                    loop {
                        let socket = tokio::select! {
                            accepted = listener.accept() => match accepted {
                                Ok((socket, _)) => socket,
                                Err(_) => continue,
                            },
                            _ = &mut stopped => break,
                        };
                        let connection = http
                            .serve_connection(TokioIo::new(socket), service.clone())
                            .into_owned();
                        tokio::spawn(connection);
                    }
                });
                runtime.shutdown_background();
            })
            .map_err(|e| startup("cannot start the server thread", e))?;
        Ok(LocalS3 {
            addr,
            root,
            _temp: None,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The URL to send requests to, such as `http://127.0.0.1:40123`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The folder the server stores buckets and objects in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A connector builder already pointed at this server with its credentials; add settings
    /// or call `build()`.
    pub fn builder(&self) -> S3ConnectorBuilder {
        S3Connector::builder()
            .endpoint_url(self.endpoint_url())
            .region("us-east-1")
            .credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
            .force_path_style(true)
    }

    /// A connector to this server.
    pub async fn connect(&self) -> Result<S3Connector> {
        self.builder().build().await
    }
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for LocalS3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalS3")
            .field("endpoint_url", &self.endpoint_url())
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

fn startup(what: &str, source: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(
        ErrorKind::Transport,
        format!("local S3 server: {what}: {source}"),
    )
    .with_source(source)
}
