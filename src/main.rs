use partnerdesk::cli::{self, output};
use partnerdesk::config::Dirs;
use partnerdesk::error::exit;
use partnerdesk::logging;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let _log = logging::init(&Dirs::discover().log_dir());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            output::stderr(format_args!(
                "partnerdesk: cannot start the async runtime: {e}"
            ));
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "command failed");
            output::report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}
