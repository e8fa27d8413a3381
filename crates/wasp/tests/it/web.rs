//! The web UI as `wasp up` serves it (crates/management/src/web.rs), from a directory laid
//! out like `next build`'s static export (`WASP_WEB_DIR`). Serving pages touches no
//! database, so this runs on SQLite only.

use crate::support::{
    self,
    platform::{Backend, Platform},
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

const INLINE: &str = "self.__next_f=self.__next_f||[];self.__next_f.push([0])";

fn export() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let page = |title: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>{title}</title>\
             <script src=\"/_next/static/chunks/main-abc123.js\" async=\"\"></script></head>\
             <body><h1>{title}</h1><script>{INLINE}</script></body></html>"
        )
    };
    std::fs::create_dir_all(root.join("_next/static/chunks")).unwrap();
    std::fs::create_dir_all(root.join("chats")).unwrap();
    std::fs::write(root.join("index.html"), page("Overview")).unwrap();
    std::fs::write(root.join("login.html"), page("Sign in")).unwrap();
    std::fs::write(root.join("login.txt"), "0:[\"rsc payload\"]").unwrap();
    std::fs::write(root.join("chats/view.html"), page("Chat")).unwrap();
    std::fs::write(root.join("404.html"), page("Page not found")).unwrap();
    std::fs::write(
        root.join("_next/static/chunks/main-abc123.js"),
        "console.log(1)",
    )
    .unwrap();
    dir
}

async fn get(addr: &str, path: &str) -> reqwest::Response {
    support::http()
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn up_serves_the_web_ui_beside_the_apis() {
    let web = export();
    let platform = Platform::start_with(
        Backend::Sqlite,
        &[("WASP_WEB_DIR", web.path().to_str().unwrap())],
    )
    .await;
    let addr = platform.addr.as_str();

    // Pages: by their own name, `.html`, or `/index.html`; query strings carry the ids.
    for (path, title) in [
        ("/", "Overview"),
        ("/login", "Sign in"),
        ("/login/", "Sign in"),
        ("/chats/view?jid=6281234567890%40s.whatsapp.net", "Chat"),
    ] {
        let page = get(addr, path).await;
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert_eq!(
            header(&page, "cache-control"),
            "no-cache",
            "HTML is never cached"
        );
        // The page's inline script runs under the policy, and nothing else inline does.
        let policy = header(&page, "content-security-policy");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(INLINE));
        assert!(
            policy.contains(&format!("script-src 'self' 'sha256-{hash}';")),
            "{policy}"
        );
        let scripts = policy
            .split(';')
            .find(|d| d.trim_start().starts_with("script-src"))
            .unwrap();
        assert!(!scripts.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(page
            .text()
            .await
            .unwrap()
            .contains(&format!("<h1>{title}</h1>")));
    }

    // Hashed assets are cached for a year; the router's payloads are revalidated.
    let chunk = get(addr, "/_next/static/chunks/main-abc123.js").await;
    assert_eq!(chunk.status(), 200);
    assert_eq!(
        header(&chunk, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        header(&chunk, "content-type"),
        "text/javascript; charset=utf-8"
    );
    let payload = get(addr, "/login.txt").await;
    assert_eq!(
        header(&payload, "content-type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(header(&payload, "cache-control"), "no-cache");

    // Unknown pages get the UI's own 404 page; nothing escapes the export.
    for path in [
        "/no-such-page",
        "/chats/nope/deeper",
        "/..%2f..%2fetc/passwd",
        "/chats/..%2f..%2f404",
    ] {
        let missing = get(addr, path).await;
        assert_eq!(missing.status(), 404, "{path}");
        assert!(
            missing.text().await.unwrap().contains("Page not found"),
            "{path}"
        );
    }

    // The APIs never answer with HTML.
    for path in ["/api/nope", "/api/v1", "/api/admin/nope", "/internal/nope"] {
        let api = get(addr, path).await;
        assert_eq!(api.status(), 404, "{path}");
        assert_eq!(header(&api, "content-type"), "application/json", "{path}");
        let body: serde_json::Value = api.json().await.unwrap();
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}");
    }
    let health = get(addr, "/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(header(&health, "content-type"), "application/json");

    // Pages are only read.
    let post = support::http()
        .post(format!("http://{addr}/login"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(header(&post, "allow"), "GET, HEAD");
    let body: serde_json::Value = post.json().await.unwrap();
    assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn without_a_web_ui_every_other_path_is_the_json_404() {
    let empty = tempfile::tempdir().unwrap();
    let platform = Platform::start_with(
        Backend::Sqlite,
        &[("WASP_WEB_DIR", empty.path().to_str().unwrap())],
    )
    .await;
    let page = get(&platform.addr, "/").await;
    assert_eq!(page.status(), 404);
    assert_eq!(header(&page, "content-type"), "application/json");
}
