//! Customer mail (e-mail verification, password reset, sign-up notices): over SMTP when
//! `WASP_SMTP_URL` and `WASP_SMTP_FROM` are set (lettre on tokio, TLS by rustls), otherwise
//! appended as one JSON line per mail (`{to, subject, text, link, created_at}`) to the
//! outbox file `<data dir>/outbox.jsonl` (mode 0600), where an operator without a mail
//! server, or a test, reads it.
//!
//! Handlers never wait for a mail: [`Mailer::send_later`] sends it in the background, so how
//! long an answer takes does not tell whether a mail was sent (whether an account exists).
//! Mails carry one-time links; neither the links nor the SMTP credentials are logged.

use chrono::Utc;
use lettre::{message::Mailbox, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use std::{path::PathBuf, sync::Arc};

/// Where mail goes (see the module's doc).
#[derive(Clone, Default)]
pub struct MailConfig {
    /// `smtps://user:pass@host:465` or `smtp://user:pass@host:587?tls=required`.
    pub smtp_url: Option<String>,
    /// The sender, `wasp <noreply@example.com>` or `noreply@example.com`.
    pub smtp_from: Option<String>,
    /// The outbox file, used when there is no SMTP server.
    pub outbox: Option<PathBuf>,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SMTP URL carries a password.
        f.debug_struct("MailConfig")
            .field("smtp", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("smtp_from", &self.smtp_from)
            .field("outbox", &self.outbox)
            .finish()
    }
}

/// One mail to a customer.
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The one-time link the text carries, if any (also in the outbox line, for tooling).
    pub link: Option<String>,
}

/// Sends customer mail.
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Outbox {
        path: PathBuf,
        /// One line at a time.
        lock: tokio::sync::Mutex<()>,
    },
    /// Neither SMTP nor an outbox: mails are dropped with a warning.
    Disabled,
}

impl Mailer {
    /// The mailer `config` describes; `Err` names the setting at fault.
    pub fn new(config: &MailConfig) -> Result<Mailer, String> {
        match (&config.smtp_url, &config.smtp_from) {
            (Some(url), Some(from)) => {
                let from: Mailbox = from.parse().map_err(|_| {
                    "WASP_SMTP_FROM must be an address such as `wasp <noreply@example.com>`"
                        .to_owned()
                })?;
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| {
                        "WASP_SMTP_URL must be smtps://user:pass@host:465 or smtp://user:pass@host:587?tls=required"
                            .to_owned()
                    })?
                    .build();
                Ok(Mailer::Smtp { transport, from })
            }
            (Some(_), None) => Err("WASP_SMTP_FROM is required with WASP_SMTP_URL".into()),
            (None, Some(_)) => Err("WASP_SMTP_URL is required with WASP_SMTP_FROM".into()),
            (None, None) => Ok(match &config.outbox {
                Some(path) => Mailer::Outbox {
                    path: path.clone(),
                    lock: Default::default(),
                },
                None => Mailer::Disabled,
            }),
        }
    }

    /// Sends `mail` in the background (a failure is logged).
    pub fn send_later(self: &Arc<Self>, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&mail).await {
                tracing::warn!(error = %e, subject = %mail.subject, "customer mail not sent");
            }
        });
    }

    /// Sends `mail` now.
    pub async fn send(&self, mail: &Mail) -> Result<(), String> {
        match self {
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = mail
                    .to
                    .parse()
                    .map_err(|_| "the recipient is not a valid address".to_owned())?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .body(mail.text.clone())
                    .map_err(|e| format!("cannot build the mail: {e}"))?;
                transport
                    .send(message)
                    .await
                    .map_err(|e| format!("SMTP: {e}"))?;
                tracing::info!(subject = %mail.subject, "customer mail sent");
                Ok(())
            }
            Mailer::Outbox { path, lock } => {
                let line = serde_json::json!({
                    "to": mail.to,
                    "subject": mail.subject,
                    "text": mail.text,
                    "link": mail.link,
                    "created_at": Utc::now(),
                })
                .to_string();
                let _one_at_a_time = lock.lock().await;
                let path = path.clone();
                tokio::task::spawn_blocking(move || append_private(&path, &line))
                    .await
                    .map_err(|e| format!("outbox writer failed: {e}"))?
                    .map_err(|e| format!("cannot write the outbox: {e}"))?;
                tracing::info!(subject = %mail.subject, "customer mail written to the outbox");
                Ok(())
            }
            Mailer::Disabled => {
                tracing::warn!(subject = %mail.subject,
                    "customer mail dropped: set WASP_SMTP_URL and WASP_SMTP_FROM, or a data directory for the outbox");
                Ok(())
            }
        }
    }
}

/// Appends `line` and a newline to `path`, created readable by this user only (0600; its
/// directory 0700 when created here).
fn append_private(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(format!("{line}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn smtp_needs_both_settings_and_valid_values() {
        let with = |url: Option<&str>, from: Option<&str>| MailConfig {
            smtp_url: url.map(str::to_owned),
            smtp_from: from.map(str::to_owned),
            outbox: None,
        };
        assert!(Mailer::new(&with(Some("smtps://u:p@mail.example.com:465"), None)).is_err());
        assert!(Mailer::new(&with(None, Some("a@example.com"))).is_err());
        assert!(Mailer::new(&with(
            Some("smtps://u:p@mail.example.com:465"),
            Some("not an address")
        ))
        .is_err());
        assert!(Mailer::new(&with(Some("nonsense"), Some("a@example.com"))).is_err());
        let ok = Mailer::new(&with(
            Some("smtps://u:p@mail.example.com:465"),
            Some("wasp <noreply@example.com>"),
        ));
        assert!(matches!(ok, Ok(Mailer::Smtp { .. })));
        assert!(matches!(
            Mailer::new(&with(None, None)),
            Ok(Mailer::Disabled)
        ));
        // The password never shows in a debug print.
        assert!(!format!("{:?}", with(Some("smtps://u:secret@h:465"), None)).contains("secret"));
    }

    #[tokio::test]
    async fn the_outbox_gets_one_private_json_line_per_mail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("outbox.jsonl");
        let mailer = Mailer::new(&MailConfig {
            outbox: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        for n in 0..2 {
            mailer
                .send(&Mail {
                    to: "a@example.com".into(),
                    subject: format!("Hello {n}"),
                    text: "Line one\nline two".into(),
                    link: Some("https://x/y?token=t".into()),
                })
                .await
                .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["subject"], "Hello 1");
        assert_eq!(lines[0]["link"], "https://x/y?token=t");
        assert!(lines[0]["created_at"].is_string());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
