//! `s3io whoami`: who the credentials belong to.

use std::io::{self, Write};

use clap::Args;

use super::Context;
use crate::arguments::COMMAND_HELP;
use crate::failure::{Outcome, stdout_failed};

/// What `s3io whoami --help` says below the one-line summary.
const DETAILS: &str = "\
Prints the account, ARN and user id the credentials belong to (STS GetCallerIdentity),
as JSON, like `aws sts get-caller-identity`.";

/// Show who the credentials belong to
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct WhoamiArgs {}

impl WhoamiArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        let me = ctx.s3.whoami().await?;
        let shown = serde_json::json!({
            "UserId": me.user_id,
            "Account": me.account,
            "Arn": me.arn,
        });
        writeln!(io::stdout(), "{shown:#}").map_err(stdout_failed)
    }
}
