//! Building connectors: builder, SDK config, raw client, and secrets kept out of Debug.

use s3io::S3Connector;

use crate::support::*;

#[tokio::test]
async fn debug_never_shows_secrets() {
    let builder = S3Connector::builder()
        .credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG")
        .session_token("FQoGZXIvYXdzEJr-token");
    let shown = format!("{builder:?}");
    assert!(
        shown.contains("AKIDEXAMPLE"),
        "the key id helps debugging: {shown}"
    );
    assert!(
        !shown.contains("wJalrXUtnFEMI") && !shown.contains("FQoGZXIvYXdzEJr"),
        "{shown}"
    );
    let s3 = builder.region("eu-west-1").build().await.unwrap();
    let shown = format!("{s3:?}");
    assert!(
        !shown.contains("wJalrXUtnFEMI") && !shown.contains("FQoGZXIvYXdzEJr"),
        "{shown}"
    );
    assert!(shown.contains("eu-west-1"), "{shown}");
}

#[tokio::test]
async fn connectors_from_sdk_config_and_from_client_reach_the_server() {
    let t = start().await;
    t.s3.upload(BUCKET, "x.txt", "hi").await.unwrap();

    let from_client = S3Connector::from_client(t.s3.client().clone());
    assert_eq!(
        from_client.download_text(BUCKET, "x.txt").await.unwrap(),
        "hi"
    );

    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(t.server.endpoint_url())
        .credentials_provider(aws_credential_types::Credentials::new(
            s3io::local::ACCESS_KEY_ID,
            s3io::local::SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    // A custom endpoint turns on path-style addressing by itself.
    let from_sdk = S3Connector::from_sdk_config(&sdk);
    assert_eq!(from_sdk.download_text(BUCKET, "x.txt").await.unwrap(), "hi");
}

/// `from_env` reads the same variables as the AWS CLI. Environment variables are global to
/// the process, so the check runs in a child process: this test binary, running only the
/// ignored test below, with the variables set.
#[tokio::test]
async fn from_env_reads_the_aws_cli_variables() {
    let t = start().await;
    t.s3.upload(BUCKET, "env/hello.txt", "from the environment")
        .await
        .unwrap();
    crate::support::run_child_test("session::from_env_child", |child| {
        child
            .env("AWS_ENDPOINT_URL", t.server.endpoint_url())
            .env("AWS_ACCESS_KEY_ID", s3io::local::ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", s3io::local::SECRET_ACCESS_KEY)
            .env("AWS_REGION", "eu-west-3")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env_remove("AWS_PROFILE")
            .env("S3IO_ENV_CHILD", "1")
    });
}

/// The child half of `from_env_reads_the_aws_cli_variables`.
#[tokio::test]
#[ignore = "runs as a child process of from_env_reads_the_aws_cli_variables"]
async fn from_env_child() {
    assert_eq!(
        std::env::var("S3IO_ENV_CHILD").as_deref(),
        Ok("1"),
        "run by the parent test"
    );
    let s3 = S3Connector::from_env().await.unwrap();
    assert_eq!(
        s3.client().config().region().map(|r| r.as_ref()),
        Some("eu-west-3")
    );
    // A custom endpoint from the environment turns on path-style addressing by itself.
    assert_eq!(
        s3.download_text(BUCKET, "env/hello.txt").await.unwrap(),
        "from the environment"
    );
    let blocking = tokio::task::spawn_blocking(|| s3io::blocking::S3Connector::from_env().unwrap());
    let blocking = blocking.await.unwrap();
    assert!(blocking.exists(BUCKET, "env/hello.txt").unwrap());
}

/// `AWS_MAX_ATTEMPTS` sets how often a request is tried, as in the AWS CLI, even when the
/// builder sets another retry setting (here the back-off). The variable is global to the
/// process, so the connector is made in a child process (this binary, running the ignored
/// test below); the proxy here counts its attempts at a GET that always answers 503.
#[tokio::test]
async fn aws_max_attempts_from_the_environment_sets_the_attempts() {
    use crate::proxy::{Fault, FaultProxy, Matches};
    let t = start().await;
    t.s3.upload(BUCKET, "retry/x.txt", "x").await.unwrap();
    let proxy = FaultProxy::start(&t.server.endpoint_url());
    proxy.inject(Matches::GetObject, Fault::Status(503, "SlowDown"), 100);
    crate::support::run_child_test("session::retry_env_child", |child| {
        child
            .env("AWS_MAX_ATTEMPTS", "7")
            .env("S3IO_RETRY_CHILD_ENDPOINT", proxy.endpoint_url())
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_RETRY_MODE")
    });
    let gets = proxy.seen().iter().filter(|s| s.method == "GET").count();
    assert_eq!(gets, 7, "AWS_MAX_ATTEMPTS=7 attempts");
}

/// The child half of `aws_max_attempts_from_the_environment_sets_the_attempts`.
#[tokio::test]
#[ignore = "runs as a child process of aws_max_attempts_from_the_environment_sets_the_attempts"]
async fn retry_env_child() {
    let endpoint = std::env::var("S3IO_RETRY_CHILD_ENDPOINT").expect("run by the parent test");
    let s3 = S3Connector::builder()
        .endpoint_url(endpoint)
        .region("us-east-1")
        .credentials(s3io::local::ACCESS_KEY_ID, s3io::local::SECRET_ACCESS_KEY)
        .initial_backoff(std::time::Duration::from_millis(5))
        .build()
        .await
        .unwrap();
    let err = s3.download_text(BUCKET, "retry/x.txt").await.unwrap_err();
    assert_eq!(err.code(), Some("SlowDown"), "{err}");
}

/// The child half of the anonymous read with a broken `AWS_PROFILE` (conformance suite,
/// `unsigned_requests_carry_no_signature`): reads `public/open.txt` unsigned.
#[tokio::test]
#[ignore = "runs as a child process of unsigned_requests_carry_no_signature"]
async fn anonymous_env_child() {
    let given = std::env::var("S3IO_ANONYMOUS_CHILD").expect("run by the parent test");
    let (endpoint, bucket) = given.split_once(' ').unwrap();
    let s3 = S3Connector::builder()
        .endpoint_url(endpoint)
        .region("us-east-1")
        .anonymous()
        .build()
        .await
        .unwrap();
    let text = s3.download_text(bucket, "public/open.txt").await.unwrap();
    assert_eq!(text, "open data");
}
