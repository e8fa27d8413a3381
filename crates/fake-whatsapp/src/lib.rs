//! WhatsApp's side of the wire, for tests: whatsapp-rust's real client, on wasp's real
//! session store, connects to this server instead of `web.whatsapp.com` and goes through
//! what it would there, offline.
//!
//! - [`Identity::handshake`]: the Noise handshake, XX on a first connect and IK when the
//!   client knows our static key from a stored certificate chain (a test chain: the client
//!   accepts it only when wacore-noise is built with `danger-skip-cert-chain-verify`, which
//!   this crate turns on; it is a dev-dependency only).
//! - [`FakeWhatsApp`]: a websocket server (`ws://127.0.0.1:<port>/ws/chat`) that, after the
//!   handshake, speaks the binary-node protocol over the Noise transport:
//!   - an unpaired device gets `<pair-device>` with QR refs; [`FakeWhatsApp::scan`] plays
//!     the phone scanning the QR code the client shows: it signs a device identity with a
//!     fresh account key, HMACs it with the ADV secret the QR code carries and sends
//!     `<pair-success>`; the client's `<pair-device-sign>` answer is checked (its device
//!     signature must verify under the identity key it registered) and the server ends
//!     the stream with code 515, as WhatsApp does, so the client reconnects and logs in;
//!   - a paired device logging in (its number and device id as paired) gets `<success>`;
//!     an unknown one `<failure reason="401">`;
//!   - after login, the IQs of the client's post-login sequence are answered: `passive`
//!     (then `<ib><offline count="0">`, the end of the offline queue), app-state sync (each
//!     requested collection, empty), pings; every other IQ gets a 501 error, which the
//!     client logs and moves past.
//!
//! Everything the server sees is recorded ([`Seen`]) for tests to assert on.

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::{mpsc, Notify};
use tokio_websockets::Message;
use whatsapp_rust::{
    buffa::Message as _,
    wacore::{
        framing::{encode_frame, FrameDecoder},
        handshake::NoiseHandshake,
        libsignal::protocol::{KeyPair, PublicKey},
    },
    wacore_binary::{
        builder::NodeBuilder,
        consts::{NOISE_PATTERN_IK, NOISE_PATTERN_XX, WA_CONN_HEADER},
        marshal::{marshal, unmarshal_ref},
        util::unpack,
        Node,
    },
    waproto::whatsapp as wa,
};

type NoiseCipher = wacore_noise::NoiseCipher;

/// WhatsApp's server identity: a static key pair and a certificate chain for it.
pub struct Identity {
    key: KeyPair,
    chain: Vec<u8>,
}

impl Default for Identity {
    fn default() -> Self {
        Identity::new()
    }
}

/// The frames a handshake reads and writes.
pub trait Frames {
    /// The next frame's payload from the client (without the connection header or the
    /// length prefix); `None` when the client went away.
    fn recv(&mut self) -> impl std::future::Future<Output = Option<Vec<u8>>> + Send;
    /// Sends bytes already framed.
    fn send(&mut self, framed: Vec<u8>) -> impl std::future::Future<Output = ()> + Send;
}

/// What a handshake taught the server.
pub struct Handshake {
    /// `"XX"` or `"IK"`.
    pub pattern: &'static str,
    /// The client's static (Noise) public key.
    pub client_static: [u8; 32],
    /// The client's registration (unpaired) or login (paired) payload.
    pub payload: wa::ClientPayload,
    /// The transport ciphers: client to server, server to client.
    ciphers: (NoiseCipher, NoiseCipher),
}

/// An X25519 public key's 32 bytes.
pub fn public(pair: &KeyPair) -> [u8; 32] {
    pair.public_key
        .public_key_bytes()
        .try_into()
        .expect("an X25519 public key has 32 bytes")
}

fn key_pair() -> KeyPair {
    KeyPair::generate(&mut rand010::rng())
}

impl Identity {
    pub fn new() -> Identity {
        let key = key_pair();
        let chain = wacore_noise::test_util::build_cert_chain_bytes(&public(&key));
        Identity { key, chain }
    }

    /// Our static public key (the certificate chain's leaf).
    pub fn static_public(&self) -> [u8; 32] {
        public(&self.key)
    }

    /// Serves one handshake, XX or IK as the client chose (IK when its hello carries a
    /// static key), and accepts it. `None` when the client went away or sent garbage.
    pub async fn handshake(&self, io: &mut impl Frames) -> Option<Handshake> {
        let hello = wa::HandshakeMessage::decode_from_slice(&io.recv().await?)
            .ok()?
            .client_hello
            .into_option()?;
        let client_eph: [u8; 32] = hello.ephemeral.clone()?.try_into().ok()?;
        let server_eph = key_pair();
        let identity_priv = self.key.private_key.serialize();
        let eph_priv = server_eph.private_key.serialize();
        if let (Some(enc_static), Some(enc_payload)) = (hello.r#static, hello.payload) {
            // IK: the client knows our static key from its stored certificate chain.
            let mut noise = NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER).ok()?;
            noise.authenticate(&self.static_public());
            noise.authenticate(&client_eph);
            noise.mix_shared_secret(identity_priv, &client_eph).ok()?;
            let client_static: [u8; 32] = noise.decrypt(&enc_static).ok()?.try_into().ok()?;
            noise
                .mix_shared_secret(identity_priv, &client_static)
                .ok()?;
            let payload = noise.decrypt(&enc_payload).ok()?;
            noise.authenticate(&public(&server_eph));
            noise.mix_shared_secret(eph_priv, &client_eph).ok()?;
            noise.mix_shared_secret(eph_priv, &client_static).ok()?;
            let chain = noise.encrypt(&self.chain).ok()?;
            io.send(server_hello(public(&server_eph), None, chain))
                .await;
            return Some(Handshake {
                pattern: "IK",
                client_static,
                payload: wa::ClientPayload::decode_from_slice(&payload).ok()?,
                ciphers: noise.finish().ok()?,
            });
        }
        // XX: we send our static key and certificate chain; the client answers with its
        // own static key and its payload.
        let mut noise = NoiseHandshake::new(NOISE_PATTERN_XX, &WA_CONN_HEADER).ok()?;
        noise.authenticate(&client_eph);
        noise.authenticate(&public(&server_eph));
        noise.mix_shared_secret(eph_priv, &client_eph).ok()?;
        let enc_static = noise.encrypt(&self.static_public()).ok()?;
        noise.mix_shared_secret(identity_priv, &client_eph).ok()?;
        let enc_chain = noise.encrypt(&self.chain).ok()?;
        io.send(server_hello(
            public(&server_eph),
            Some(enc_static),
            enc_chain,
        ))
        .await;
        let finish = wa::HandshakeMessage::decode_from_slice(&io.recv().await?)
            .ok()?
            .client_finish
            .into_option()?;
        let client_static: [u8; 32] = noise.decrypt(&finish.r#static?).ok()?.try_into().ok()?;
        noise.mix_shared_secret(eph_priv, &client_static).ok()?;
        let payload = noise.decrypt(&finish.payload?).ok()?;
        Some(Handshake {
            pattern: "XX",
            client_static,
            payload: wa::ClientPayload::decode_from_slice(&payload).ok()?,
            ciphers: noise.finish().ok()?,
        })
    }
}

/// The server's hello, framed: our ephemeral key, our encrypted static key (XX only) and
/// the encrypted certificate chain.
fn server_hello(ephemeral: [u8; 32], enc_static: Option<Vec<u8>>, enc_chain: Vec<u8>) -> Vec<u8> {
    let hello = wa::HandshakeMessage {
        server_hello: whatsapp_rust::buffa::MessageField::some(
            wa::handshake_message::ServerHello {
                ephemeral: Some(ephemeral.to_vec()),
                r#static: enc_static,
                payload: Some(enc_chain),
                ..Default::default()
            },
        ),
        ..Default::default()
    };
    encode_frame(&hello.encode_to_vec(), None).expect("a handshake frame")
}

// ---------------------------------------------------------------------------
// The websocket server
// ---------------------------------------------------------------------------

/// Something the server saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A handshake: its pattern, and the number logging in (`None`: a device to pair).
    Handshake {
        pattern: &'static str,
        username: Option<u64>,
    },
    /// The QR refs sent to a device to pair.
    PairDevice { refs: Vec<String> },
    /// A scan's `<pair-success>` answered by a valid `<pair-device-sign>`.
    Paired { jid: String, key_index: u32 },
    /// A login accepted with `<success>`.
    LoggedIn { jid: String },
    /// A login refused with `<failure reason="401">`.
    Refused { username: u64, device: u32 },
    /// An IQ from the client: its `xmlns` and `type`.
    Iq { xmlns: String, kind: String },
}

/// A paired device, as WhatsApp knows it.
#[derive(Debug, Clone)]
struct Device {
    device: u32,
    lid: String,
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    /// The connection of the device waiting to be paired, with the identity and refs it
    /// was offered.
    pairing: Option<Pairing>,
    /// Paired devices by phone number.
    devices: HashMap<u64, Device>,
    /// A scan's pair-success waiting for the client's signature.
    pending: Option<Pending>,
}

struct Pairing {
    to_client: mpsc::UnboundedSender<Node>,
    identity: [u8; 32],
    refs: Vec<String>,
}

struct Pending {
    id: String,
    phone: u64,
    device: u32,
    account: [u8; 32],
    details: Vec<u8>,
    identity: [u8; 32],
}

struct Shared {
    identity: Identity,
    state: Mutex<State>,
    changed: Notify,
}

impl Shared {
    fn record(&self, seen: Seen) {
        self.state.lock().unwrap().seen.push(seen);
        self.changed.notify_waiters();
    }
}

/// The fake WhatsApp server (stops when dropped).
pub struct FakeWhatsApp {
    url: String,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWhatsApp {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FakeWhatsApp {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> FakeWhatsApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("ws://{}/ws/chat", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            identity: Identity::new(),
            state: Mutex::default(),
            changed: Notify::new(),
        });
        let serving = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(connection(serving.clone(), tcp));
            }
        });
        FakeWhatsApp {
            url,
            shared,
            accept,
        }
    }

    /// Where clients connect (`WASP_LIVE_WS_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.state.lock().unwrap().seen.clone()
    }

    /// Waits (up to `timeout`) until `done` holds for what was seen; answers what was seen.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[Seen]) -> bool,
    ) -> Result<Vec<Seen>, Vec<Seen>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            let seen = self.seen();
            if done(&seen) {
                return Ok(seen);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(self.seen());
            }
        }
    }

    /// The phone scans `qr` (the code the client shows) for `phone` (digits): sends
    /// `<pair-success>` to the device waiting to pair. Answers the device's JID.
    pub fn scan(&self, qr: &str, phone: u64) -> Result<String, String> {
        let fields: Vec<&str> = qr.split(',').collect();
        let [reference, _noise, identity, secret, ..] = fields[..] else {
            return Err(format!("not a WhatsApp QR code: {qr}"));
        };
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s);
        let identity: [u8; 32] = b64(identity)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or("the QR code's identity key")?;
        let secret = b64(secret).map_err(|e| format!("the QR code's ADV secret: {e}"))?;
        let mut state = self.shared.state.lock().unwrap();
        let pairing = state
            .pairing
            .as_ref()
            .ok_or("no device is waiting to be paired")?;
        if !pairing.refs.iter().any(|r| r == reference) {
            return Err(format!("the QR code's ref {reference} was not issued"));
        }
        if pairing.identity != identity {
            return Err("the QR code's identity is not the one the device registered".into());
        }
        let device = 7;
        let account = key_pair();
        let now = unix_now();
        let details = wa::ADVDeviceIdentity {
            raw_id: Some(u32::try_from(phone % 1_000_000_007).unwrap_or(1)),
            timestamp: Some(now),
            key_index: Some(1),
            ..Default::default()
        }
        .encode_to_vec();
        let signed_message = [&[6u8, 0][..], &details, &identity].concat();
        let signature = account
            .private_key
            .calculate_signature(&signed_message, &mut rand010::rng())
            .map_err(|e| e.to_string())?;
        let signed = wa::ADVSignedDeviceIdentity {
            details: Some(details.clone()),
            account_signature_key: Some(public(&account).to_vec()),
            account_signature: Some(signature.to_vec()),
            ..Default::default()
        }
        .encode_to_vec();
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).map_err(|e| e.to_string())?;
        mac.update(&signed);
        let container = wa::ADVSignedDeviceIdentityHMAC {
            details: Some(signed),
            hmac: Some(mac.finalize().into_bytes().to_vec()),
            ..Default::default()
        }
        .encode_to_vec();
        let jid = format!("{phone}:{device}@s.whatsapp.net");
        let lid = format!("{}", 100_000_000_000_000 + phone % 100_000_000_000_000);
        let id = format!("pair-success-{now}");
        let success = NodeBuilder::new("iq")
            .attr("from", "s.whatsapp.net")
            .attr("type", "set")
            .attr("id", id.clone())
            .attr("xmlns", "md")
            .attr("t", now.to_string())
            .children([NodeBuilder::new("pair-success")
                .children([
                    NodeBuilder::new("device-identity").bytes(container).build(),
                    NodeBuilder::new("platform").attr("name", "android").build(),
                    NodeBuilder::new("device")
                        .attr("jid", jid.clone())
                        .attr("lid", format!("{lid}:{device}@lid"))
                        .build(),
                ])
                .build()])
            .build();
        pairing
            .to_client
            .send(success)
            .map_err(|_| "the device waiting to pair went away")?;
        state.pending = Some(Pending {
            id,
            phone,
            device,
            account: public(&account),
            details,
            identity,
        });
        Ok(jid)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// One websocket's frames.
struct WsFrames<S> {
    ws: tokio_websockets::WebSocketStream<S>,
    decoder: FrameDecoder,
    first: bool,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Frames for WsFrames<S> {
    async fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(frame) = self.decoder.decode_frame() {
                return Some(frame.to_vec());
            }
            let message = self.ws.next().await?.ok()?;
            if message.is_close() {
                return None;
            }
            let data: &[u8] = message.as_payload();
            let data = if self.first {
                self.first = false;
                data.strip_prefix(&WA_CONN_HEADER[..]).unwrap_or(data)
            } else {
                data
            };
            self.decoder.feed(data);
        }
    }

    async fn send(&mut self, framed: Vec<u8>) {
        let _ = self.ws.send(Message::binary(framed)).await;
    }
}

/// A connection after its handshake: nodes over the Noise transport.
struct Conn<S> {
    frames: WsFrames<S>,
    from_client: NoiseCipher,
    to_client: NoiseCipher,
    received: u32,
    sent: u32,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Conn<S> {
    async fn send(&mut self, node: &Node) {
        let plain = marshal(node).expect("a node marshals");
        let sealed = self
            .to_client
            .encrypt_with_counter(self.sent, &plain)
            .expect("encrypt");
        self.sent += 1;
        let framed = encode_frame(&sealed, None).expect("a frame");
        self.frames.send(framed).await;
    }

    /// The next node from the client (`None`: gone).
    async fn recv(&mut self) -> Option<Node> {
        let mut sealed = self.frames.recv().await?;
        self.from_client
            .decrypt_in_place_with_counter(self.received, &mut sealed)
            .ok()?;
        self.received += 1;
        let plain = unpack(&sealed).ok()?;
        Some(unmarshal_ref(&plain).ok()?.to_owned())
    }
}

fn attr(node: &Node, name: &str) -> String {
    node.attrs()
        .optional_string(name)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

fn iq_answer(id: &str, kind: &'static str) -> NodeBuilder {
    NodeBuilder::new("iq")
        .attr("from", "s.whatsapp.net")
        .attr("type", kind)
        .attr("id", id.to_owned())
}

async fn connection(shared: Arc<Shared>, tcp: tokio::net::TcpStream) {
    let Ok((_, ws)) = tokio_websockets::ServerBuilder::new().accept(tcp).await else {
        return;
    };
    let mut frames = WsFrames {
        ws,
        decoder: FrameDecoder::new(),
        first: true,
    };
    let Some(handshake) = shared.identity.handshake(&mut frames).await else {
        return;
    };
    let (from_client, to_client) = handshake.ciphers;
    let mut conn = Conn {
        frames,
        from_client,
        to_client,
        received: 0,
        sent: 0,
    };
    let username = handshake.payload.username;
    shared.record(Seen::Handshake {
        pattern: handshake.pattern,
        username,
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<Node>();
    match username {
        None => {
            let identity: Option<[u8; 32]> = handshake
                .payload
                .device_pairing_data
                .as_option()
                .and_then(|p| p.e_ident.clone())
                .and_then(|k| k.try_into().ok());
            let Some(identity) = identity else { return };
            let refs: Vec<String> = (1..=6)
                .map(|n| format!("2@fake-ref-{n}-{}", unix_now()))
                .collect();
            shared.state.lock().unwrap().pairing = Some(Pairing {
                to_client: tx.clone(),
                identity,
                refs: refs.clone(),
            });
            let pair_device = NodeBuilder::new("iq")
                .attr("from", "s.whatsapp.net")
                .attr("type", "set")
                .attr("id", "pair-device-1")
                .attr("xmlns", "md")
                .children([NodeBuilder::new("pair-device")
                    .children(refs.iter().map(|r| {
                        NodeBuilder::new("ref")
                            .bytes(r.clone().into_bytes())
                            .build()
                    }))
                    .build()])
                .build();
            conn.send(&pair_device).await;
            shared.record(Seen::PairDevice { refs });
        }
        Some(phone) => {
            let device = handshake.payload.device.unwrap_or(0);
            let known = shared.state.lock().unwrap().devices.get(&phone).cloned();
            match known {
                Some(known) if known.device == device => {
                    let success = NodeBuilder::new("success")
                        .attr("t", unix_now().to_string())
                        .attr("lid", format!("{}@lid", known.lid))
                        .attr("props", "1")
                        .attr("location", "fake")
                        .build();
                    conn.send(&success).await;
                    shared.record(Seen::LoggedIn {
                        jid: format!("{phone}:{device}@s.whatsapp.net"),
                    });
                }
                _ => {
                    let failure = NodeBuilder::new("failure").attr("reason", "401").build();
                    conn.send(&failure).await;
                    shared.record(Seen::Refused {
                        username: phone,
                        device,
                    });
                    return;
                }
            }
        }
    }
    loop {
        tokio::select! {
            outgoing = rx.recv() => {
                let Some(node) = outgoing else { return };
                conn.send(&node).await;
            }
            incoming = conn.recv() => {
                let Some(node) = incoming else { return };
                if !answer(&shared, &mut conn, &node).await {
                    return;
                }
            }
        }
    }
}

/// Answers one node from the client; `false` ends the connection.
async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send>(
    shared: &Shared,
    conn: &mut Conn<S>,
    node: &Node,
) -> bool {
    if node.tag != "iq" {
        return true;
    }
    let id = attr(node, "id");
    let kind = attr(node, "type");
    let xmlns = attr(node, "xmlns");
    if kind == "result" {
        if let Some(sign) = node.get_optional_child_by_tag(&["pair-device-sign", "device-identity"])
        {
            return paired(shared, conn, &id, sign).await;
        }
        return true;
    }
    if kind != "get" && kind != "set" {
        return true;
    }
    shared.record(Seen::Iq {
        xmlns: xmlns.clone(),
        kind,
    });
    let reply = match xmlns.as_str() {
        "passive" | "w:p" => iq_answer(&id, "result").build(),
        "w:sync:app:state" => {
            let collections = node
                .get_optional_child_by_tag(&["sync"])
                .and_then(|sync| sync.children())
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    NodeBuilder::new("collection")
                        .attr("name", attr(c, "name"))
                        .attr("version", attr(c, "version"))
                        .build()
                })
                .collect::<Vec<_>>();
            iq_answer(&id, "result")
                .children([NodeBuilder::new("sync").children(collections).build()])
                .build()
        }
        _ => iq_answer(&id, "error")
            .children([NodeBuilder::new("error")
                .attr("code", "501")
                .attr("text", "feature-not-implemented")
                .build()])
            .build(),
    };
    conn.send(&reply).await;
    if xmlns == "passive" {
        // The end of the (empty) offline queue, which the client waits for once active.
        let offline = NodeBuilder::new("ib")
            .children([NodeBuilder::new("offline").attr("count", "0").build()])
            .build();
        conn.send(&offline).await;
    }
    true
}

/// The client's `<pair-device-sign>`: its device signature must verify under the identity
/// key it registered; then WhatsApp knows the device, and ends the stream with 515.
async fn paired<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send>(
    shared: &Shared,
    conn: &mut Conn<S>,
    id: &str,
    sign: &Node,
) -> bool {
    let pending = {
        let mut state = shared.state.lock().unwrap();
        match state.pending.take() {
            Some(p) if p.id == id => p,
            other => {
                state.pending = other;
                return true;
            }
        }
    };
    let key_index = attr(sign, "key-index").parse::<u32>().unwrap_or_default();
    let signed = match &sign.content {
        Some(whatsapp_rust::wacore_binary::NodeContent::Bytes(b)) => {
            wa::ADVSignedDeviceIdentity::decode_from_slice(b).ok()
        }
        _ => None,
    };
    let valid = signed.is_some_and(|signed| {
        let message = [
            &[6u8, 1][..],
            &pending.details,
            &pending.identity,
            &pending.account,
        ]
        .concat();
        let device_key = PublicKey::from_djb_public_key_bytes(&pending.identity);
        signed.details.as_deref() == Some(&pending.details[..])
            && device_key.is_ok_and(|key| {
                key.verify_signature(
                    &message,
                    signed.device_signature.as_deref().unwrap_or_default(),
                )
            })
    });
    if !valid {
        return false;
    }
    let lid = format!(
        "{}",
        100_000_000_000_000 + pending.phone % 100_000_000_000_000
    );
    {
        let mut state = shared.state.lock().unwrap();
        state.devices.insert(
            pending.phone,
            Device {
                device: pending.device,
                lid,
            },
        );
        state.pairing = None;
    }
    shared.record(Seen::Paired {
        jid: format!("{}:{}@s.whatsapp.net", pending.phone, pending.device),
        key_index,
    });
    let restart = NodeBuilder::new("stream:error").attr("code", "515").build();
    conn.send(&restart).await;
    false
}
