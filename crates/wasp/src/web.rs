//! Where the web UI comes from: a directory given at run time (`WASP_WEB_DIR`, for
//! developing the UI), else the export of `web/` embedded at build time (the `web`
//! feature; see `build.rs`), else none: every path that is not an API then answers the
//! JSON 404.

#[cfg(feature = "web")]
use std::borrow::Cow;
use std::path::Path;
use wasp_management::web::{DirAssets, WebUi};

/// The export of `web/` (`web/out`). In debug builds rust-embed reads the directory at run
/// time, so `npm run build` shows at the next request; release builds carry the files.
#[cfg(feature = "web")]
#[derive(rust_embed::RustEmbed)]
#[folder = "../../web/out"]
#[allow_missing = true]
struct Embedded;

#[cfg(feature = "web")]
struct EmbeddedAssets;

#[cfg(feature = "web")]
impl wasp_management::web::Assets for EmbeddedAssets {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        Embedded::get(path).map(|file| file.data)
    }
}

/// The web UI to serve, if there is one.
pub fn ui(dir: Option<&Path>) -> Option<WebUi> {
    if let Some(dir) = dir {
        let ui = WebUi::new(DirAssets::new(dir));
        if !ui.is_present() {
            tracing::warn!(dir = %dir.display(), "WASP_WEB_DIR has no index.html: run `npm run build` in web/");
        }
        tracing::info!(dir = %dir.display(), "web UI served from disk");
        return Some(ui);
    }
    embedded()
}

#[cfg(feature = "web")]
fn embedded() -> Option<WebUi> {
    let ui = WebUi::new(EmbeddedAssets);
    if ui.is_present() {
        Some(ui)
    } else {
        tracing::warn!("this binary was built without the web UI (web/out was empty)");
        None
    }
}

#[cfg(not(feature = "web"))]
fn embedded() -> Option<WebUi> {
    None
}
