//! Building blocks for the worker's tests and benchmarks, which run a worker without
//! management: a migrated database holding a server and its customers, and a registered
//! worker on the sandbox driver serving on a local port. Not used by the product itself.

use crate::{
    api::router,
    drivers::{sandbox::SandboxConfig, LiveDriver},
    registration::Status,
    Worker, WorkerConfig, WorkerState,
};
use std::path::Path;
use tokio::{net::TcpListener, sync::oneshot};
use uuid::Uuid;
use wasp_db::{on_tx, Db};
use wasp_protocol::{registry::Registration, service_token::TokenSigner};

/// A migrated SQLite database in `dir`.
pub async fn sqlite(dir: &Path) -> Result<Db, sqlx::Error> {
    let db = Db::connect(&format!("sqlite://{}/wasp.db", dir.display()), 8).await?;
    db.migrate()
        .await
        .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
    Ok(db)
}

/// Adds an active server named `name`.
pub async fn seed_server(db: &Db, server: Uuid, name: &str) -> Result<(), sqlx::Error> {
    let now = chrono::Utc::now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |conn| {
        sqlx::query(
        "INSERT INTO servers (id, name, ip_address, api_url, api_key_hash, api_key_hint, cpu_cores, ram_gb, status, created_at, updated_at) \
         VALUES ($1, $2, '127.0.0.1', 'http://127.0.0.1:9', $3, 'hint', 2, 4, 'active', $4, $4)"
    )
    .bind(server)
    .bind(name)
    .bind(format!("hash-{server}"))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    })?;
    tx.commit().await
}

/// Adds customers, placed on `server` when given, in one transaction.
pub async fn seed_customers(
    db: &Db,
    server: Option<Uuid>,
    customers: &[Uuid],
) -> Result<(), sqlx::Error> {
    let now = chrono::Utc::now();
    let mut tx = db.begin().await?;
    for id in customers {
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO customers (id, email, assigned_server_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(id)
        .bind(format!("{id}@example.com"))
        .bind(server)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        })?;
    }
    tx.commit().await
}

/// A server and one customer placed on it, whose live session this server owns (its
/// `wa_sessions` row claimed): the session's key.
pub async fn seed_live_session(db: &Db) -> Result<crate::store::SessionKey, sqlx::Error> {
    let (server, customer) = (Uuid::now_v7(), Uuid::now_v7());
    seed_server(db, server, "w").await?;
    seed_customers(db, Some(server), &[customer]).await?;
    let key = crate::store::SessionKey {
        customer,
        mode: wasp_protocol::service_token::Mode::Live,
    };
    crate::store::claim(db, key, server, "live").await?;
    Ok(key)
}

/// A worker configuration for tests: every session on the sandbox, no automatic receipts,
/// data in `dir`.
pub fn sandbox_config(dir: &Path) -> WorkerConfig {
    WorkerConfig {
        management_url: "http://127.0.0.1:9".into(),
        server_key: String::new(),
        advertise_url: None,
        data_dir: dir.to_path_buf(),
        live_driver: LiveDriver::Sandbox,
        live: Default::default(),
        sandbox: SandboxConfig {
            receipt_delay: None,
            ..Default::default()
        },
        media_allow_private: false,
        webhook_allow_private: true,
        webhook_https_only: false,
        metrics_token: None,
    }
}

/// A worker registered as `server` (trusting `signer`'s service tokens), serving on a local
/// port until [`Served::stop`].
pub struct Served {
    pub worker: WorkerState,
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Served {
    /// Stops serving HTTP (the worker's instances stay as they are).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a worker on `db` with `config`, registered as `server`.
pub async fn serve(
    config: WorkerConfig,
    db: &Db,
    server: Uuid,
    signer: &TokenSigner,
) -> std::io::Result<Served> {
    let worker = Worker::new(config, db.clone(), None);
    worker
        .registered(&Registration {
            server_id: server,
            name: "test".into(),
            heartbeat_interval_secs: 5,
            service_token_key: signer.public_key(),
        })
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    worker.registration.send_replace(Status::Registered {
        server_id: server,
        name: "test".into(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = router::router(worker.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Served {
        worker,
        url,
        stop: Some(stop),
    })
}

/// A PostgreSQL database for one test (`WASP_TEST_POSTGRES_URL` names the server, default
/// the local one with trust authentication), dropped when this goes out of scope.
pub struct PgDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDb {
    /// Creates a fresh database; panics when PostgreSQL cannot be reached (tests only).
    pub fn create(tag: &str) -> PgDb {
        let admin_url = std::env::var("WASP_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("wasp_t_{tag}_{}", Uuid::new_v4().simple());
        assert!(
            psql(&admin_url, &format!("CREATE DATABASE {name}")),
            "PostgreSQL reachable at WASP_TEST_POSTGRES_URL"
        );
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&admin_url);
        let url = format!("{base}/{name}");
        PgDb {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement with `psql`; false when it failed.
pub fn psql(url: &str, sql: &str) -> bool {
    std::process::Command::new("psql")
        .arg(url)
        .arg("-qAtc")
        .arg(sql)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
