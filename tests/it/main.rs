//! s3io's integration tests: one binary, every test against a real S3 server over HTTP.
//!
//! `conformance` runs one suite of cases against every server configured: the embedded
//! [`s3io::local::LocalS3`] (s3s-fs on 127.0.0.1, signatures checked), moto, and Garage. The
//! other modules test what needs the embedded server itself (faults through a proxy, hostile
//! files, the Python read-back, sessions, errors).

mod blocking;
mod conformance;
mod errors;
mod faults;
mod fixtures;
mod formats;
mod hostile;
mod lazy;
mod proxy;
mod python;
mod session;
mod support;
