//! s3io's integration tests: one binary, every test against a real S3 server over HTTP.
//!
//! The default server is [`s3io::local::LocalS3`] (s3s-fs on 127.0.0.1, signatures checked).

mod blocking;
mod errors;
mod faults;
mod fixtures;
mod formats;
mod hostile;
mod moto;
mod objects;
mod proxy;
mod python;
mod roundtrip;
mod session;
mod support;
mod transfer;
