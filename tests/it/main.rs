//! s3io's integration tests: one binary, every test against a real S3 server over HTTP.
//!
//! The default server is [`s3io::local::LocalS3`] (s3s-fs on 127.0.0.1, signatures checked).

mod errors;
mod fixtures;
mod formats;
mod moto;
mod python;
mod roundtrip;
mod session;
mod support;
