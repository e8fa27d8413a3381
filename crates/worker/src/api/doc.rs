//! One table builds both the customer API's router and its OpenAPI description, so the
//! two cannot drift: every route is added with its documentation.
//!
//! ```ignore
//! Api::default().post(
//!     "/api/v1/send/message",
//!     send_message,
//!     doc("send", "Send a text message").json::<SendMessage>().returns::<SentMessage>().errors(SEND),
//! )
//! ```
//!
//! Every operation gets: its path parameters, the `api_key` security requirement, a
//! success answer in the `{success: true, data}` envelope (or the raw file it returns),
//! and one error answer per HTTP status it can fail with, naming the error codes.

use crate::WorkerState;
use axum::{
    handler::Handler,
    routing::{on, MethodFilter},
    Router,
};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::{
    openapi::{
        content::ContentBuilder,
        path::{HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn},
        request_body::RequestBodyBuilder,
        response::ResponseBuilder,
        schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type},
        security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme},
        tag::TagBuilder,
        KnownFormat, OpenApi, Ref, RefOr, Required, Schema, SchemaFormat,
    },
    IntoParams, ToSchema,
};
use wasp_http::error::code as http;

/// The name of the customer API's security scheme (management defines the same one).
pub const SECURITY_SCHEME: &str = "api_key";

pub use wasp_http::error::{ErrorBody, ErrorDetail};

// ---- The strings the customer API validates, as patterns that accept exactly what the
// validators do (jid.rs `normalize_phone` and `Jid::parse_recipient`, groups.rs
// `invite_code`), so a client generated from the document sends what the server takes.
// Request fields name them with `#[schema(value_type = …)]` / `#[param(value_type = …)]`.

/// Leading or trailing spaces the validators trim.
const TRIM: &str = r"[ \t\n\r]*";
/// A phone number: 8 to 15 digits, the first not 0, an optional leading `+`, and spaces,
/// dashes, dots or parentheses between them.
const PHONE_BODY: &str = r"\+?[ .()-]*[1-9](?:[ .()-]*[0-9]){7,14}[ .()-]*";
/// A device suffix (`:12`) the validators drop.
const DEVICE: &str = r"(?::[^@\x00]*)?";

fn rule(pattern: String, description: &str, example: &str) -> RefOr<Schema> {
    string()
        .pattern(Some(pattern))
        .description(Some(description))
        .examples([serde_json::json!(example)])
        .into()
}

macro_rules! string_rule {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl ToSchema for $name {}
    };
}

string_rule!(
    /// A phone number in international format.
    Phone => rule(
        format!("^{TRIM}{PHONE_BODY}{TRIM}$"),
        "A phone number in international format, country code first: 8 to 15 digits (`6281234567890`, `+62 812-3456-7890`).",
        "6281234567890",
    )
);
fn recipient_pattern() -> String {
    format!(
        r"^{TRIM}(?:{PHONE_BODY}|{PHONE_BODY}{DEVICE}@s\.whatsapp\.net|[0-9-]{{1,40}}{DEVICE}@g\.us|[0-9]{{1,40}}{DEVICE}@(?:lid|newsletter)){TRIM}$"
    )
}

string_rule!(
    /// A recipient: a phone number or a JID.
    Recipient => rule(
        recipient_pattern(),
        "A phone number in international format (`6281234567890`, `+62 812-3456-7890`) or a JID: `…@s.whatsapp.net`, a group's `…@g.us`, a LID `…@lid`, a channel's `…@newsletter`.",
        "6281234567890",
    )
);
string_rule!(
    /// Someone to mention: a recipient, or `@everyone` in a group.
    Mention => rule(
        format!("(?:{})|^@everyone$", recipient_pattern()),
        "A phone number or JID, or `@everyone` (in a group).",
        "6281234567890",
    )
);
string_rule!(
    /// A group's JID.
    GroupJid => rule(
        format!(r"^{TRIM}[0-9-]{{1,40}}{DEVICE}@g\.us{TRIM}$"),
        "A group's id (JID), such as `120363025246125888@g.us`.",
        "120363025246125888@g.us",
    )
);
string_rule!(
    /// A newsletter's (channel's) JID.
    NewsletterJid => rule(
        format!(r"^{TRIM}[0-9]{{1,40}}{DEVICE}@newsletter{TRIM}$"),
        "A newsletter (channel) id, such as `120363025246125999@newsletter`.",
        "120363025246125999@newsletter",
    )
);
string_rule!(
    /// A group invite link or its code.
    GroupInviteLink => rule(
        format!(r"^{TRIM}(?:https://chat\.whatsapp\.com/)?[A-Za-z0-9]{{16,40}}{TRIM}$"),
        "A group invite link (`https://chat.whatsapp.com/…`) or its code (16 to 40 letters and digits).",
        "https://chat.whatsapp.com/AbCdEfGhIjKlMnOp1234",
    )
);

string_rule!(
    /// A message text: 1 to 4096 characters, not only spaces, no NUL.
    Text => string()
        .min_length(Some(1))
        .max_length(Some(4096))
        .pattern(Some(r"^[^\x00]*[^\s\x00][^\x00]*$"))
        .description(Some("1 to 4096 characters, not only spaces."))
        .into()
);
string_rule!(
    /// A disappearing-message timer.
    DisappearingTimer => ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .enum_values(Some([0, 86_400, 604_800, 7_776_000]))
        .description(Some("Seconds: 0 (off), 86400 (24 hours), 604800 (7 days) or 7776000 (90 days)."))
        .into()
);

/// `meta` of a paginated list of the customer API.
#[derive(Serialize, ToSchema)]
pub struct ListMeta {
    /// How many items match, over all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The HTTP status an error code is answered with.
pub fn status_of(code: &str) -> u16 {
    use crate::api::code as api;
    match code {
        http::VALIDATION_ERROR
        | http::INVALID_JSON
        | api::NOT_ON_WHATSAPP
        | api::MEDIA_FETCH_FAILED => 400,
        http::INVALID_API_KEY | http::UNAUTHORIZED => 401,
        http::FORBIDDEN | http::CUSTOMER_SUSPENDED => 403,
        http::NOT_FOUND | api::MEDIA_UNAVAILABLE => 404,
        api::SESSION_NOT_CONNECTED
        | api::SESSION_NOT_LOGGED_IN
        | api::ALREADY_LOGGED_IN
        | api::NO_PENDING_LOGIN => 409,
        http::PAYLOAD_TOO_LARGE => 413,
        http::UNSUPPORTED_MEDIA_TYPE => 415,
        http::IDEMPOTENCY_KEY_REUSED | http::IDEMPOTENCY_IN_PROGRESS | http::CONFLICT => 409,
        http::RATE_LIMIT_EXCEEDED | http::IP_BANNED => 429,
        http::INTERNAL_ERROR => 500,
        http::WORKER_UNAVAILABLE
        | http::SERVICE_UNAVAILABLE
        | api::DRIVER_UNAVAILABLE
        | api::SESSION_MOVED => 503,
        http::WORKER_TIMEOUT => 504,
        other => panic!("apidoc: no HTTP status known for error code {other}"),
    }
}

/// Errors any customer call can meet on its way (management's gateway: key, scope, plan
/// limits; the worker).
const COMMON_ERRORS: [&str; 10] = [
    http::INVALID_API_KEY,
    http::CUSTOMER_SUSPENDED,
    http::FORBIDDEN,
    http::RATE_LIMIT_EXCEEDED,
    http::IP_BANNED,
    http::INTERNAL_ERROR,
    http::WORKER_UNAVAILABLE,
    crate::api::code::SESSION_MOVED,
    http::SERVICE_UNAVAILABLE,
    http::WORKER_TIMEOUT,
];

#[derive(Clone)]
enum Body {
    None,
    Json {
        schema: RefOr<Schema>,
        required: bool,
    },
    Multipart(Schema),
}

#[derive(Clone)]
enum Data {
    /// `data` is some JSON object.
    Any,
    /// `data` has this schema.
    Schema(RefOr<Schema>),
    /// `data` is a page of these, with `meta`.
    Page(RefOr<Schema>),
    /// No envelope: the body is a file of this content type.
    File {
        content_type: &'static str,
        description: &'static str,
    },
}

/// The documentation of one operation.
#[derive(Clone)]
pub struct Doc {
    tag: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    body: Body,
    params: Vec<Parameter>,
    data: Data,
    status: u16,
    errors: Vec<&'static str>,
    components: Vec<(String, RefOr<Schema>)>,
}

/// Starts the documentation of an operation.
pub fn doc(tag: &'static str, summary: &'static str) -> Doc {
    Doc {
        tag,
        summary,
        description: None,
        body: Body::None,
        params: Vec::new(),
        data: Data::Any,
        status: 200,
        errors: Vec::new(),
        components: Vec::new(),
    }
}

fn reference<T: ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    components.push((T::name().into_owned(), T::schema()));
    T::schemas(components);
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

impl Doc {
    /// A longer explanation (Markdown).
    pub fn describe(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    /// A JSON request body.
    pub fn json<T: ToSchema>(mut self) -> Self {
        let schema = reference::<T>(&mut self.components);
        self.body = Body::Json {
            schema,
            required: true,
        };
        self.errors.extend([
            http::VALIDATION_ERROR,
            http::INVALID_JSON,
            http::PAYLOAD_TOO_LARGE,
        ]);
        self
    }

    /// A JSON request body that may be left out entirely.
    pub fn optional_json<T: ToSchema>(mut self) -> Self {
        self = self.json::<T>();
        if let Body::Json { required, .. } = &mut self.body {
            *required = false;
        }
        self
    }

    /// A JSON object of any shape as the request body, which may be left out.
    pub fn optional_object_body(mut self) -> Self {
        let schema = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .into();
        self.body = Body::Json {
            schema,
            required: false,
        };
        self.errors
            .extend([http::INVALID_JSON, http::PAYLOAD_TOO_LARGE]);
        self
    }

    /// Query parameters.
    pub fn query<T: IntoParams>(mut self) -> Self {
        self.params
            .extend(T::into_params(|| Some(ParameterIn::Query)));
        self.errors.push(http::VALIDATION_ERROR);
        self
    }

    /// The `data` of a successful answer.
    pub fn returns<T: ToSchema>(mut self) -> Self {
        self.data = Data::Schema(reference::<T>(&mut self.components));
        self
    }

    /// `data` is a list of `T`.
    pub fn returns_list<T: ToSchema>(mut self) -> Self {
        let item = reference::<T>(&mut self.components);
        self.data = Data::Schema(ArrayBuilder::new().items(item).build().into());
        self
    }

    /// `data` is a list of JSON objects.
    pub fn returns_objects(mut self) -> Self {
        let item = ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object));
        self.data = Data::Schema(ArrayBuilder::new().items(item).build().into());
        self
    }

    /// `data` is one page of `T`, with `meta: {total, limit, offset}`.
    pub fn returns_page<T: ToSchema>(mut self) -> Self {
        let item = reference::<T>(&mut self.components);
        reference::<ListMeta>(&mut self.components);
        self.data = Data::Page(item);
        self
    }

    /// The answer is a file, not JSON.
    pub fn returns_file(mut self, content_type: &'static str, description: &'static str) -> Self {
        self.data = Data::File {
            content_type,
            description,
        };
        self
    }

    /// Success is `201 Created` (instead of 200).
    pub fn created(mut self) -> Self {
        self.status = 201;
        self
    }

    /// Error codes this operation can answer with, besides the ones every call can meet
    /// and those its input implies (validation, malformed JSON, unknown path ids).
    pub fn errors(mut self, codes: &[&'static str]) -> Self {
        self.errors.extend_from_slice(codes);
        self
    }

    /// A multipart form: a file in `file` (or, `with_url`, its URL in `{file}_url`) and
    /// text `fields` (name, meaning); `required` names the parts that must be there.
    pub fn multipart(
        mut self,
        file: &str,
        with_url: bool,
        fields: &[(&str, &str)],
        required: &[&str],
    ) -> Self {
        let mut form = ObjectBuilder::new().property(
            file,
            string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
        );
        if with_url {
            form = form.property(
                format!("{file}_url"),
                string().description(Some(format!(
                    "An http(s) URL to fetch instead of uploading `{file}` (private addresses are refused)."
                ))),
            );
        }
        for (name, description) in fields {
            // A recipient or a group follows its named rule; other fields are free text.
            let rule = match *name {
                "phone" => Some(Recipient::name()),
                "group_id" => Some(GroupJid::name()),
                _ => None,
            };
            let field: RefOr<Schema> = match rule {
                Some(rule) => {
                    let mut rule = Ref::from_schema_name(rule);
                    rule.description = (*description).to_owned();
                    RefOr::Ref(rule)
                }
                None => string().description(Some(*description)).into(),
            };
            form = form.property(*name, field);
        }
        for name in required {
            form = form.required(*name);
        }
        self.body = Body::Multipart(form.build().into());
        self.errors.extend([
            http::VALIDATION_ERROR,
            http::PAYLOAD_TOO_LARGE,
            http::UNSUPPORTED_MEDIA_TYPE,
        ]);
        self
    }

    fn success(&self) -> utoipa::openapi::Response {
        let json_envelope = |data: RefOr<Schema>, page: bool| {
            let mut envelope = ObjectBuilder::new()
                .property(
                    "success",
                    ObjectBuilder::new().schema_type(SchemaType::Type(Type::Boolean)),
                )
                .required("success")
                .property("data", data)
                .required("data");
            if page {
                envelope = envelope
                    .property("meta", RefOr::Ref(Ref::from_schema_name(ListMeta::name())))
                    .required("meta");
            }
            ContentBuilder::new().schema(Some(envelope)).build()
        };
        let builder = ResponseBuilder::new();
        match &self.data {
            Data::Any => builder
                .description("Success: `{success: true, data}`")
                .content(
                    "application/json",
                    json_envelope(
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Type(Type::Object))
                            .into(),
                        false,
                    ),
                ),
            Data::Schema(data) => builder
                .description("Success: `{success: true, data}`")
                .content("application/json", json_envelope(data.clone(), false)),
            Data::Page(item) => builder
                .description(
                    "Success: `{success: true, data: [...], meta: {total, limit, offset}}`",
                )
                .content(
                    "application/json",
                    json_envelope(ArrayBuilder::new().items(item.clone()).build().into(), true),
                ),
            Data::File {
                content_type,
                description,
            } => builder.description(*description).content(
                *content_type,
                ContentBuilder::new()
                    .schema(Some(
                        string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
                    ))
                    .build(),
            ),
        }
        .build()
    }

    fn operation(&self, method: HttpMethod, path: &str) -> Operation {
        let mut errors = self.errors.clone();
        let mut path_params = path_params(path);
        if !path_params.is_empty() {
            errors.push(http::NOT_FOUND);
        }
        if is_send(&method, path) {
            errors.extend([http::IDEMPOTENCY_KEY_REUSED, http::IDEMPOTENCY_IN_PROGRESS]);
            path_params.push(idempotency_key_param());
        }
        errors.extend(COMMON_ERRORS);
        let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
        for code in errors {
            let codes = by_status.entry(status_of(code)).or_default();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        let mut op = OperationBuilder::new()
            .tag(self.tag)
            .summary(Some(self.summary))
            .description(self.description)
            .operation_id(Some(operation_id(&method, path)))
            .parameters(
                (!path_params.is_empty() || !self.params.is_empty())
                    .then(|| path_params.into_iter().chain(self.params.iter().cloned())),
            )
            .response(self.status.to_string(), self.success())
            .security(SecurityRequirement::new(
                SECURITY_SCHEME,
                Vec::<String>::new(),
            ));
        for (status, codes) in by_status {
            let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
            op = op.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description(list.join(", "))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(Ref::from_schema_name(ErrorBody::name()))))
                            .build(),
                    )
                    .build(),
            );
        }
        op = match &self.body {
            Body::None => op,
            Body::Json { schema, required } => op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(if *required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema.clone())).build(),
                    )
                    .build(),
            )),
            Body::Multipart(schema) => op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "multipart/form-data",
                        ContentBuilder::new().schema(Some(schema.clone())).build(),
                    )
                    .build(),
            )),
        };
        op.build()
    }
}

/// `post_send_message` for `POST /api/v1/send/message`, `get_message` for
/// `GET /api/v1/message/{message_id}`: unique per method and path, and apart from
/// management's operation ids (which carry no method prefix).
fn operation_id(method: &HttpMethod, path: &str) -> String {
    let method = match method {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Delete => "delete",
        HttpMethod::Patch => "patch",
        HttpMethod::Head => "head",
        HttpMethod::Options => "options",
        HttpMethod::Trace => "trace",
    };
    let mut id = method.to_owned();
    let segments: Vec<&str> = path.trim_start_matches("/api/v1").split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if seg.is_empty() || seg.starts_with('{') {
            continue;
        }
        // A collection followed by one item's id names the item: `/webhooks/{id}` →
        // `webhook`, so it differs from the collection's own operation.
        let item = segments
            .get(i + 1)
            .is_some_and(|next| next.starts_with('{'));
        let seg = match seg.strip_suffix('s') {
            Some(singular) if item => singular,
            _ => seg,
        };
        id.push('_');
        id.extend(
            seg.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

/// Whether an operation sends a message (idempotent with a key; counted as a message).
fn is_send(method: &HttpMethod, path: &str) -> bool {
    matches!(method, HttpMethod::Post)
        && ((path.starts_with("/api/v1/send/")
            && !matches!(path, "/api/v1/send/presence" | "/api/v1/send/chat-presence"))
            || path.ends_with("/forward"))
}

fn idempotency_key_param() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Any unique string (≤ 255 characters, e.g. a UUID). A retry with the same key \
             within 24 hours sends nothing and gets the first answer again, marked \
             `Idempotent-Replayed: true`; the same key with a different request is `409 \
             IDEMPOTENCY_KEY_REUSED`, and `409 IDEMPOTENCY_IN_PROGRESS` while the first is \
             still being answered.",
        ))
        // Visible ASCII, not only spaces (management's idempotency.rs trims and checks).
        .schema(Some(
            string()
                .max_length(Some(255))
                .pattern(Some(r"^[\t\x20-\x7e]*[\x21-\x7e][\t\x20-\x7e]*$")),
        ))
        .build()
}

fn path_params(path: &str) -> Vec<Parameter> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let description = match name {
                "message_id" => Some("The message's id, as returned when it was sent or received"),
                "chat_jid" => Some("The chat: a JID (`6281234567890@s.whatsapp.net`, `120363…@g.us`) or a phone number"),
                _ => None,
            };
            let schema = match name {
                "chat_jid" => RefOr::Ref(Ref::from_schema_name(Recipient::name())),
                _ => string().into(),
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(description)
                .schema(Some(schema))
                .build()
        })
        .collect()
}

/// The router and the document being built together.
pub struct Api {
    pub router: Router<WorkerState>,
    pub doc: OpenApi,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            router: Router::new(),
            doc: OpenApi::default(),
        }
    }
}

fn method_of(method: &HttpMethod) -> MethodFilter {
    match method {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Delete => MethodFilter::DELETE,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Head => MethodFilter::HEAD,
        HttpMethod::Options => MethodFilter::OPTIONS,
        HttpMethod::Trace => MethodFilter::TRACE,
    }
}

impl Api {
    /// Routes `methods` of `path` to `handler` and documents one operation per method.
    pub fn on<H, T>(
        mut self,
        methods: &[HttpMethod],
        path: &'static str,
        handler: H,
        d: Doc,
    ) -> Self
    where
        H: Handler<T, WorkerState>,
        T: 'static,
    {
        let filter = methods
            .iter()
            .map(method_of)
            .reduce(MethodFilter::or)
            .expect("at least one method");
        self.router = self.router.route(path, on(filter, handler));
        for method in methods {
            self.doc.paths.add_path_operation(
                path,
                vec![method.clone()],
                d.operation(method.clone(), path),
            );
        }
        let mut components = d.components;
        reference::<ErrorBody>(&mut components);
        reference::<Recipient>(&mut components);
        reference::<GroupJid>(&mut components);
        let schemas = &mut self
            .doc
            .components
            .get_or_insert_with(Default::default)
            .schemas;
        for (name, schema) in components {
            match schemas.get(&name) {
                None => {
                    schemas.insert(name, schema);
                }
                Some(existing) => debug_assert!(
                    serde_json::to_value(existing).ok() == serde_json::to_value(&schema).ok(),
                    "apidoc: two different schemas are named {name}"
                ),
            }
        }
        self
    }

    pub fn get<H, T>(self, path: &'static str, handler: H, d: Doc) -> Self
    where
        H: Handler<T, WorkerState>,
        T: 'static,
    {
        self.on(&[HttpMethod::Get], path, handler, d)
    }

    pub fn post<H, T>(self, path: &'static str, handler: H, d: Doc) -> Self
    where
        H: Handler<T, WorkerState>,
        T: 'static,
    {
        self.on(&[HttpMethod::Post], path, handler, d)
    }

    pub fn delete<H, T>(self, path: &'static str, handler: H, d: Doc) -> Self
    where
        H: Handler<T, WorkerState>,
        T: 'static,
    {
        self.on(&[HttpMethod::Delete], path, handler, d)
    }

    /// Adds a tag's description.
    pub fn tag(mut self, name: &str, description: &str) -> Self {
        self.doc.tags.get_or_insert_with(Vec::new).push(
            TagBuilder::new()
                .name(name)
                .description(Some(description))
                .build(),
        );
        self
    }

    /// Adds the `api_key` security scheme: `X-API-Key` (or `Authorization: Bearer ak_…`).
    pub fn with_security_scheme(mut self) -> Self {
        self.doc
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                SECURITY_SCHEME,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "X-API-Key",
                    API_KEY_DESCRIPTION,
                ))),
            );
        self
    }

    /// Adds routes that are served but not documented (the internal API).
    pub fn undocumented(mut self, router: Router<WorkerState>) -> Self {
        self.router = self.router.merge(router);
        self
    }

    /// Adds another table's routes and documents.
    pub fn merge(mut self, other: Api) -> Self {
        self.router = self.router.merge(other.router);
        self.doc.merge(other.doc);
        self
    }
}

/// What the `api_key` scheme says (management's document uses the same words).
pub const API_KEY_DESCRIPTION: &str =
    "Your API key: `ak_live_…` for WhatsApp, `ak_test_…` for the sandbox. \
     Send it in `X-API-Key`, or as `Authorization: Bearer ak_…`.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_leave_out_the_prefix_and_path_parameters() {
        assert_eq!(
            operation_id(&HttpMethod::Post, "/api/v1/send/chat-presence"),
            "post_send_chat_presence"
        );
        assert_eq!(
            operation_id(&HttpMethod::Get, "/api/v1/message/{message_id}"),
            "get_message"
        );
        assert_eq!(
            operation_id(&HttpMethod::Get, "/api/v1/chat/{chat_jid}/messages"),
            "get_chat_messages"
        );
        assert_eq!(
            operation_id(&HttpMethod::Get, "/api/v1/webhooks/{webhook_id}/deliveries"),
            "get_webhook_deliveries"
        );
        assert_eq!(
            operation_id(&HttpMethod::Get, "/api/v1/webhooks"),
            "get_webhooks"
        );
    }

    #[test]
    fn every_error_code_of_the_customer_api_has_a_status() {
        use crate::api::code as api;
        for code in [
            api::SESSION_NOT_CONNECTED,
            api::SESSION_NOT_LOGGED_IN,
            api::ALREADY_LOGGED_IN,
            api::NOT_ON_WHATSAPP,
            api::NO_PENDING_LOGIN,
            api::DRIVER_UNAVAILABLE,
            api::SESSION_MOVED,
            api::MEDIA_FETCH_FAILED,
            api::MEDIA_UNAVAILABLE,
        ] {
            assert!((400..600).contains(&status_of(code)));
        }
    }
}
