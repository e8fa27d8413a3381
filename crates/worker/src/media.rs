//! Media of messages: what each kind accepts (size, type checked from the bytes, never
//! from the client's claim), fetching from a URL through the SSRF guard, and the
//! per-customer media files on the worker's disk (content-addressed, written atomically).

use crate::{driver::Kind, net, store::SessionKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Largest file of each kind (the request body itself is capped at 10 MB).
pub fn max_bytes(kind: Kind) -> usize {
    match kind {
        Kind::Image => 5 * 1024 * 1024,
        Kind::Sticker => 500 * 1024,
        _ => 10 * 1024 * 1024,
    }
}

/// The MIME types each kind accepts.
pub fn accepts(kind: Kind, mime: &str) -> bool {
    match kind {
        Kind::Image => matches!(mime, "image/jpeg" | "image/png" | "image/webp"),
        Kind::Sticker => mime == "image/webp",
        Kind::Audio => matches!(
            mime,
            "audio/ogg"
                | "audio/ogg; codecs=opus"
                | "audio/mpeg"
                | "audio/mp4"
                | "audio/x-m4a"
                | "audio/aac"
                | "audio/amr"
                | "audio/wav"
                | "audio/x-wav"
        ),
        Kind::Video => matches!(mime, "video/mp4" | "video/3gpp" | "video/quicktime"),
        Kind::Document => true,
        _ => false,
    }
}

/// What the bytes are, from their signature.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    infer::get(bytes).map(|t| t.mime_type())
}

/// The MIME type to record for a file of `kind`: sniffed from the bytes; for documents a
/// sane claimed type is accepted when the bytes have no signature (plain text, CSV, …).
pub fn resolve_mime(kind: Kind, bytes: &[u8], claimed: Option<&str>) -> Result<String, MediaError> {
    let sniffed = sniff(bytes);
    let mime = match (sniffed, kind) {
        // Voice notes are Opus in an Ogg container; WhatsApp labels them so.
        (Some("audio/opus"), _) => "audio/ogg; codecs=opus".to_owned(),
        (Some(m), _) => m.to_owned(),
        (None, Kind::Document) => claimed
            .filter(|c| {
                c.len() <= 100 && c.contains('/') && c.chars().all(|ch| ch.is_ascii_graphic())
            })
            .unwrap_or("application/octet-stream")
            .to_ascii_lowercase(),
        (None, _) => return Err(MediaError::Type(kind, "unknown".into())),
    };
    if accepts(kind, &mime) {
        Ok(mime)
    } else {
        Err(MediaError::Type(kind, mime))
    }
}

/// A file name safe to store and show: the last path component, no control characters,
/// at most 200 characters.
pub fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the {} is larger than {} bytes", .0.as_str(), max_bytes(*.0))]
    TooLarge(Kind),
    #[error("{kind} files of type {mime} are not accepted", kind = .0.as_str(), mime = .1)]
    Type(Kind, String),
    #[error("the URL {0}")]
    Url(#[from] net::UrlError),
    #[error("fetching the URL failed: {0}")]
    Fetch(String),
    #[error("storing the file failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Downloads `url` (at most the kind's limit), through the SSRF guard. Returns the bytes,
/// the server's Content-Type and a file name from the URL path.
/// What the customer is told of a failed fetch: that it timed out, or that the host could
/// not be reached, and no more. Whether a name does not exist, resolves only to private
/// addresses (refused by the SSRF guard) or refused the connection would tell an attacker
/// how names resolve inside the operator's network; the innermost reason goes to the
/// operator's log instead.
fn cause(e: &reqwest::Error) -> String {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    tracing::info!(error = %detail, "a media URL could not be fetched");
    if e.is_timeout() {
        "timed out".to_owned()
    } else {
        "could not reach the URL's host".to_owned()
    }
}

pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    kind: Kind,
    allow_private: bool,
) -> Result<(Vec<u8>, Option<String>, Option<String>), MediaError> {
    let url = net::check_url(url, allow_private)?;
    let mut resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| MediaError::Fetch(cause(&e)))?;
    if !resp.status().is_success() {
        return Err(MediaError::Fetch(format!(
            "HTTP {}",
            resp.status().as_u16()
        )));
    }
    let limit = max_bytes(kind);
    if resp.content_length().is_some_and(|n| n as usize > limit) {
        return Err(MediaError::TooLarge(kind));
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
    let mut bytes = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| MediaError::Fetch(e.to_string()))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(MediaError::TooLarge(kind));
        }
        bytes.extend_from_slice(&chunk);
    }
    let name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(clean_file_name);
    Ok((bytes, content_type, name))
}

/// Each customer's media files under `<data dir>/media/<customer>/<mode>/<sha256>`.
#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
}

impl MediaStore {
    pub fn new(data_dir: &Path) -> MediaStore {
        MediaStore {
            root: data_dir.join("media"),
        }
    }

    fn dir(&self, key: SessionKey) -> PathBuf {
        self.root
            .join(key.customer.to_string())
            .join(key.mode.as_str())
    }

    /// Deletes every media file of a customer (both modes), for a GDPR erasure.
    pub async fn purge(&self, customer: uuid::Uuid) -> Result<(), std::io::Error> {
        match tokio::fs::remove_dir_all(self.root.join(customer.to_string())).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Where a stored file is; `sha256` must be 64 hex digits (anything else names nothing).
    pub fn path(&self, key: SessionKey, sha256: &str) -> Option<PathBuf> {
        (sha256.len() == 64 && sha256.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| self.dir(key).join(sha256))
    }

    /// Stores `bytes` (once per content) and returns their SHA-256.
    pub async fn put(&self, key: SessionKey, bytes: &[u8]) -> Result<String, std::io::Error> {
        let sha = hex::encode(Sha256::digest(bytes));
        let dir = self.dir(key);
        let path = dir.join(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!(".{sha}.{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
    ];

    #[tokio::test]
    async fn a_failed_fetch_does_not_tell_how_a_name_resolves() {
        let client = net::guarded_client(false, std::time::Duration::from_secs(5));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // A name this machine resolves to loopback (not "localhost", which is refused
        // before any lookup), refused by the guard's resolver; and one that does not exist.
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let internal = hosts
            .lines()
            .filter(|l| l.trim_start().starts_with("127."))
            .flat_map(|l| l.split_whitespace().skip(1))
            .find(|name| !name.starts_with('#') && !name.contains("localhost"))
            .expect("a name for this machine in /etc/hosts")
            .to_owned();
        let mut answers = Vec::new();
        for url in [
            format!("http://{internal}:{port}/a.png"),
            "http://no-such-host.invalid/a.png".to_owned(),
        ] {
            match fetch(&client, &url, Kind::Image, false).await {
                Err(e) => answers.push(e.to_string()),
                Ok(_) => panic!("{url} was fetched"),
            }
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(
            answers[0],
            "fetching the URL failed: could not reach the URL's host"
        );
    }

    #[test]
    fn the_type_comes_from_the_bytes_not_the_claim() {
        assert_eq!(
            resolve_mime(Kind::Image, PNG, Some("video/mp4")).unwrap(),
            "image/png"
        );
        assert!(matches!(
            resolve_mime(Kind::Image, b"MZ\x90\x00 not an image", Some("image/png")),
            Err(MediaError::Type(..))
        ));
        assert!(
            matches!(
                resolve_mime(Kind::Sticker, PNG, None),
                Err(MediaError::Type(..))
            ),
            "stickers are webp"
        );
        assert_eq!(
            resolve_mime(Kind::Document, b"a,b\n1,2\n", Some("text/csv")).unwrap(),
            "text/csv"
        );
        assert_eq!(
            resolve_mime(Kind::Document, b"plain", Some("bad type\n")).unwrap(),
            "application/octet-stream"
        );
    }

    #[test]
    fn file_names_lose_their_paths_and_control_characters() {
        assert_eq!(
            clean_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_file_name("C:\\Users\\x\\report.pdf").as_deref(),
            Some("report.pdf")
        );
        assert_eq!(
            clean_file_name("in\nvoice.pdf").as_deref(),
            Some("invoice.pdf")
        );
        assert_eq!(clean_file_name(".."), None);
        assert_eq!(clean_file_name("").as_deref(), None);
    }

    #[tokio::test]
    async fn files_are_stored_once_per_content_and_paths_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path());
        let key = SessionKey {
            customer: uuid::Uuid::new_v4(),
            mode: wasp_protocol::service_token::Mode::Test,
        };
        let a = store.put(key, b"hello").await.unwrap();
        let b = store.put(key, b"hello").await.unwrap();
        assert_eq!(a, b);
        assert_eq!(
            std::fs::read(store.path(key, &a).unwrap()).unwrap(),
            b"hello"
        );
        assert!(store.path(key, "../../../etc/passwd").is_none());
    }
}
