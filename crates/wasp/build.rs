//! With the `web` feature (on by default), makes sure `web/out` (the web UI's static export, embedded by
//! src/web.rs) exists and is newer than the UI's sources, running `npm ci` (when
//! `node_modules` is missing) and `npm run build` in `web/` otherwise. So `cargo run -p wasp
//! -- up` on a fresh clone serves the UI, and a release build never embeds a stale one.
//! `WASP_WEB_SKIP_BUILD=1` skips this (the binary then embeds whatever `web/out` holds, or
//! nothing).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::SystemTime,
};

/// What the export is built from.
const SOURCES: [&str; 8] = [
    "src",
    "public",
    "package.json",
    "package-lock.json",
    "next.config.ts",
    "next.config.mjs",
    "tsconfig.json",
    "postcss.config.mjs",
];

fn main() {
    println!("cargo:rerun-if-env-changed=WASP_WEB_SKIP_BUILD");
    if std::env::var_os("CARGO_FEATURE_WEB").is_none() {
        return;
    }
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    for source in SOURCES {
        println!("cargo:rerun-if-changed={}", web.join(source).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        web.join("out/index.html").display()
    );
    if std::env::var_os("WASP_WEB_SKIP_BUILD").is_some_and(|v| v != "0") {
        return;
    }
    if !web.join("package.json").is_file() {
        println!("cargo:warning=web/package.json not found: building without the web UI");
        return;
    }
    let built = modified(&web.join("out/index.html"));
    let newest_source = SOURCES.iter().map(|s| newest(&web.join(s))).max().flatten();
    if built.is_some() && built >= newest_source {
        return;
    }
    // npm records what it installed in node_modules/.package-lock.json.
    if modified(&web.join("node_modules/.package-lock.json"))
        < modified(&web.join("package-lock.json"))
    {
        npm(&web, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(&web, &["run", "build"]);
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm").args(args).current_dir(dir).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm {}` in web/ failed ({s}); fix the web UI's build, or build without it \
             (WASP_WEB_SKIP_BUILD=1, or --no-default-features)",
            args.join(" ")
        ),
        Err(e) => panic!(
            "the web UI needs Node.js and npm to build ({e}); install them, or build without \
             the UI (WASP_WEB_SKIP_BUILD=1, or --no-default-features)"
        ),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The latest modification time of `path` or anything below it.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    let mut latest = meta.modified().ok();
    let mut stack: Vec<PathBuf> = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) => latest = latest.max(m.modified().ok()),
                Err(_) => {}
            }
        }
    }
    latest
}
