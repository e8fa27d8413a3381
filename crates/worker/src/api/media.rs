//! Sending media (multipart uploads or URLs) and downloading a message's media.

use super::send::send;
use super::{code, fields::*, Caller};
use crate::{
    driver::{Kind, Outgoing},
    store::{self},
    WorkerState,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};
use wasp_http::error::{Error, Path, Result};

pub(crate) fn media_error(e: crate::media::MediaError, field: &str) -> Error {
    use crate::media::MediaError as M;
    match e {
        M::TooLarge(_) => Error::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            wasp_http::error::code::PAYLOAD_TOO_LARGE,
            e.to_string(),
        ),
        M::Type(..) => Error::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            wasp_http::error::code::UNSUPPORTED_MEDIA_TYPE,
            e.to_string(),
        ),
        M::Url(_) => Error::validation(field, e.to_string()),
        M::Fetch(_) => Error::client(
            StatusCode::BAD_REQUEST,
            code::MEDIA_FETCH_FAILED,
            e.to_string(),
        ),
        M::Io(e) => Error::internal_source("media file", e),
    }
}

/// A media send form: its text fields and the uploaded file, if any.
pub(super) struct MediaForm {
    fields: std::collections::HashMap<String, String>,
    file: Option<(Vec<u8>, Option<String>, Option<String>)>,
}

impl MediaForm {
    fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn flag(&self, name: &str) -> Result<bool> {
        match self.text(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(_) => Err(Error::validation(name, "must be true or false")),
        }
    }
}

/// Text fields a media form may carry besides the file and its URL, with what they mean.
pub(super) const MEDIA_FIELDS: [(&str, &str); 10] = [
    ("phone", "The recipient: a phone number in international format or a JID (`…@s.whatsapp.net`, `…@g.us`)."),
    ("caption", "Text shown with the media (at most 1024 characters); not for audio or stickers."),
    ("reply_message_id", "Quote this message (its id): one of this chat's messages in the chat store, else 400 VALIDATION_ERROR."),
    ("view_once", "`true` to let the recipient open it once."),
    ("compress", "Accepted and ignored."),
    ("hd", "`true` to send an image or video in HD."),
    ("duration", "Disappearing-message timer in seconds: 0 (off), 86400, 604800 or 7776000."),
    ("is_forwarded", "`true` to show the message as forwarded."),
    ("ptt", "Audio: `true` to send it as a voice note."),
    ("gif_playback", "Video: `true` to play it like a GIF."),
];

pub(super) async fn read_form(
    mut form: axum::extract::Multipart,
    file_field: &str,
    kind: Kind,
) -> Result<MediaForm> {
    let read = read_fields(&mut form, file_field, kind).await;
    if read.is_err() {
        // Read the rest of the body (the 10 MB limit still holds) before answering: a
        // client, or the gateway streaming the upload, that is still sending when the
        // answer comes and the connection closes sees a broken pipe instead of the error.
        while let Ok(Some(mut field)) = form.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    }
    read
}

pub(super) async fn read_fields(
    form: &mut axum::extract::Multipart,
    file_field: &str,
    kind: Kind,
) -> Result<MediaForm> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                wasp_http::error::code::PAYLOAD_TOO_LARGE,
                "the request is larger than 10 MB",
            )
        } else {
            Error::client(
                StatusCode::BAD_REQUEST,
                wasp_http::error::code::VALIDATION_ERROR,
                format!("multipart form: {e}"),
            )
        }
    };
    let url_field = format!("{file_field}_url");
    let mut out = MediaForm {
        fields: Default::default(),
        file: None,
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if bytes.len() + chunk.len() > crate::media::max_bytes(kind) {
                    return Err(media_error(
                        crate::media::MediaError::TooLarge(kind),
                        file_field,
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            out.file = Some((bytes, file_name, content_type));
        } else if name == url_field || MEDIA_FIELDS.iter().any(|(field, _)| *field == name) {
            let value = field.text().await.map_err(bad)?;
            if value.len() > 8192 {
                return Err(Error::validation(&name, "is too long"));
            }
            out.fields.insert(name, value);
        } else {
            return Err(Error::validation(&name, "unknown field"));
        }
    }
    Ok(out)
}

pub(super) async fn send_media(
    worker: WorkerState,
    caller: Caller,
    form: axum::extract::Multipart,
    kind: Kind,
    file_field: &str,
) -> Result<Response> {
    let form = read_form(form, file_field, kind).await?;
    let to = recipient("phone", form.text("phone").unwrap_or(""))?;
    let url_field = format!("{file_field}_url");
    let (bytes, claimed, name) = match (form.file.clone(), form.text(&url_field)) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                file_field,
                format!("send either {file_field} or {url_field}, not both"),
            ))
        }
        (Some((bytes, name, claimed)), None) => (bytes, claimed, name),
        (None, Some(url)) => {
            let (bytes, claimed, name) = crate::media::fetch(
                &worker.fetcher,
                url,
                kind,
                worker.config.media_allow_private,
            )
            .await
            .map_err(|e| media_error(e, &url_field))?;
            (bytes, claimed, name)
        }
        (None, None) => {
            return Err(Error::validation(
                file_field,
                format!("is required (or {url_field})"),
            ))
        }
    };
    if bytes.is_empty() {
        return Err(Error::validation(file_field, "is empty"));
    }
    let mime = crate::media::resolve_mime(kind, &bytes, claimed.as_deref())
        .map_err(|e| media_error(e, file_field))?;
    let caption = match form.text("caption") {
        Some(_) if matches!(kind, Kind::Audio | Kind::Sticker) => {
            return Err(Error::validation(
                "caption",
                format!("a {} has no caption", kind.as_str()),
            ))
        }
        Some(c) => Some(caption_field(c)?),
        None => None,
    };
    let duration = match form.text("duration") {
        Some(d) => Some(
            d.parse::<u32>()
                .map_err(|_| Error::validation("duration", "must be a number of seconds"))?,
        ),
        None => None,
    };
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal_source("storing media", e))?;
    let mut content = json!({
        "mime_type": mime,
        "file_size": bytes.len(),
        "sha256": sha,
        "file_name": name.as_deref().and_then(crate::media::clean_file_name),
    });
    for flag in ["view_once", "ptt", "gif_playback", "hd"] {
        if form.flag(flag)? {
            content[flag] = json!(true);
        }
    }
    let message = Outgoing {
        to,
        kind,
        body: caption,
        content,
        reply_to: form.text("reply_message_id").map(str::to_owned),
        forwarded: form.flag("is_forwarded")?,
        expiration_secs: check_duration(duration)?,
        media: worker.media.path(caller.key, &sha),
    };
    send(&worker, &caller, message).await
}

pub(super) async fn send_image(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Image, "image").await
}

pub(super) async fn send_file(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Document, "file").await
}

pub(super) async fn send_audio(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Audio, "audio").await
}

pub(super) async fn send_video(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Video, "video").await
}

pub(super) async fn send_sticker(
    State(worker): State<WorkerState>,
    caller: Caller,
    wasp_http::error::Multipart(form): wasp_http::error::Multipart,
) -> Result<Response> {
    send_media(worker, caller, form, Kind::Sticker, "sticker").await
}

/// The media file of a message, as bytes with its type and name.
pub(super) fn media_unavailable() -> Error {
    Error::client(
        StatusCode::NOT_FOUND,
        code::MEDIA_UNAVAILABLE,
        "the media of this message is no longer on this server",
    )
}

/// The local file of a message's attachment: from the media store, or (for media a live
/// session received) fetched from WhatsApp and decrypted on first use, then kept.
pub(super) async fn media_file(
    worker: &WorkerState,
    caller: &Caller,
    id: &str,
    content: &Value,
) -> Result<std::path::PathBuf> {
    if let Some(path) = content["sha256"]
        .as_str()
        .and_then(|sha| worker.media.path(caller.key, sha))
        .filter(|p| p.exists())
    {
        return Ok(path);
    }
    if content["wa_media"].is_null() {
        return Err(if content["sha256"].is_null() {
            Error::validation("message_id", "this message has no media")
        } else {
            media_unavailable()
        });
    }
    let bytes = caller.instance.driver.download(content).await?;
    let sha = worker
        .media
        .put(caller.key, &bytes)
        .await
        .map_err(|e| Error::internal_source("storing media", e))?;
    store::set_media_sha256(worker.db(), caller.key, id, &sha).await?;
    worker
        .media
        .path(caller.key, &sha)
        .ok_or_else(media_unavailable)
}

/// The type a download is served with: the claimed one when it cannot run in a browser,
/// else `application/octet-stream`. A sender chooses the type of what it sends; HTML, SVG,
/// XML or script served from our origin would run there.
pub(super) fn inert_type(claimed: Option<&str>) -> &str {
    const OPAQUE: &str = "application/octet-stream";
    let Some(claimed) = claimed else {
        return OPAQUE;
    };
    let essence = claimed
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (top, sub) = essence.split_once('/').unwrap_or(("", ""));
    let active = ["html", "xml", "svg", "script", "xsl"]
        .iter()
        .any(|word| sub.contains(word));
    let inert_top = matches!(top, "image" | "audio" | "video" | "application")
        || matches!(essence.as_str(), "text/plain" | "text/csv" | "text/vcard");
    if active || !inert_top || essence.contains(['"', '\\', ',']) {
        OPAQUE
    } else {
        claimed
    }
}

pub(super) async fn download_message(
    State(worker): State<WorkerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    let (message, _) = store::message(worker.db(), caller.key, message_id(&id)?)
        .await?
        .ok_or_else(|| Error::not_found("message"))?;
    let content = &message.content.0;
    let path = media_file(&worker, &caller, &message.id, content).await?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| media_unavailable())?;
    let mime = inert_type(content["mime_type"].as_str());
    let name = content["file_name"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "{}.{}",
                message.id,
                mime.rsplit('/').next().unwrap_or("bin")
            )
        });
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, mime.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            // Nothing in a download may run, even if a browser renders it.
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}
