//! One error type for everything s3io does.
//!
//! An [`Error`] is a [`kind`](Error::kind) you can match on, plus the context a person needs to
//! act on it: the [`Operation`], the bucket, the key, the format's name, and for errors that S3
//! itself returned, the S3 error code and the request id. It knows nothing of S3's SDK nor of
//! the format registry: the layers above add what they know.
//!
//! Following the AWS SDK's error guidelines, `Display` is one line and does not repeat the
//! source error's own text through the chain; `Debug` shows every field and the whole chain.
//! `Display` does carry a short summary of the cause, because notebooks and `?` in `main` show
//! nothing but `Display`.

use std::error::Error as StdError;
use std::fmt;

/// The boxed cause behind an [`Error`].
type Source = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong, in a form you can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bucket or key does not exist (`NoSuchKey`, `NoSuchBucket`, a 404).
    NotFound,
    /// The credentials are valid but not allowed to do this (`AccessDenied`, a 403).
    PermissionDenied,
    /// No credentials could be found, or S3 rejected them (`InvalidAccessKeyId`,
    /// `SignatureDoesNotMatch`, `ExpiredToken`, ...).
    Credentials,
    /// S3 answered with any other error; see [`Error::code`].
    Service,
    /// The request did not get a complete answer: connection refused or reset, timeout,
    /// truncated body.
    Transport,
    /// The object's bytes are not valid in the format its key names.
    Decode,
    /// The value could not be written in the format the key names.
    Encode,
    /// The combination is not supported, for example a `String` uploaded to `.xlsx`, or a
    /// pickle that refers to Python code.
    Unsupported,
    /// An argument is invalid, for example an empty bucket name.
    InvalidInput,
    /// A waiter gave up: the object or bucket did not reach the state waited for in time.
    Timeout,
    /// The object changed during the operation, for example between the parts of a
    /// download; nothing mixed was returned.
    Conflict,
    /// The object, or what it decodes into, passes one of the [`Limits`](crate::Limits):
    /// too large, inflating too far, too many cells, nested too deep. Unlike
    /// [`Decode`](ErrorKind::Decode), the file may be fine; raise the limit the message
    /// names if it is trusted.
    LimitExceeded,
}

impl ErrorKind {
    /// A short lower-case name for the kind, as shown in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Credentials => "credentials",
            ErrorKind::Service => "service error",
            ErrorKind::Transport => "transport error",
            ErrorKind::Decode => "cannot decode",
            ErrorKind::Encode => "cannot encode",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Conflict => "conflict",
            ErrorKind::LimitExceeded => "limit exceeded",
        }
    }
}

impl ErrorKind {
    /// The kind an S3 error code (or, without one, an HTTP status) stands for.
    pub fn for_s3_code(code: Option<&str>, status: Option<u16>) -> ErrorKind {
        match (code, status) {
            (Some(c), _) if NOT_FOUND_CODES.contains(&c) => ErrorKind::NotFound,
            (Some(c), _) if DENIED_CODES.contains(&c) => ErrorKind::PermissionDenied,
            (Some(c), _) if CREDENTIAL_CODES.contains(&c) => ErrorKind::Credentials,
            (None, Some(404)) => ErrorKind::NotFound,
            (None, Some(403)) => ErrorKind::PermissionDenied,
            // Servers that leave an operation out (Garage and s3s-fs have no versions).
            (Some("NotImplemented"), _) | (None, Some(501)) => ErrorKind::Unsupported,
            _ => ErrorKind::Service,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The s3io operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Building a connector from configuration.
    Connect,
    /// Listing the buckets of the account.
    ListBuckets,
    /// Listing the objects in a bucket.
    ListObjects,
    /// Creating a bucket.
    CreateBucket,
    /// Deleting a bucket.
    DeleteBucket,
    /// Checking whether a bucket exists.
    HeadBucket,
    /// Reading an object's metadata.
    Head,
    /// Deleting objects.
    Delete,
    /// Copying or renaming an object.
    Copy,
    /// Listing object versions.
    ListVersions,
    /// Waiting for an object or bucket.
    Wait,
    /// Asking STS who the credentials belong to.
    WhoAmI,
    /// Signing a URL.
    Presign,
    /// Downloading and decoding an object.
    Download,
    /// Encoding and uploading an object.
    Upload,
    /// Decoding bytes that did not come from S3 ([`Format::decode`](crate::Format::decode)).
    Decode,
    /// Encoding a value without uploading it ([`Format::encode`](crate::Format::encode)).
    Encode,
    /// Planning a lazy scan of objects (feature `lazy` of s3io).
    Scan,
    /// Writing a lazy frame's result to an object (feature `lazy` of s3io).
    Sink,
}

impl Operation {
    /// The operation's name as shown in messages, e.g. `download`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Connect => "connect",
            Operation::ListBuckets => "list buckets",
            Operation::ListObjects => "list objects",
            Operation::CreateBucket => "create bucket",
            Operation::DeleteBucket => "delete bucket",
            Operation::HeadBucket => "head bucket",
            Operation::Head => "head",
            Operation::Delete => "delete",
            Operation::Copy => "copy",
            Operation::ListVersions => "list versions",
            Operation::Wait => "wait",
            Operation::WhoAmI => "whoami",
            Operation::Presign => "presign",
            Operation::Download => "download",
            Operation::Upload => "upload",
            Operation::Decode => "decode",
            Operation::Encode => "encode",
            Operation::Scan => "scan",
            Operation::Sink => "sink",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error type of every fallible s3io call.
///
/// ```
/// use s3io_formats::{Error, ErrorKind, Operation};
///
/// let err = Error::new(ErrorKind::NotFound, "NoSuchKey: The specified key does not exist.")
///     .with_operation(Operation::Download)
///     .with_location("bucket", "a.csv");
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert_eq!(
///     err.to_string(),
///     "download s3://bucket/a.csv (csv): NoSuchKey: The specified key does not exist."
/// );
/// ```
pub struct Error {
    inner: Box<Inner>,
}

/// The fields of an [`Error`], boxed so that `Result<T, Error>` stays small.
struct Inner {
    kind: ErrorKind,
    message: String,
    operation: Option<Operation>,
    bucket: Option<String>,
    key: Option<String>,
    /// The format's name, as in `csv`.
    format: Option<&'static str>,
    /// The compression's suffix, as in `gz`.
    compression: Option<&'static str>,
    code: Option<String>,
    request_id: Option<String>,
    source: Option<Source>,
}

impl Error {
    /// A new error of `kind` with a one-line `message`; add context with the `with_*` methods.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let inner = Inner {
            kind,
            message: message.into(),
            operation: None,
            bucket: None,
            key: None,
            format: None,
            compression: None,
            code: None,
            request_id: None,
            source: None,
        };
        Error {
            inner: Box::new(inner),
        }
    }

    /// Keeps `source` as the cause, shown by `Debug` and returned by [`StdError::source`].
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Sets the operation. The outermost call sets it last, so an error names the operation
    /// the caller asked for, not a step inside it.
    pub fn with_operation(mut self, operation: Operation) -> Self {
        self.inner.operation = Some(operation);
        self
    }

    /// Appends `note` to the message.
    pub fn with_note(mut self, note: &str) -> Self {
        self.inner.message.push_str(note);
        self
    }

    /// Sets the bucket and a prefix or glob, for operations on many keys, unless they are set
    /// already: no format is implied. (`with_location` sets a key and the format its
    /// extension names.)
    pub fn with_prefix(mut self, bucket: &str, prefix: &str) -> Self {
        self.inner.bucket.get_or_insert_with(|| bucket.to_owned());
        if !prefix.is_empty() {
            self.inner.key.get_or_insert_with(|| prefix.to_owned());
        }
        self
    }

    /// Sets the bucket only, for operations on a whole bucket.
    pub fn with_bucket(mut self, bucket: &str) -> Self {
        self.inner.bucket.get_or_insert_with(|| bucket.to_owned());
        self
    }

    /// Sets the format's name, replacing one guessed from the key.
    pub fn with_format_name(mut self, format: &'static str) -> Self {
        self.inner.format = Some(format);
        self
    }

    /// Sets the suffix of the compression around the format, shown as in `csv+gz`.
    pub fn with_compression_name(mut self, compression: &'static str) -> Self {
        self.inner.compression = Some(compression);
        self
    }

    /// Sets the S3 error code and request id of a service error.
    pub fn with_service_details(
        mut self,
        code: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        self.inner.code = code;
        self.inner.request_id = request_id;
        self
    }

    /// What went wrong, to match on.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The one-line description, without the context.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The operation that failed, if known.
    pub fn operation(&self) -> Option<Operation> {
        self.inner.operation
    }

    /// The bucket involved, if any.
    pub fn bucket(&self) -> Option<&str> {
        self.inner.bucket.as_deref()
    }

    /// The key involved, if any.
    pub fn key(&self) -> Option<&str> {
        self.inner.key.as_deref()
    }

    /// The name of the format involved, if any, as [`Format::name`](crate::Format::name)
    /// gives it: `csv`, `xlsx`, ...
    pub fn format(&self) -> Option<&'static str> {
        self.inner.format
    }

    /// The suffix of the compression around the format, if any, as
    /// [`Compression::extension`](crate::Compression::extension) gives it: `gz`, `zst`, ...
    pub fn compression(&self) -> Option<&'static str> {
        self.inner.compression
    }

    /// The S3 error code, such as `NoSuchKey` or `AccessDenied`, when S3 sent one.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// The request id S3 assigned, to quote to AWS support or find in server logs.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.operation {
            Some(op) => write!(f, "{op}")?,
            None => write!(f, "s3io")?,
        }
        match (&self.inner.bucket, &self.inner.key) {
            (Some(b), Some(k)) => write!(f, " s3://{b}/{k}")?,
            (Some(b), None) => write!(f, " s3://{b}")?,
            _ => {}
        }
        match (self.inner.format, self.inner.compression) {
            (Some(format), Some(c)) => write!(f, " ({format}+{c})")?,
            (Some(format), None) => write!(f, " ({format})")?,
            (None, _) => {}
        }
        write!(f, ": {}", self.inner.message)?;
        if let Some(id) = &self.inner.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(op) = &self.inner.operation {
            d.field("operation", op);
        }
        if let Some(b) = &self.inner.bucket {
            d.field("bucket", b);
        }
        if let Some(k) = &self.inner.key {
            d.field("key", k);
        }
        if let Some(fmt) = &self.inner.format {
            d.field("format", fmt);
        }
        if let Some(c) = &self.inner.compression {
            d.field("compression", c);
        }
        if let Some(c) = &self.inner.code {
            d.field("code", c);
        }
        if let Some(r) = &self.inner.request_id {
            d.field("request_id", r);
        }
        let chain: Vec<String> = std::iter::successors(self.source(), |&e| e.source())
            .map(|e| e.to_string())
            .collect();
        if !chain.is_empty() {
            d.field("caused_by", &chain);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The result type of s3io calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// S3 error codes that mean the bucket, key or version does not exist.
const NOT_FOUND_CODES: &[&str] = &[
    "NoSuchKey",
    "NoSuchBucket",
    "NotFound",
    "NoSuchVersion",
    "NoSuchUpload",
];
/// S3 error codes that mean the caller may not do this.
const DENIED_CODES: &[&str] = &["AccessDenied", "AllAccessDisabled", "AccountProblem"];
/// S3 error codes that mean the credentials are missing, wrong or expired.
const CREDENTIAL_CODES: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "InvalidClientTokenId",
];
