//! The log sanitiser: no API key, token, password or secret reaches a log
//! line, and phone numbers are cut to their last four digits.
//!
//! [`sanitize`] masks one piece of text; [`SanitizingWriter`] wraps the writer of
//! `tracing_subscriber::fmt` so every formatted event, plain text or JSON, passes through it
//! before it is written. Masking is idempotent: masked text is left as it is.

use std::{borrow::Cow, io, sync::LazyLock};

use regex::{Captures, Regex};
use tracing_subscriber::fmt::MakeWriter;

/// What replaces a secret.
const MASK: &str = "***";

/// Any number of ANSI colour sequences: the plain-text formatter colours field names and the
/// `=` after them when writing to a terminal, so `key=value` may have them in between.
macro_rules! ansi {
    () => {
        r"(?:\x1b\[[0-9;]*m)*"
    };
}

/// One pass over the line finds every kind of secret; the named group that matched says
/// which. Order matters only between alternatives starting at the same place.
static SECRETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // `password=…`, `"client_secret":"…"`, `X-API-Key: …`, `authorization=Bearer …`.
        r"(?P<kv_key>(?i:(?:[a-z0-9]+[_-])*(?:password|passwd|passphrase|secret|token|api[_-]?key|authorization)(?:[_-](?:key|hash))?))(?-u:\b)",
        r"(?P<kv_sep>",
        ansi!(),
        r#"\\?"?"#,
        ansi!(),
        r"[ \t]*[:=]",
        ansi!(),
        r"[ \t]*",
        ansi!(),
        r")",
        r#"(?P<kv_value>"(?:[^"\\\n]|\\.)*"|\\"(?:[^"\\\n]|\\[^"\n])*\\"|'[^'\n]*'|(?i:(?:bearer|basic|digest|token)[ \t]+)?[^\s&,;"'\\}\])<>\x1b]+)"#,
        // `Bearer <token>`.
        r"|(?P<bearer>(?i:bearer))[ \t]+[A-Za-z0-9\-._~+/]+=*",
        // JSON Web Tokens: three base64url parts, the first a JSON object (`{"` is `eyJ`).
        r"|(?P<jwt>eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)",
        // Service tokens between management and workers.
        r"|(?P<wst>wst1\.)[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
        // wasp keys: a known prefix and a base58 body.
        r"|(?P<key>ak_(?:live|test|srv|server)_)[1-9A-HJ-NP-Za-km-z]+",
        // Webhook signing secrets.
        r"|(?P<whsec>whsec_)[A-Za-z0-9+/=]+",
        // Phone-number candidates; the length and the neighbours are checked in code
        // because the regex crate has no look-around.
        r"|(?P<phone>\+?[0-9]{10,})",
    ))
    .expect("the secret patterns compile")
});

/// Returns `input` with every secret masked and every phone number cut to its last four
/// digits; borrowed when there was nothing to mask.
pub fn sanitize(input: &str) -> Cow<'_, str> {
    // Fast path: one scan of the line without captures.
    if !SECRETS.is_match(input) {
        return Cow::Borrowed(input);
    }
    let mut out: Option<String> = None;
    let mut copied = 0;
    for caps in SECRETS.captures_iter(input) {
        let whole = caps.get(0).expect("group 0 always matches");
        let Some(replacement) = mask(input, &caps) else {
            continue;
        };
        let out = out.get_or_insert_with(|| String::with_capacity(input.len()));
        out.push_str(&input[copied..whole.start()]);
        out.push_str(&replacement);
        copied = whole.end();
    }
    match out {
        Some(mut out) => {
            out.push_str(&input[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(input),
    }
}

/// A request path as it may be logged: [`sanitize`]d, and every segment that is a phone
/// number however written (`62.898.765.43210`, `+62-898-…`, `%2B62%20898…`, `(62) 898…`,
/// `62898…@s.whatsapp.net`, a LID) cut to its last four digits. A client chooses how it
/// formats a number, so the digits are read after percent-decoding and dropping separators.
pub fn sanitize_path(path: &str) -> String {
    let masked: Vec<String> = path.split('/').map(mask_segment).collect();
    sanitize(&masked.join("/")).into_owned()
}

/// One path segment with a phone number in it masked (see [`sanitize_path`]).
fn mask_segment(segment: &str) -> String {
    let decoded = percent_decode(segment);
    let (number, server) = match decoded.split_once('@') {
        Some((user, server)) => (user, Some(server)),
        None => (decoded.as_str(), None),
    };
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let only_formatting = number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '.' | '-' | '(' | ')'));
    if !only_formatting || !(10..=15).contains(&digits.len()) {
        return segment.to_owned();
    }
    let tail = &digits[digits.len() - 4..];
    match server {
        Some(server) => format!("****{tail}@{server}"),
        None => format!("****{tail}"),
    }
}

/// `%XX` escapes decoded (a malformed one is kept as it is); `+` stays `+`.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The replacement for one match, or `None` when it is left as it is (already masked, or a
/// digit run that is not a phone number).
fn mask(input: &str, caps: &Captures<'_>) -> Option<String> {
    if let Some(key) = caps.name("kv_key") {
        let sep = &caps["kv_sep"];
        let value = &caps["kv_value"];
        let masked = if let Some(inner) = value
            .strip_prefix("\\\"")
            .and_then(|v| v.strip_suffix("\\\""))
        {
            (inner != MASK).then(|| format!("\\\"{MASK}\\\""))
        } else if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            (inner != MASK).then(|| format!("\"{MASK}\""))
        } else if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            (inner != MASK).then(|| format!("'{MASK}'"))
        } else {
            (value != MASK).then(|| MASK.to_owned())
        }?;
        return Some(format!("{}{sep}{masked}", key.as_str()));
    }
    if let Some(scheme) = caps.name("bearer") {
        return Some(format!("{} {MASK}", scheme.as_str()));
    }
    if caps.name("jwt").is_some() {
        return Some(MASK.to_owned());
    }
    for prefix in ["wst", "key", "whsec"] {
        if let Some(prefix) = caps.name(prefix) {
            return Some(format!("{}{MASK}", prefix.as_str()));
        }
    }
    let phone = caps.name("phone")?;
    let digits = phone.as_str().trim_start_matches('+');
    if !(10..=15).contains(&digits.len())
        || word_before(&input[..phone.start()])
        || word_after(&input[phone.end()..])
    {
        return None;
    }
    Some(format!("****{}", &digits[digits.len() - 4..]))
}

/// Whether the text before a digit run ends in a word it belongs to: a letter, digit or `_`,
/// or a `-`/`.` joining it to one (the last group of a UUID, a decimal fraction).
fn word_before(before: &str) -> bool {
    let before = strip_trailing_ansi(before);
    let mut chars = before.chars().rev();
    match chars.next() {
        Some(c) if is_word(c) => true,
        Some('-' | '.') => chars.next().is_some_and(is_word),
        _ => false,
    }
}

/// Whether the text after a digit run continues the same word (see [`word_before`]).
fn word_after(after: &str) -> bool {
    let after = strip_leading_ansi(after);
    let mut chars = after.chars();
    match chars.next() {
        Some(c) if is_word(c) => true,
        Some('-' | '.') => chars.next().is_some_and(is_word),
        _ => false,
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` without the ANSI colour sequences (`ESC [ digits/; m`) it ends with.
fn strip_trailing_ansi(mut text: &str) -> &str {
    while let Some(rest) = text.strip_suffix('m') {
        let rest = rest.trim_end_matches(|c: char| c.is_ascii_digit() || c == ';');
        match rest.strip_suffix("\x1b[") {
            Some(rest) => text = rest,
            None => break,
        }
    }
    text
}

/// `text` without the ANSI colour sequences it starts with.
fn strip_leading_ansi(mut text: &str) -> &str {
    while let Some(rest) = text.strip_prefix("\x1b[") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';');
        match rest.strip_prefix('m') {
            Some(rest) => text = rest,
            None => break,
        }
    }
    text
}

/// A `MakeWriter` whose writers sanitise what they write: `.with_writer(SanitizingWriter(
/// std::io::stderr))` makes every line of a `tracing_subscriber::fmt` subscriber safe.
#[derive(Debug, Clone, Copy, Default)]
pub struct SanitizingWriter<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for SanitizingWriter<M> {
    type Writer = SanitizedWrite<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        SanitizedWrite::new(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        SanitizedWrite::new(self.0.make_writer_for(meta))
    }
}

/// The writer of one event: buffers what the formatter writes and passes it on sanitised, in
/// one write, when dropped (or, for complete lines, when flushed). A secret split across two
/// writes is therefore still masked.
#[derive(Debug)]
pub struct SanitizedWrite<W: io::Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: io::Write> SanitizedWrite<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        SanitizedWrite {
            inner,
            buf: Vec::new(),
        }
    }

    /// Writes the first `len` buffered bytes, sanitised, and drops them from the buffer.
    fn pass_on(&mut self, len: usize) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf[..len]);
        let result = self.inner.write_all(sanitize(&text).as_bytes());
        self.buf.drain(..len);
        result
    }
}

impl<W: io::Write> io::Write for SanitizedWrite<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Only whole lines: the rest of a line may still hold the rest of a secret.
        let complete = self
            .buf
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.pass_on(complete)?;
        self.inner.flush()
    }
}

impl<W: io::Write> Drop for SanitizedWrite<W> {
    fn drop(&mut self) {
        // A logger has nowhere to report its own write errors.
        let _ = self.pass_on(self.buf.len());
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn masked(input: &str) -> String {
        sanitize(input).into_owned()
    }

    #[test]
    fn phone_numbers_in_paths_are_masked_however_they_are_written() {
        for path in [
            "/api/v1/chat/62.898.765.43210/messages",
            "/api/v1/chat/62-898-765-43210/messages",
            "/api/v1/chat/%2B6289876543210/messages",
            "/api/v1/chat/%2B62%20898%20765%2043210/messages",
            "/api/v1/chat/+62 (898) 765-43210/messages",
            "/api/v1/chat/6289876543210/messages",
        ] {
            let masked = sanitize_path(path);
            assert_eq!(masked, "/api/v1/chat/****3210/messages", "{path}");
        }
        assert_eq!(
            sanitize_path("/api/v1/chat/6289876543210@s.whatsapp.net/pin"),
            "/api/v1/chat/****3210@s.whatsapp.net/pin"
        );
        assert_eq!(
            sanitize_path("/api/v1/chat/6289876543210%40s.whatsapp.net/pin"),
            "/api/v1/chat/****3210@s.whatsapp.net/pin"
        );
        // Group ids, message ids, UUIDs and short numbers are no phone numbers.
        for path in [
            "/api/v1/chat/120363000000000042@g.us/messages",
            "/api/v1/message/3EB0C127D7BACC83D6A1/read",
            "/api/v1/keys/01a23b1d-ebf0-7289-8e70-f5bd296d5700",
            "/api/v1/group/12345/participants",
        ] {
            assert_eq!(sanitize_path(path), path);
        }
    }

    #[test]
    fn wasp_keys_keep_their_prefix_only() {
        let key = "ak_live_3yQm8Gx7Qp2vN9kLr5TbZ1aWcE4fHjK6sPdX8uYnV2o";
        assert_eq!(
            masked(&format!("key={key} refused")),
            "key=ak_live_*** refused"
        );
        assert_eq!(masked("ak_test_9abcXYZ next"), "ak_test_*** next");
        assert_eq!(masked("(ak_srv_9abcXYZ)"), "(ak_srv_***)");
        assert_eq!(masked("ak_server_9abcXYZ"), "ak_server_***");
        // A hint is not the secret and stays readable.
        assert_eq!(masked("hint ak_live_…x7Qp"), "hint ak_live_…x7Qp");
    }

    #[test]
    fn webhook_secrets_bearer_tokens_jwts_and_service_tokens_are_masked() {
        assert_eq!(
            masked("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            "whsec_***"
        );
        assert_eq!(
            masked("sent Bearer abc.DEF-123_x~+/== to it"),
            "sent Bearer *** to it"
        );
        let jwt =
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(masked(&format!("session {jwt} ok")), "session *** ok");
        assert_eq!(masked("wst1.eyJ3IjoxfQ.c2lnbmF0dXJl end"), "wst1.*** end");
    }

    #[test]
    fn secret_values_are_masked_in_every_key_value_form() {
        let cases = [
            ("password=hunter2", "password=***"),
            ("password = hunter2 next", "password = *** next"),
            ("Password: hunter2", "Password: ***"),
            (r#"password="hunter 2""#, r#"password="***""#),
            (
                r#"{"password":"hunter2","a":1}"#,
                r#"{"password":"***","a":1}"#,
            ),
            (r#"{"password": "hun\"ter2"}"#, r#"{"password": "***"}"#),
            (
                r#"{"message":"login password=\"hunter2\" failed"}"#,
                r#"{"message":"login password=\"***\" failed"}"#,
            ),
            (
                r#"{"fields":"{\"client_secret\":\"s3cr3t\"}"}"#,
                r#"{"fields":"{\"client_secret\":\"***\"}"}"#,
            ),
            ("client_secret=abc&next=1", "client_secret=***&next=1"),
            ("/x?token=abc123secret&page=2", "/x?token=***&page=2"),
            ("access_token=abc, ok", "access_token=***, ok"),
            ("API_KEY=abc", "API_KEY=***"),
            ("apikey=abc", "apikey=***"),
            ("x-api-key: abc", "x-api-key: ***"),
            ("WASP_SECRET_KEY=0123abcd", "WASP_SECRET_KEY=***"),
            ("authorization: Basic dXNlcjpwYXNz", "authorization: ***"),
            (
                r#"headers={"authorization": "Bearer abc"}"#,
                r#"headers={"authorization": "***"}"#,
            ),
            // The plain-text formatter colours field names on a terminal.
            (
                "\x1b[3mpassword\x1b[0m\x1b[2m=\x1b[0m\"hunter2\" next",
                "\x1b[3mpassword\x1b[0m\x1b[2m=\x1b[0m\"***\" next",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(masked(input), expected, "input: {input}");
        }
    }

    #[test]
    fn phone_numbers_keep_their_last_four_digits() {
        let cases = [
            ("to +6281234567890 ok", "to ****7890 ok"),
            ("6281234567890@s.whatsapp.net", "****7890@s.whatsapp.net"),
            (
                "6281234567890:12@s.whatsapp.net",
                "****7890:12@s.whatsapp.net",
            ),
            ("phone=6281234567890&x=1", "phone=****7890&x=1"),
            (r#"{"to":"4915112345678"}"#, r#"{"to":"****5678"}"#),
            ("call 0812345678.", "call ****5678."),
            (
                "\x1b[3mto\x1b[0m\x1b[2m=\x1b[0m6281234567890",
                "\x1b[3mto\x1b[0m\x1b[2m=\x1b[0m****7890",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(masked(input), expected, "input: {input}");
        }
    }

    #[test]
    fn ordinary_log_lines_are_left_alone() {
        let lines = [
            "request_id=550e8400-e29b-41d4-a716-446655440000 done",
            "id=01936f4e-9a2b-7c3d-8e4f-123456789012",
            "2026-11-25T15:13:48.123456Z  INFO wasp: listening addr=127.0.0.1:8080",
            "startup_ms=60 status=200 latency=12 ms",
            "GET /api/admin/customers/cus_01HZX3/keys?page=2&per_page=50",
            "sent 123456789 bytes",
            "too long 12345678901234567890 digits",
            "hex 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "abc1234567890def and 1234567890abc and x_1234567890",
            "pi=3.14159265358979",
            "tokens_used=12 secret_rotation_days=30",
            "the token has expired",
            "hint ak_live_…x7Qp",
            "",
        ];
        for line in lines {
            assert!(
                matches!(sanitize(line), Cow::Borrowed(_)),
                "changed: {line:?} -> {:?}",
                sanitize(line)
            );
        }
    }

    #[test]
    fn sanitising_twice_changes_nothing_more() {
        let line = concat!(
            r#"{"password":"hunter2","to":"+6281234567890"} password=x token: y "#,
            "Bearer abc ak_live_3yQm8Gx7Qp whsec_abc wst1.a.b eyJa.b.c ",
            r#"msg="password=\"p\"" authorization=Bearer abc 6281234567890@s.whatsapp.net"#,
        );
        let once = masked(line);
        assert!(!once.contains("hunter2") && !once.contains("1234567890"));
        let twice = sanitize(&once);
        assert!(matches!(twice, Cow::Borrowed(_)), "{once} -> {twice}");
    }

    /// An in-memory destination for a real subscriber.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn log_secrets() {
        let key = "ak_live_3yQm8Gx7Qp2vN9kLr5TbZ1aWcE4fHjK6sPdX8uYnV2o";
        let span = tracing::info_span!("request", uri = "/api/v1/x?token=abc123secret");
        let _entered = span.enter();
        tracing::info!(
            api_key = key,
            password = "hunter2",
            to = "+6281234567890",
            "sending"
        );
        tracing::warn!(%key, "refused key {key} for 6281234567890@s.whatsapp.net");
    }

    fn assert_masked(out: &str) {
        for secret in [
            "3yQm8Gx7Qp2vN9kLr5TbZ1aWcE4fHjK6sPdX8uYnV2o",
            "hunter2",
            "abc123secret",
            "6281234567890",
        ] {
            assert!(!out.contains(secret), "{secret} leaked into:\n{out}");
        }
        assert!(out.contains("ak_live_***"), "{out}");
        assert!(out.contains("****7890@s.whatsapp.net"), "{out}");
        assert!(
            out.contains("sending") && out.contains("refused key"),
            "{out}"
        );
        assert_eq!(out.lines().count(), 2, "one line per event:\n{out}");
    }

    #[test]
    fn a_plain_text_subscriber_writes_only_sanitised_lines() {
        for ansi in [false, true] {
            let captured = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(ansi)
                .with_writer(SanitizingWriter(captured.clone()))
                .finish();
            tracing::subscriber::with_default(subscriber, log_secrets);
            let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            assert_masked(&out);
        }
    }

    #[test]
    fn a_json_subscriber_writes_only_sanitised_lines() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(SanitizingWriter(captured.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, log_secrets);
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_masked(&out);
        for line in out.lines() {
            let event: serde_json::Value = serde_json::from_str(line).expect("still JSON");
            assert_eq!(event["span"]["uri"], "/api/v1/x?token=***");
        }
        assert!(out.contains(r#""password":"***""#), "{out}");
    }

    #[test]
    fn flush_passes_on_whole_lines_only() {
        let captured = Captured::default();
        let mut writer = SanitizedWrite::new(captured.clone());
        io::Write::write_all(&mut writer, b"one password=hunter2\ntwo pass").unwrap();
        io::Write::flush(&mut writer).unwrap();
        assert_eq!(&*captured.0.lock().unwrap(), b"one password=***\n");
        io::Write::write_all(&mut writer, b"word=hunter2\n").unwrap();
        drop(writer);
        assert_eq!(
            &*captured.0.lock().unwrap(),
            b"one password=***\ntwo password=***\n"
        );
    }
}
