//! The `wasp` binary: parses the command line and starts roles.
#![forbid(unsafe_code)]

mod web;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::{net::SocketAddr, path::PathBuf, process::ExitCode};
use wasp_management::{
    auth::Role,
    db::{Backend, Db},
    operators::{self, Bootstrap},
    AppState, Config,
};

#[derive(Parser)]
#[command(
    name = "wasp",
    version,
    about = "wasp: a multi-server WhatsApp API platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process on an embedded SQLite database (first run, demo, small operator).
    Up(ServeArgs),
    /// Run the management role (admin API, gateway, registry) against WASP_DATABASE_URL.
    Management(ServeArgs),
    /// Run a worker role (WhatsApp sessions); registers with WASP_MANAGEMENT_URL.
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Manage operators (admin users) from the shell.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Directory for the embedded database, the generated secret and caches.
    #[arg(
        long,
        env = "WASP_DATA_DIR",
        value_name = "WASP_DATA_DIR",
        default_value = "wasp-data"
    )]
    data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; defaults to `sqlite://<data dir>/wasp.db`.
    #[arg(
        long,
        env = "WASP_DATABASE_URL",
        value_name = "WASP_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Pepper for key digests and signing key for tokens (at least 32 characters). Generated
    /// and kept in the data dir when unset with SQLite; required with PostgreSQL.
    #[arg(
        long,
        env = "WASP_SECRET_KEY",
        value_name = "WASP_SECRET_KEY",
        hide_env_values = true
    )]
    secret_key: Option<String>,
}

/// How the worker drives WhatsApp sessions (in `wasp worker` and `wasp up`).
#[derive(Args, Clone)]
struct DriverArgs {
    /// Driver of live (`ak_live_`) sessions: `live` (WhatsApp) or `sandbox` (the simulated
    /// network, for machines without WhatsApp access). Test keys always use the sandbox.
    #[arg(long, env = "WASP_WORKER_DRIVER", value_name = "WASP_WORKER_DRIVER", value_enum, default_value_t = DriverKind::Live)]
    worker_driver: DriverKind,
    /// Sandbox: milliseconds before a contact's phone reports "delivered" (and as long again
    /// until "read"); 0 turns automatic receipts off.
    #[arg(
        long,
        env = "WASP_SANDBOX_RECEIPT_DELAY_MS",
        value_name = "WASP_SANDBOX_RECEIPT_DELAY_MS",
        default_value_t = 1500
    )]
    sandbox_receipt_delay_ms: u64,
    /// Sandbox: milliseconds before a dropped connection comes back.
    #[arg(
        long,
        env = "WASP_SANDBOX_RECONNECT_DELAY_MS",
        value_name = "WASP_SANDBOX_RECONNECT_DELAY_MS",
        default_value_t = 2000
    )]
    sandbox_reconnect_delay_ms: u64,
    /// Let media URLs (`image_url`, …) point to private and loopback addresses. Off by
    /// default: such URLs are refused (SSRF). For development only.
    #[arg(long, env = "WASP_MEDIA_ALLOW_PRIVATE", value_name = "WASP_MEDIA_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    media_allow_private: bool,
    /// Let webhook endpoints be private and loopback addresses. Off by default: they are
    /// refused when created and at every delivery (SSRF). For development only.
    #[arg(long, env = "WASP_WEBHOOK_ALLOW_PRIVATE", value_name = "WASP_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    webhook_allow_private: bool,
    /// Refuse webhook endpoints that are not https.
    #[arg(long, env = "WASP_WEBHOOK_HTTPS_ONLY", value_name = "WASP_WEBHOOK_HTTPS_ONLY", default_value_t = false, action = clap::ArgAction::Set)]
    webhook_https_only: bool,
    /// Live sessions: seconds a login waits for WhatsApp's first QR or pair code before it
    /// answers DRIVER_UNAVAILABLE (WhatsApp unreachable from this server). Covers the
    /// library's websocket connect (up to 20 s), the handshake and the pairing request.
    #[arg(
        long,
        env = "WASP_LIVE_LOGIN_TIMEOUT_SECS",
        value_name = "WASP_LIVE_LOGIN_TIMEOUT_SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=300)
    )]
    live_login_timeout_secs: u64,
    /// Live sessions: the WhatsApp Web client version to announce, e.g. 2.3000.1042742319.
    /// Unset: fetched from WhatsApp once a day for the whole worker, falling back to the
    /// last fetched or the version built in when the fetch fails.
    #[arg(
        long,
        env = "WASP_LIVE_CLIENT_VERSION",
        value_name = "WASP_LIVE_CLIENT_VERSION"
    )]
    live_client_version: Option<wasp_worker::drivers::live::version::Version>,
    /// Live sessions: the websocket to dial instead of WhatsApp's own
    /// (wss://web.whatsapp.com/ws/chat): a WhatsApp-compatible relay, or the tests' fake
    /// WhatsApp. Leave unset in production.
    #[arg(long, env = "WASP_LIVE_WS_URL", value_name = "WASP_LIVE_WS_URL")]
    live_ws_url: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DriverKind {
    Live,
    Sandbox,
}

impl DriverArgs {
    fn live_driver(&self) -> wasp_worker::drivers::LiveDriver {
        match self.worker_driver {
            DriverKind::Live => wasp_worker::drivers::LiveDriver::Live,
            DriverKind::Sandbox => wasp_worker::drivers::LiveDriver::Sandbox,
        }
    }

    fn live(&self) -> wasp_worker::drivers::live::LiveConfig {
        use wasp_worker::drivers::live::version::ClientVersion;
        let version = match (self.live_client_version, self.worker_driver) {
            (Some(pinned), _) => ClientVersion::pinned(pinned),
            (None, DriverKind::Live) => ClientVersion::fetched(),
            (None, DriverKind::Sandbox) => ClientVersion::built_in(),
        };
        wasp_worker::drivers::live::LiveConfig {
            transport: None,
            ws_url: self.live_ws_url.clone(),
            login_timeout: std::time::Duration::from_secs(self.live_login_timeout_secs),
            version: std::sync::Arc::new(version),
        }
    }

    fn sandbox(&self) -> wasp_worker::drivers::sandbox::SandboxConfig {
        wasp_worker::drivers::sandbox::SandboxConfig {
            receipt_delay: (self.sandbox_receipt_delay_ms > 0)
                .then(|| std::time::Duration::from_millis(self.sandbox_receipt_delay_ms)),
            reconnect_delay: std::time::Duration::from_millis(self.sandbox_reconnect_delay_ms),
            ..Default::default()
        }
    }
}

#[derive(Args, Clone)]
struct LogArgs {
    /// Log filter, e.g. `info` or `wasp_management=debug,info`.
    #[arg(
        long,
        env = "WASP_LOG",
        value_name = "WASP_LOG",
        default_value = "info"
    )]
    log: String,
    /// Log format.
    #[arg(long, env = "WASP_LOG_FORMAT", value_name = "WASP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Bearer token a Prometheus on another host sends to read /metrics (this host reads
    /// them without it; unset, only this host can).
    #[arg(
        long,
        env = "WASP_METRICS_TOKEN",
        value_name = "WASP_METRICS_TOKEN",
        hide_env_values = true
    )]
    metrics_token: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    driver: DriverArgs,
    /// Address the HTTP API listens on.
    #[arg(
        long,
        env = "WASP_HTTP_ADDR",
        value_name = "WASP_HTTP_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    http_addr: SocketAddr,
    /// Public base URL (for links shown to customers); defaults to http://<http addr>.
    #[arg(long, env = "WASP_PUBLIC_URL", value_name = "WASP_PUBLIC_URL")]
    public_url: Option<String>,
    /// Serve the web UI from this directory (a `next build` export, such as `web/out`)
    /// instead of the build embedded in the binary: for developing the UI.
    #[arg(long, env = "WASP_WEB_DIR", value_name = "WASP_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// Redis (`redis://host:6379/0`) for plan-limit counters shared by every management
    /// replica; unset counts in this process.
    #[arg(
        long,
        env = "WASP_REDIS_URL",
        value_name = "WASP_REDIS_URL",
        hide_env_values = true
    )]
    redis_url: Option<String>,
    /// Prefix of the Redis keys wasp writes.
    #[arg(
        long,
        env = "WASP_REDIS_PREFIX",
        value_name = "WASP_REDIS_PREFIX",
        default_value = "wasp:"
    )]
    redis_prefix: String,
    /// Email of the first super admin, created on an empty database.
    #[arg(long, env = "WASP_ADMIN_EMAIL", value_name = "WASP_ADMIN_EMAIL")]
    admin_email: Option<String>,
    /// Password of the first super admin; generated and printed once when unset.
    #[arg(
        long,
        env = "WASP_ADMIN_PASSWORD",
        value_name = "WASP_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    admin_password: Option<String>,
    /// Mark session cookies Secure (browsers accept them on http://localhost too).
    #[arg(long, env = "WASP_COOKIE_SECURE", value_name = "WASP_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    cookie_secure: bool,
    /// Send Strict-Transport-Security (enable when served over HTTPS).
    #[arg(long, env = "WASP_HSTS", value_name = "WASP_HSTS", default_value_t = false, action = clap::ArgAction::Set)]
    hsts: bool,
    /// Trust X-Forwarded-For for the client address (only behind your own reverse proxy).
    #[arg(long, env = "WASP_TRUST_PROXY", value_name = "WASP_TRUST_PROXY", default_value_t = false, action = clap::ArgAction::Set)]
    trust_proxy: bool,
    /// Days audit rows are kept (minimum 90).
    #[arg(
        long,
        env = "WASP_AUDIT_RETENTION_DAYS",
        value_name = "WASP_AUDIT_RETENTION_DAYS",
        default_value_t = 365
    )]
    audit_retention_days: u32,
    /// Hours raw heartbeats and per-minute metric buckets are kept (charts up to a day).
    #[arg(
        long,
        env = "WASP_METRICS_RAW_RETENTION_HOURS",
        value_name = "WASP_METRICS_RAW_RETENTION_HOURS",
        default_value_t = 48
    )]
    metrics_raw_retention_hours: u32,
    /// Days per-hour metric buckets are kept (charts over weeks and months).
    #[arg(
        long,
        env = "WASP_METRICS_RETENTION_DAYS",
        value_name = "WASP_METRICS_RETENTION_DAYS",
        default_value_t = 400
    )]
    metrics_retention_days: u32,
    /// `up` only: customers the in-process worker may hold.
    #[arg(
        long,
        env = "WASP_LOCAL_CAPACITY",
        value_name = "WASP_LOCAL_CAPACITY",
        default_value_t = 1000
    )]
    local_capacity: i32,
    /// `up` only: address of the in-process worker's API (port 0 picks a free one).
    #[arg(
        long,
        env = "WASP_WORKER_ADDR",
        value_name = "WASP_WORKER_ADDR",
        default_value = "127.0.0.1:0"
    )]
    worker_addr: SocketAddr,
    /// Database connections in the pool.
    #[arg(
        long,
        env = "WASP_DATABASE_MAX_CONNECTIONS",
        value_name = "WASP_DATABASE_MAX_CONNECTIONS",
        default_value_t = 16
    )]
    database_max_connections: u32,
    /// Requests a minute per client address that carry no credential or a refused one,
    /// before each further one is a strike (abuse.rs).
    #[arg(
        long,
        env = "WASP_ABUSE_FAILURES_PER_MINUTE",
        value_name = "WASP_ABUSE_FAILURES_PER_MINUTE",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    abuse_failures_per_minute: u32,
    /// Strikes within ten minutes that ban the address.
    #[arg(
        long,
        env = "WASP_ABUSE_STRIKES",
        value_name = "WASP_ABUSE_STRIKES",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    abuse_strikes: u32,
    /// How long a ban lasts, in seconds.
    #[arg(
        long,
        env = "WASP_ABUSE_BAN_SECS",
        value_name = "WASP_ABUSE_BAN_SECS",
        default_value_t = 600,
        value_parser = clap::value_parser!(u64).range(1..=604_800)
    )]
    abuse_ban_secs: u64,
    /// Who may create a customer account: `open` (anyone, on the dashboard's sign-up page)
    /// or `closed` (operators only). Default: open for `up`, closed for `management`.
    #[arg(long, env = "WASP_SIGNUP", value_name = "WASP_SIGNUP", value_enum)]
    signup: Option<SignupMode>,
    /// SMTP server for customer mail (sign-up, password reset):
    /// smtps://user:pass@host:465 or smtp://user:pass@host:587?tls=required. Unset, mail is
    /// appended to <data dir>/outbox.jsonl.
    #[arg(
        long,
        env = "WASP_SMTP_URL",
        value_name = "WASP_SMTP_URL",
        hide_env_values = true
    )]
    smtp_url: Option<String>,
    /// Sender of customer mail, e.g. `wasp <noreply@example.com>` (with WASP_SMTP_URL).
    #[arg(long, env = "WASP_SMTP_FROM", value_name = "WASP_SMTP_FROM")]
    smtp_from: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SignupMode {
    Open,
    Closed,
}

#[derive(Args, Clone)]
struct WorkerArgs {
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    driver: DriverArgs,
    /// Address the worker API listens on (management must reach it).
    #[arg(
        long,
        env = "WASP_HTTP_ADDR",
        value_name = "WASP_HTTP_ADDR",
        default_value = "127.0.0.1:8081"
    )]
    http_addr: SocketAddr,
    /// The URL management should use to reach this worker; defaults to what the operator entered.
    #[arg(long, env = "WASP_ADVERTISE_URL", value_name = "WASP_ADVERTISE_URL")]
    advertise_url: Option<String>,
    /// Management base URL, e.g. https://wasp.example.com.
    #[arg(long, env = "WASP_MANAGEMENT_URL", value_name = "WASP_MANAGEMENT_URL")]
    management_url: Option<String>,
    /// The one-time `ak_server_…` key from "add server".
    #[arg(
        long,
        env = "WASP_SERVER_KEY",
        value_name = "WASP_SERVER_KEY",
        hide_env_values = true
    )]
    server_key: Option<String>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an operator; prints a generated password when --password is not given.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Admin)]
        role: RoleArg,
        #[arg(long)]
        full_name: Option<String>,
        /// At least 12 characters; prefer the WASP_NEW_ADMIN_PASSWORD variable over the flag.
        #[arg(
            long,
            env = "WASP_NEW_ADMIN_PASSWORD",
            value_name = "WASP_NEW_ADMIN_PASSWORD",
            hide_env_values = true
        )]
        password: Option<String>,
    },
    /// Set a new password (generated and printed unless given); unlocks the account and ends
    /// its sessions.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(
            long,
            env = "WASP_NEW_ADMIN_PASSWORD",
            value_name = "WASP_NEW_ADMIN_PASSWORD",
            hide_env_values = true
        )]
        password: Option<String>,
    },
    /// List operators.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    SuperAdmin,
    Admin,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::SuperAdmin => Role::SuperAdmin,
            RoleArg::Admin => Role::Admin,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wasp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasp: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Up(args) => serve(args, "up").await,
        Command::Management(args) => serve(args, "management").await,
        Command::Worker(args) => worker(args).await,
        Command::Migrate(db) => {
            let (db, _) = open_db(&db, 2, true).await?;
            println!("migrations applied");
            db.close().await;
            Ok(())
        }
        Command::Admin { command } => admin(command).await,
        Command::Openapi => {
            let doc = wasp_management::router::openapi_with(wasp_worker::api::openapi());
            println!(
                "{}",
                doc.to_pretty_json()
                    .context("serialising the OpenAPI document")?
            );
            Ok(())
        }
    }
}

fn init_logging(args: &LogArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .with_context(|| format!("WASP_LOG: `{}` is not a valid log filter", args.log))?;
    // Every line passes the sanitiser: no key, token or password in a log, phone numbers
    // cut to their last four digits. One-time secrets go to stdout instead.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(wasp_http::sanitize::SanitizingWriter(std::io::stderr));
    match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
    .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}

/// The database URL, defaulting to SQLite under the data dir (created if needed).
fn database_url(args: &DbArgs) -> Result<String> {
    match &args.database_url {
        Some(url) => {
            if Backend::of_url(url).is_none() {
                bail!("WASP_DATABASE_URL must start with postgres://, postgresql:// or sqlite://");
            }
            Ok(url.clone())
        }
        None => {
            private_dir(&args.data_dir)?;
            let path = args.data_dir.join("wasp.db");
            private_database(&path)
                .with_context(|| format!("WASP_DATA_DIR: cannot secure `{}`", path.display()))?;
            Ok(format!("sqlite://{}", path.display()))
        }
    }
}

/// The server secret: given, or kept in the data dir for the embedded mode.
fn secret_key(args: &DbArgs, backend: Backend) -> Result<Vec<u8>> {
    if let Some(secret) = &args.secret_key {
        if secret.len() < 32 {
            bail!("WASP_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)");
        }
        return Ok(secret.as_bytes().to_vec());
    }
    if backend == Backend::Postgres {
        bail!(
            "WASP_SECRET_KEY is required with PostgreSQL: every management replica must share it"
        );
    }
    let path = args.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => bail!(
            "WASP_DATA_DIR: `{}` is too short; remove it or set WASP_SECRET_KEY",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            private_dir(&args.data_dir)?;
            let secret = wasp_management::crypto::generate_password(64);
            write_private(&path, &secret)
                .with_context(|| format!("WASP_DATA_DIR: cannot write `{}`", path.display()))?;
            Ok(secret.into_bytes())
        }
        Err(e) => {
            Err(e).with_context(|| format!("WASP_DATA_DIR: cannot read `{}`", path.display()))
        }
    }
}

/// Creates the data directory readable by this user only (0700: it holds the database, the
/// secret and customers' media), and takes group and other access away from one that exists.
fn private_dir(dir: &std::path::Path) -> Result<()> {
    let fail = || format!("WASP_DATA_DIR: cannot create `{}`", dir.display());
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir).with_context(fail)?;
        let mode = std::fs::metadata(dir)
            .with_context(fail)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))
                .with_context(|| format!("WASP_DATA_DIR: cannot restrict `{}`", dir.display()))?;
        }
    }
    #[cfg(not(unix))]
    builder.create(dir).with_context(fail)?;
    Ok(())
}

/// The embedded database file readable by this user only (0600), created empty if missing
/// (SQLite creates its `-wal` and `-shm` files with the database file's permissions), and
/// an existing database and its companions restricted the same way.
fn private_database(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

async fn open_db(args: &DbArgs, max_connections: u32, migrate: bool) -> Result<(Db, Backend)> {
    let url = database_url(args)?;
    let backend = Backend::of_url(&url).context("WASP_DATABASE_URL: unknown scheme")?;
    let db = Db::connect(&url, max_connections)
        .await
        .context("WASP_DATABASE_URL: cannot connect to the database")?;
    if migrate {
        db.migrate().await.context("applying database migrations")?;
    }
    Ok((db, backend))
}

async fn serve(args: ServeArgs, role: &'static str) -> Result<()> {
    init_logging(&args.log)?;
    if args.audit_retention_days < 90 {
        bail!("WASP_AUDIT_RETENTION_DAYS must be at least 90");
    }
    if args.metrics_raw_retention_hours < 24 {
        bail!("WASP_METRICS_RAW_RETENTION_HOURS must be at least 24 (the day chart reads them)");
    }
    if args.metrics_retention_days < 31 {
        bail!("WASP_METRICS_RETENTION_DAYS must be at least 31 (the month chart reads them)");
    }
    if let Some(url) = &args.public_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("WASP_PUBLIC_URL must start with http:// or https://");
        }
    }
    let started = std::time::Instant::now();
    // Check the secret before touching the database, so bad settings change nothing.
    let backend =
        Backend::of_url(&database_url(&args.db)?).context("WASP_DATABASE_URL: unknown scheme")?;
    let secret = secret_key(&args.db, backend)?;
    let (db, _) = open_db(&args.db, args.database_max_connections, true).await?;
    match operators::bootstrap(
        &db,
        args.admin_email.as_deref(),
        args.admin_password.as_deref(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating the first operator: {e}"))?
    {
        Bootstrap::Existing => {}
        Bootstrap::Created { email } => tracing::info!(%email, "created the first super admin"),
        Bootstrap::Generated { email, password } => {
            // Printed once, to the terminal only, never through the logger.
            println!(
                "\n  First super admin created.\n    email:    {email}\n    password: {password}\n  \
                 It is shown only now: sign in and change it, or reset it with `wasp admin reset-password`.\n"
            );
        }
    }
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok();
    let mut config = Config::local(args.http_addr);
    config.public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.http_addr));
    config.cookie_secure = args.cookie_secure;
    config.hsts = args.hsts;
    config.trust_proxy = args.trust_proxy;
    config.audit_retention_days = args.audit_retention_days;
    config.metrics_retention = wasp_management::metrics::Retention {
        raw_hours: args.metrics_raw_retention_hours,
        hourly_days: args.metrics_retention_days,
    };
    config.metrics_token = args.log.metrics_token.clone();
    if let Some(url) = &args.redis_url {
        check_redis(url).await?;
    }
    config.redis_url = args.redis_url.clone();
    config.redis_prefix = args.redis_prefix.clone();
    config.abuse = wasp_management::abuse::AbuseLimits {
        failures_per_minute: args.abuse_failures_per_minute,
        strikes_before_ban: args.abuse_strikes,
        ban: std::time::Duration::from_secs(args.abuse_ban_secs),
    };
    config.signup_open = match args.signup {
        Some(mode) => mode == SignupMode::Open,
        None => role == "up",
    };
    config.mail = wasp_management::mail::MailConfig {
        smtp_url: args.smtp_url.clone(),
        smtp_from: args.smtp_from.clone(),
        outbox: Some(args.db.data_dir.join("outbox.jsonl")),
    };
    wasp_management::mail::Mailer::new(&config.mail).map_err(|e| anyhow::anyhow!(e))?;
    if args.smtp_url.is_none() {
        tracing::info!(outbox = %args.db.data_dir.join("outbox.jsonl").display(),
            "customer mail goes to the outbox file; set WASP_SMTP_URL and WASP_SMTP_FROM to send it");
    }
    let listener = tokio::net::TcpListener::bind(args.http_addr)
        .await
        .with_context(|| format!("WASP_HTTP_ADDR: cannot listen on {}", args.http_addr))?;
    let state = AppState::new(db.clone(), config, &secret, metrics.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let in_process_worker = if role == "up" {
        Some(
            start_local_worker(
                &state,
                &args,
                listener.local_addr()?,
                metrics,
                stop_rx.clone(),
            )
            .await?,
        )
    } else {
        None
    };
    tracing::info!(
        role,
        addr = %args.http_addr,
        database = ?backend,
        startup_ms = started.elapsed().as_millis() as u64,
        "wasp is listening on http://{}", args.http_addr
    );
    // The document at /api/openapi.json describes the customer API too, which the
    // gateway passes to workers.
    wasp_management::app::serve_with(
        state,
        listener,
        stopped(stop_rx),
        wasp_worker::api::openapi(),
        web::ui(args.web_dir.as_deref()),
    )
    .await
    .context("serving HTTP")?;
    if let Some(worker) = in_process_worker {
        match worker.await {
            Ok(Err(e)) => tracing::error!(error = %e, "in-process worker failed"),
            Err(e) => tracing::error!(error = %e, "in-process worker panicked"),
            Ok(Ok(())) => {}
        }
    }
    db.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Completes when the stop flag is raised.
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// `wasp up`: gives the in-process worker its server row and key, and starts it.
async fn start_local_worker(
    state: &AppState,
    args: &ServeArgs,
    management_addr: SocketAddr,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<Result<(), wasp_worker::StartError>>> {
    let listener = tokio::net::TcpListener::bind(args.worker_addr)
        .await
        .with_context(|| format!("WASP_WORKER_ADDR: cannot listen on {}", args.worker_addr))?;
    let worker_url = format!("http://{}", listener.local_addr()?);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as i32)
        .unwrap_or(1);
    let ram_gb = {
        let mut system = sysinfo::System::new();
        system.refresh_memory();
        ((system.total_memory() / (1024 * 1024 * 1024)) as i32).max(1)
    };
    let key = wasp_management::servers::ensure_local(
        state,
        &worker_url,
        args.local_capacity,
        cores,
        ram_gb,
    )
    .await
    .map_err(|e| anyhow::anyhow!("preparing the in-process worker: {e}"))?;
    let loopback = SocketAddr::new(
        if management_addr.ip().is_unspecified() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            management_addr.ip()
        },
        management_addr.port(),
    );
    let worker = wasp_worker::Worker::new(
        wasp_worker::WorkerConfig {
            management_url: format!("http://{loopback}"),
            server_key: key.expose().to_owned(),
            advertise_url: Some(worker_url.clone()),
            data_dir: args.db.data_dir.clone(),
            live_driver: args.driver.live_driver(),
            live: args.driver.live(),
            sandbox: args.driver.sandbox(),
            media_allow_private: args.driver.media_allow_private,
            webhook_allow_private: args.driver.webhook_allow_private,
            webhook_https_only: args.driver.webhook_https_only,
            metrics_token: args.log.metrics_token.clone(),
        },
        state.db.clone(),
        metrics,
    );
    tracing::info!(url = %worker_url, "in-process worker listening");
    Ok(tokio::spawn(wasp_worker::run(
        worker,
        listener,
        stopped(stop),
    )))
}

async fn worker(args: WorkerArgs) -> Result<()> {
    init_logging(&args.log)?;
    let management_url = args
        .management_url
        .clone()
        .context("WASP_MANAGEMENT_URL is required for a worker")?;
    if !(management_url.starts_with("http://") || management_url.starts_with("https://")) {
        bail!("WASP_MANAGEMENT_URL must start with http:// or https://");
    }
    let server_key = args
        .server_key
        .clone()
        .context("WASP_SERVER_KEY is required for a worker")?;
    match wasp_protocol::SecretKey::parse(&server_key) {
        Ok(k) if k.kind() == wasp_protocol::KeyKind::Server => {}
        _ => bail!("WASP_SERVER_KEY is not a server key (it starts with ak_server_ and is shown once when the server is added)"),
    }
    if let Some(url) = &args.advertise_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("WASP_ADVERTISE_URL must start with http:// or https://");
        }
    }
    if args.db.database_url.is_none() {
        bail!("WASP_DATABASE_URL is required for a worker: the database management uses (sessions and chats live there)");
    }
    private_dir(&args.db.data_dir)?;
    // Management applies migrations; the worker only connects.
    let (db, _) = open_db(&args.db, 16, false).await?;
    let listener = tokio::net::TcpListener::bind(args.http_addr)
        .await
        .with_context(|| format!("WASP_HTTP_ADDR: cannot listen on {}", args.http_addr))?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok();
    let worker = wasp_worker::Worker::new(
        wasp_worker::WorkerConfig {
            management_url,
            server_key,
            advertise_url: args.advertise_url.clone(),
            data_dir: args.db.data_dir.clone(),
            live_driver: args.driver.live_driver(),
            live: args.driver.live(),
            sandbox: args.driver.sandbox(),
            media_allow_private: args.driver.media_allow_private,
            webhook_allow_private: args.driver.webhook_allow_private,
            webhook_https_only: args.driver.webhook_https_only,
            metrics_token: args.log.metrics_token.clone(),
        },
        db.clone(),
        metrics,
    );
    tracing::info!(addr = %args.http_addr, "worker listening; registering with management");
    wasp_worker::run(worker, listener, shutdown_signal()).await?;
    db.close().await;
    tracing::info!("worker stopped cleanly");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn admin(command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::Create {
            db,
            email,
            role,
            full_name,
            password,
        } => {
            let (pool, _) = open_db(&db, 2, true).await?;
            let mut tx = pool.begin().await?;
            let (operator, generated) = operators::insert(
                &mut tx,
                &email,
                full_name.as_deref(),
                role.into(),
                password.as_deref(),
                // A generated password is handed to the operator: theirs to replace.
                password.is_none(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            wasp_management::audit::AuditEvent::system("create_operator_cli")
                .resource("admin_user", operator.id)
                .metadata(serde_json_value(&operator.email, &operator.role))
                .write(&mut tx)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tx.commit().await?;
            println!("created {} ({})", operator.email, operator.role);
            if let Some(password) = generated {
                println!("password: {password}\n(shown only now)");
            }
            pool.close().await;
            Ok(())
        }
        AdminCommand::ResetPassword {
            db,
            email,
            password,
        } => {
            let (pool, _) = open_db(&db, 2, true).await?;
            let id = operators::id_by_email(&pool, &email)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut tx = pool.begin().await?;
            let generated =
                operators::reset_password(&mut tx, id, password.as_deref(), password.is_none())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            wasp_management::audit::AuditEvent::system("reset_operator_password_cli")
                .resource("admin_user", id)
                .write(&mut tx)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tx.commit().await?;
            println!("password reset for {email}; its sessions were ended and any lock cleared");
            if let Some(password) = generated {
                println!("password: {password}\n(shown only now)");
            }
            pool.close().await;
            Ok(())
        }
        AdminCommand::List { db } => {
            let (pool, _) = open_db(&db, 2, true).await?;
            let list = operators::list(&pool)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{:<38} {:<32} {:<12} {:<6} {:<4}",
                "ID", "EMAIL", "ROLE", "ACTIVE", "MFA"
            );
            for op in list {
                println!(
                    "{:<38} {:<32} {:<12} {:<6} {:<4}",
                    op.id, op.email, op.role, op.is_active, op.mfa_enabled
                );
            }
            pool.close().await;
            Ok(())
        }
    }
}

fn serde_json_value(email: &str, role: &str) -> serde_json::Value {
    serde_json::json!({ "email": email, "role": role })
}

/// Refuses to start with a Redis that cannot be used, naming the variable (the URL, which
/// may hold a password, is not printed).
async fn check_redis(url: &str) -> anyhow::Result<()> {
    let client = redis::Client::open(url)
        .map_err(|_| anyhow::anyhow!("WASP_REDIS_URL: not a valid Redis URL"))?;
    let mut conn = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| anyhow::anyhow!("WASP_REDIS_URL: Redis did not answer within 5 seconds"))?
    .map_err(|e| anyhow::anyhow!("WASP_REDIS_URL: cannot connect to Redis ({:?})", e.kind()))?;
    let _: String = redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .map_err(|e| anyhow::anyhow!("WASP_REDIS_URL: Redis refused PING ({:?})", e.kind()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// The served document is management's with the customer API merged in whole: every
    /// path and schema of the workers' document, unchanged, and no operation id twice.
    #[test]
    fn the_served_document_holds_the_customer_api_whole() {
        let customer = serde_json::to_value(wasp_worker::api::openapi()).unwrap();
        let merged = serde_json::to_value(wasp_management::router::openapi_with(
            wasp_worker::api::openapi(),
        ))
        .unwrap();
        for (path, item) in customer["paths"].as_object().unwrap() {
            assert_eq!(&merged["paths"][path], item, "{path}");
        }
        for (name, schema) in customer["components"]["schemas"].as_object().unwrap() {
            assert_eq!(
                &merged["components"]["schemas"][name], schema,
                "schema {name} collides with one of management's"
            );
        }
        assert!(merged["paths"]["/api/admin/servers"].is_object());
        assert!(merged["paths"]["/api/v1/keys"].is_object());
        let scheme = &merged["components"]["securitySchemes"]["api_key"];
        assert_eq!(scheme["name"], "X-API-Key");
        assert_eq!(scheme["in"], "header");
        let mut ids = std::collections::BTreeSet::new();
        for item in merged["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    assert!(ids.insert(id.to_owned()), "operationId {id} twice");
                }
            }
        }
        let tags: Vec<&str> = merged["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        for tag in ["servers", "send", "group", "sandbox"] {
            assert!(tags.contains(&tag), "{tag}");
        }
    }
}
