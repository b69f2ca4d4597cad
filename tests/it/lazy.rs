//! Lazy scans (feature `lazy`) with the connection settings polars alone gets wrong (polars
//! issues #18757 and #18420): a named profile from the AWS configuration files and a custom
//! endpoint. The conformance suite (`conformance::<server>::lazy_*`) covers the scans
//! themselves on every server.

#[cfg(not(feature = "lazy"))]
#[test]
fn lazy_scans_need_the_lazy_feature() {
    println!("SKIP lazy scans: built without the `lazy` feature (cargo test --features s3io/lazy)");
}

#[cfg(feature = "lazy")]
mod with_the_feature {
    use s3io::S3Connector;
    use s3io::polars::prelude::*;

    use crate::support::*;

    /// A profile in files of its own, holding the embedded server's keys; `HOME` points at an
    /// empty folder, so polars' own reading of `~/.aws` finds nothing, and a second profile
    /// holds keys the server refuses. The variables are global to a process, so the scans
    /// run in a child process (this binary, running the ignored test below).
    #[tokio::test]
    async fn scans_use_a_named_profile_and_a_custom_endpoint() {
        let t = start().await;
        let df = df!("k" => ["a", "b", "a"], "v" => [1.5, 2.0, 4.0]).unwrap();
        t.s3.upload(BUCKET, "profile/v.parquet", &df).await.unwrap();

        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("config");
        let credentials = home.path().join("credentials");
        std::fs::write(
            &config,
            "[profile lab]\nregion = eu-north-1\n[profile wrong]\nregion = eu-north-1\n",
        )
        .unwrap();
        std::fs::write(
            &credentials,
            format!(
                "[lab]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
                 [wrong]\naws_access_key_id = {}\naws_secret_access_key = not-the-secret\n",
                s3io::local::ACCESS_KEY_ID,
                s3io::local::SECRET_ACCESS_KEY,
                s3io::local::ACCESS_KEY_ID,
            ),
        )
        .unwrap();
        crate::support::run_child_test("lazy::with_the_feature::profile_child", |child| {
            child
                .env("HOME", home.path())
                .env("AWS_CONFIG_FILE", &config)
                .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
                .env_remove("AWS_PROFILE")
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY")
                .env_remove("AWS_ENDPOINT_URL")
                .env_remove("AWS_REGION")
                .env("S3IO_LAZY_CHILD", t.server.endpoint_url())
        });
    }

    /// The child half of `scans_use_a_named_profile_and_a_custom_endpoint`.
    #[test]
    #[ignore = "runs as a child process of scans_use_a_named_profile_and_a_custom_endpoint"]
    fn profile_child() {
        let endpoint = std::env::var("S3IO_LAZY_CHILD").expect("run by the parent test");
        let connect = |profile: &str| {
            s3io::blocking::S3Connector::new(
                S3Connector::builder()
                    .profile(profile)
                    .endpoint_url(&endpoint),
            )
            .unwrap()
        };
        let s3 = connect("lab");
        let sums = s3
            .scan_parquet(BUCKET, "profile/*.parquet")
            .unwrap()
            .group_by([col("k")])
            .agg([col("v").sum()])
            .sort(["k"], SortMultipleOptions::default());
        let sums = s3.collect(sums).unwrap();
        assert_eq!(
            sums,
            df!("k" => ["a", "b"], "v" => [5.5, 2.0]).unwrap(),
            "the profile's keys, region and the custom endpoint reached polars"
        );
        // The profile's region, not polars' guess.
        let options = format!("{:?}", s3.polars_cloud_options(BUCKET).unwrap());
        assert!(options.contains("eu-north-1"), "{options}");
        assert!(
            !options.contains(s3io::local::SECRET_ACCESS_KEY),
            "credentials stay out of Debug: {options}"
        );

        // Another profile's keys, which the server refuses: the scan fails, with an error.
        let wrong = connect("wrong");
        let lf = wrong.scan_parquet(BUCKET, "profile/v.parquet").unwrap();
        let err = wrong.collect(lf).unwrap_err();
        eprintln!("a scan with keys the server refuses: {err}");
        assert!(
            matches!(
                err.kind(),
                s3io::ErrorKind::Credentials | s3io::ErrorKind::PermissionDenied
            ),
            "{err}"
        );
    }
}
