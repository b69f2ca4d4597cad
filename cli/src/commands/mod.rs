//! The commands, one file each: its arguments (as clap parses them), the checks that involve
//! more than one argument, and what it does.

use clap::Subcommand;
use s3io::S3Connector;

use crate::failure::Outcome;
use crate::progress::Bars;

mod cat;
mod convert;
mod cp;
mod head;
mod ls;
mod mb;
mod mv;
mod presign;
mod rb;
mod rm;
mod schema;
mod stat;
mod sync;
mod whoami;

/// What every command works with: the connector and the progress bars.
pub struct Context {
    pub s3: S3Connector,
    pub bars: Bars,
}

impl Context {
    /// This context with a connector that stores `upload`'s settings with what it uploads
    /// and copies.
    pub fn with_upload(&self, upload: &crate::arguments::UploadArgs) -> Context {
        let options = upload.options();
        let s3 = if options == s3io::UploadOptions::default() {
            self.s3.clone()
        } else {
            self.s3.with_upload_options(options)
        };
        Context {
            s3,
            bars: self.bars.clone(),
        }
    }
}

/// One command, with its arguments.
#[derive(Subcommand)]
pub enum Command {
    Ls(ls::LsArgs),
    Cat(cat::CatArgs),
    Head(head::HeadArgs),
    Schema(schema::SchemaArgs),
    Cp(cp::CpArgs),
    Mv(mv::MvArgs),
    Sync(sync::SyncArgs),
    Stat(stat::StatArgs),
    Convert(convert::ConvertArgs),
    Rm(rm::RmArgs),
    Presign(presign::PresignArgs),
    Whoami(whoami::WhoamiArgs),
    Mb(mb::MbArgs),
    Rb(rb::RbArgs),
}

impl Command {
    /// The checks clap cannot make alone: arguments that make sense only together.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Command::Head(args) => args.check(),
            Command::Schema(args) => args.check(),
            Command::Cp(args) => args.check(),
            Command::Mv(args) => args.check(),
            Command::Sync(args) => args.check(),
            Command::Convert(args) => args.check(),
            Command::Rm(args) => args.check(),
            Command::Ls(_)
            | Command::Cat(_)
            | Command::Presign(_)
            | Command::Stat(_)
            | Command::Whoami(_)
            | Command::Mb(_)
            | Command::Rb(_) => Ok(()),
        }
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        match self {
            Command::Ls(args) => args.run(ctx).await,
            Command::Cat(args) => args.run(ctx).await,
            Command::Head(args) => args.run(ctx).await,
            Command::Schema(args) => args.run(ctx).await,
            Command::Cp(args) => args.run(ctx).await,
            Command::Mv(args) => args.run(ctx).await,
            Command::Sync(args) => args.run(ctx).await,
            Command::Stat(args) => args.run(ctx).await,
            Command::Convert(args) => args.run(ctx).await,
            Command::Rm(args) => args.run(ctx).await,
            Command::Presign(args) => args.run(ctx).await,
            Command::Whoami(args) => args.run(ctx).await,
            Command::Mb(args) => args.run(ctx).await,
            Command::Rb(args) => args.run(ctx).await,
        }
    }
}
