//! The web UI: the static export of the Next.js project in `web/` (the customer dashboard,
//! later the admin panel), answered at every path that is not an API.
//!
//! - `/api/…`, `/internal/…` and `/metrics` never get HTML: unknown API routes keep the
//!   JSON 404 of [`crate::http::fallback`].
//! - A page is looked up as the file itself, then `<path>.html`, then `<path>/index.html`
//!   (what `next build` with `output: 'export'` writes); an unknown page gets the export's
//!   `404.html` with status 404. Pages for ids unknown at build time take them in the query
//!   string (`/chats/view?jid=…`), which needs nothing from here.
//! - Hashed assets (`/_next/static/…`) are cached for a year; everything else, HTML above
//!   all, is revalidated on every use, so a new release is picked up at once.
//! - Next.js inlines small scripts into its pages. The site's policy allows no inline
//!   script, so each HTML answer carries a Content-Security-Policy that allows exactly its
//!   own inline scripts by their SHA-256 (computed once per page).
//!
//! Where the files come from is an [`Assets`]: a directory on disk (`WASP_WEB_DIR`, for
//! development) or the build embedded in the binary (the `wasp` crate's `web` feature).

use crate::http;
use axum::{
    body::Body,
    http::{header, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::{
    borrow::Cow,
    collections::HashMap,
    path::{Component, Path, PathBuf},
    sync::{Arc, Mutex},
};

/// A source of the export's files, by their path relative to the export's root
/// (`index.html`, `_next/static/…`).
pub trait Assets: Send + Sync + 'static {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>>;
}

/// The export read from a directory on every request (development: `next build` again and
/// reload).
#[derive(Debug)]
pub struct DirAssets {
    root: PathBuf,
}

impl DirAssets {
    pub fn new(root: impl Into<PathBuf>) -> DirAssets {
        DirAssets { root: root.into() }
    }
}

impl Assets for DirAssets {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        // Only plain names below the root: no `..`, no absolute paths.
        let relative = Path::new(path);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return None;
        }
        let full = self.root.join(relative);
        if !full.is_file() {
            return None;
        }
        std::fs::read(full).ok().map(Cow::Owned)
    }
}

/// The web UI's request handler (cheap to clone).
#[derive(Clone)]
pub struct WebUi {
    assets: Arc<dyn Assets>,
    /// Each page's Content-Security-Policy, by path.
    policies: Arc<Mutex<HashMap<String, HeaderValue>>>,
}

impl std::fmt::Debug for WebUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebUi").finish_non_exhaustive()
    }
}

/// Paths that belong to the APIs, never to the UI.
fn is_api(path: &str) -> bool {
    ["/api", "/internal", "/metrics"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

impl WebUi {
    pub fn new(assets: impl Assets) -> WebUi {
        WebUi {
            assets: Arc::new(assets),
            policies: Arc::default(),
        }
    }

    /// Whether the export is there at all (a binary built without the UI has no index).
    pub fn is_present(&self) -> bool {
        self.assets.get("index.html").is_some()
    }

    /// Answers a request that no API route took.
    pub async fn serve(&self, method: Method, uri: Uri) -> Response {
        let path = uri.path();
        if is_api(path) {
            return http::fallback(method).await;
        }
        if method != Method::GET && method != Method::HEAD {
            let mut refused = crate::Error::client(
                StatusCode::METHOD_NOT_ALLOWED,
                crate::error::code::METHOD_NOT_ALLOWED,
                "pages of the web UI are only read (GET, HEAD)",
            )
            .into_response();
            refused
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return refused;
        }
        let (status, name, bytes) = match self.find(path) {
            Some((name, bytes)) => (StatusCode::OK, name, bytes),
            None => match self.assets.get("404.html") {
                Some(bytes) => (StatusCode::NOT_FOUND, "404.html".to_owned(), bytes),
                None => return http::fallback(method).await,
            },
        };
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, content_type(&name))
            .header(
                header::CACHE_CONTROL,
                if name.starts_with("_next/static/") {
                    IMMUTABLE
                } else {
                    REVALIDATE
                },
            );
        if name.ends_with(".html") {
            response = response.header(header::CONTENT_SECURITY_POLICY, self.policy(&name, &bytes));
        }
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            match bytes {
                Cow::Borrowed(b) => Body::from(b),
                Cow::Owned(b) => Body::from(b),
            }
        };
        response.body(body).unwrap_or_else(|_| {
            crate::Error::internal("web UI response could not be built").into_response()
        })
    }

    /// The file answering `path`, with its name in the export.
    fn find(&self, path: &str) -> Option<(String, Cow<'static, [u8]>)> {
        let trimmed = path.trim_start_matches('/').trim_end_matches('/');
        if trimmed.split('/').any(|s| s == ".." || s == ".") || trimmed.contains('\\') {
            return None;
        }
        let candidates = if trimmed.is_empty() {
            vec!["index.html".to_owned()]
        } else {
            vec![
                trimmed.to_owned(),
                format!("{trimmed}.html"),
                format!("{trimmed}/index.html"),
            ]
        };
        candidates
            .into_iter()
            .find_map(|name| self.assets.get(&name).map(|bytes| (name, bytes)))
    }

    /// The page's policy: the site's, with its own inline scripts allowed by hash.
    fn policy(&self, name: &str, html: &[u8]) -> HeaderValue {
        let mut cache = self.policies.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(policy) = cache.get(name) {
            return policy.clone();
        }
        let hashes: String = inline_scripts(html)
            .map(|script| {
                let digest = Sha256::digest(script);
                format!(
                    " 'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                )
            })
            .collect();
        let policy = format!(
            "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; \
             object-src 'none'"
        );
        let value = HeaderValue::from_str(&policy)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        cache.insert(name.to_owned(), value.clone());
        value
    }
}

/// The contents of the `<script>` elements without a `src`, exactly as the browser hashes
/// them.
fn inline_scripts(html: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let open = find(rest, b"<script")?;
        let after_name = &rest[open + b"<script".len()..];
        // `<scripts…>` or similar is not a script element.
        if !after_name
            .first()
            .is_some_and(|c| *c == b'>' || c.is_ascii_whitespace())
        {
            rest = after_name;
            continue;
        }
        let tag_end = find(after_name, b">")?;
        let attributes = &after_name[..tag_end];
        let content_start = &after_name[tag_end + 1..];
        let close = find(content_start, b"</script")?;
        let content = &content_start[..close];
        rest = &content_start[close..];
        let external = attributes
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"src="));
        if !external {
            return Some(content);
        }
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn content_type(name: &str) -> HeaderValue {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let text = mime.type_() == mime_guess::mime::TEXT
        || mime.subtype() == mime_guess::mime::JAVASCRIPT
        || mime.subtype() == mime_guess::mime::JSON;
    let value = if text {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_external_ones_skipped() {
        let html = br#"<html><script src="/_next/a.js" async=""></script><script>self.x=1</script><scripts>no</scripts><SCRIPT type="text/javascript">b()</SCRIPT></html>"#;
        let found: Vec<&[u8]> = inline_scripts(html).collect();
        assert_eq!(found, vec![&b"self.x=1"[..], &b"b()"[..]]);
    }

    #[test]
    fn api_paths_are_never_pages() {
        for path in ["/api", "/api/v1/x", "/internal/heartbeat", "/metrics"] {
            assert!(is_api(path), "{path}");
        }
        for path in ["/", "/apis", "/login", "/metricsx", "/admin/api-keys"] {
            assert!(!is_api(path), "{path}");
        }
    }

    #[test]
    fn dir_assets_stay_below_their_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "hi").unwrap();
        let assets = DirAssets::new(dir.path().join("."));
        assert!(assets.get("index.html").is_some());
        assert!(assets.get("../index.html").is_none());
        assert!(assets.get("/etc/passwd").is_none());
    }
}
