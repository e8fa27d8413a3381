//! Every route of the management role in one place, registered with utoipa so the OpenAPI
//! document cannot drift from the router.

use crate::{
    abuse, audit_log, auth, billing, csrf, customer_auth, customers, gateway, health, http, keys,
    metrics, operators, servers, usage, webhooks, AppState,
};
use axum::{
    extract::DefaultBodyLimit,
    middleware,
    routing::{any, get},
    Router,
};
use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::SwaggerUi;
use wasp_http::error::ErrorBody;

pub use crate::http::MAX_BODY_BYTES;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wasp API",
        description = "wasp: a multi-server WhatsApp API platform. `/api/admin` is the operator API \
                       (JWT cookie or bearer), `/api/v1` the customer API (X-API-Key). Errors are \
                       `{success:false,error:{code,message}}`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Operator sign-in, sessions and MFA"),
        (name = "operators", description = "Operator accounts (super admin)"),
        (name = "servers", description = "Worker servers"),
        (name = "customers", description = "Customers, placement and credentials"),
        (name = "keys", description = "Customer API keys (admin)"),
        (name = "customer-auth", description = "Customer accounts for the dashboard: sign-in with e-mail and password (session cookies), password change and reset, e-mail verification, sign-up"),
        (name = "customer-keys", description = "Your API keys (customer API)"),
        (name = "customer-usage", description = "Your usage (customer API)"),
        (name = "audit", description = "Audit log"),
        (name = "metrics", description = "The fleet's and each server's metrics over time"),
        (name = "billing", description = "Revenue, costs and usage per period, and its CSV export"),
        (name = "internal", description = "Worker registration and heartbeats (server key)"),
        (name = "health", description = "Liveness"),
    )
)]
struct ApiDoc;

/// The security scheme of the customer API (`/api/v1`), by this name in every document.
pub const API_KEY_SCHEME: &str = "api_key";

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            API_KEY_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "Your API key: `ak_live_…` for WhatsApp, `ak_test_…` for the sandbox. Send it in \
                 `X-API-Key`, or as `Authorization: Bearer ak_…`.",
            ))),
        );
        components.add_security_scheme(
            "customer_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "wasp_customer",
                "The dashboard's session cookie, set by POST /api/customer/auth/login. On \
                 /api/v1 it needs the header X-Wasp-Mode: live or test, and acts as a key of \
                 that mode with every scope.",
            ))),
        );
        components.add_security_scheme(
            "admin_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::ACCESS_COOKIE,
                "The admin panel's session cookie, set by POST /api/admin/auth/login (or send \
                 its token as a bearer token, admin_jwt).",
            ))),
        );
        components.add_security_scheme(
            "server_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A worker's server key, shown once when the server is added.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The credentials and errors every documented operation of management states: operator
/// and internal operations name their credential; each refusal's body is the one error
/// shape ([`ErrorBody`]); an operation that takes input can answer 400 (a malformed or
/// invalid body, query or path), an operation of a signed-in caller 401, and every
/// operation 429 (the rate limits and address bans of `abuse.rs` apply to all).
fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::{PartialSchema, ToSchema};
    for (path, item) in doc.paths.paths.iter_mut() {
        let required = credential(path);
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            if op.security.is_none() {
                op.security = required.clone();
            }
            document_refusals(op);
        }
    }
    let mut schemas = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
    ErrorBody::schemas(&mut schemas);
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
}

/// Who may call: an operator's session on the operator API (but its sign-in and
/// refresh), a worker's server key on the internal API.
fn credential(path: &str) -> Option<Vec<utoipa::openapi::security::SecurityRequirement>> {
    use utoipa::openapi::security::SecurityRequirement;
    let none = Vec::<String>::new();
    if path.starts_with("/api/admin/")
        && path != "/api/admin/auth/login"
        && path != "/api/admin/auth/refresh"
    {
        Some(vec![
            SecurityRequirement::new("admin_jwt", none.clone()),
            SecurityRequirement::new("admin_cookie", none),
        ])
    } else if path.starts_with("/internal/") {
        Some(vec![SecurityRequirement::new("server_key", none)])
    } else {
        None
    }
}

/// The refusals an operation can answer that its attributes leave out (400 for one that
/// takes input, 401 for a signed-in one, 429 for all), and the error body on each refusal.
fn document_refusals(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
    use utoipa::ToSchema;
    let error = || {
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(Ref::from_schema_name(ErrorBody::name()))))
            .build()
    };
    let takes_input =
        op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let implied = [
        (
            "400",
            takes_input,
            "`VALIDATION_ERROR` (the field is named in `error.field`), `INVALID_JSON`",
        ),
        (
            "401",
            signed_in,
            "`UNAUTHORIZED` or `INVALID_API_KEY`: no, an expired or a revoked credential",
        ),
        (
            "429",
            true,
            "`RATE_LIMIT_EXCEEDED` (see `Retry-After`) or `IP_BANNED`",
        ),
    ];
    for (status, applies, description) in implied {
        if applies && !op.responses.responses.contains_key(status) {
            op.responses.responses.insert(
                status.to_owned(),
                RefOr::T(ResponseBuilder::new().description(description).build()),
            );
        }
    }
    for (status, response) in op.responses.responses.iter_mut() {
        let refusal = status.parse::<u16>().is_ok_and(|s| s >= 400);
        if let (true, RefOr::T(Response { content, .. })) = (refusal, response) {
            if content.is_empty() {
                content.insert("application/json".to_owned(), error());
            }
        }
    }
}

/// The routes and their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(auth::session::login))
        .routes(routes!(auth::session::refresh))
        .routes(routes!(auth::session::logout))
        .routes(routes!(auth::session::me))
        .routes(routes!(auth::password::change_password))
        .routes(routes!(auth::mfa::mfa_setup))
        .routes(routes!(auth::mfa::mfa_enable))
        .routes(routes!(auth::mfa::mfa_disable))
        .routes(routes!(customer_auth::login))
        .routes(routes!(customer_auth::refresh))
        .routes(routes!(customer_auth::logout))
        .routes(routes!(customer_auth::me))
        .routes(routes!(customer_auth::update_profile))
        .routes(routes!(customer_auth::change_password))
        .routes(routes!(customer_auth::tokens::forgot))
        .routes(routes!(customer_auth::tokens::reset))
        .routes(routes!(customer_auth::tokens::verify))
        .routes(routes!(customer_auth::tokens::resend_verification))
        .routes(routes!(customer_auth::tokens::signup))
        .routes(routes!(
            operators::list_operators,
            operators::create_operator
        ))
        .routes(routes!(
            operators::update_operator,
            operators::delete_operator
        ))
        .routes(routes!(operators::reset_operator_password))
        .routes(routes!(servers::list_servers, servers::create_server))
        .routes(routes!(
            servers::get_server,
            servers::update_server,
            servers::delete_server
        ))
        .routes(routes!(servers::health::server_health))
        .routes(routes!(servers::internal::register))
        .routes(routes!(servers::internal::heartbeat))
        .routes(routes!(
            customers::list_customers,
            customers::create_customer
        ))
        .routes(routes!(
            customers::get_customer,
            customers::update_customer,
            customers::delete_customer
        ))
        .routes(routes!(customers::suspend_customer))
        .routes(routes!(customers::activate_customer))
        .routes(routes!(customers::erase_customer))
        .routes(routes!(customers::reassign_customer))
        .routes(routes!(customers::regenerate_key))
        .routes(routes!(keys::admin_list_keys, keys::admin_create_key))
        .routes(routes!(keys::admin_revoke_key))
        .routes(routes!(keys::customer_list_keys, keys::customer_create_key))
        .routes(routes!(keys::customer_revoke_key))
        .routes(routes!(usage::customer_usage))
        .routes(routes!(usage::admin_usage))
        .routes(routes!(webhooks::admin_webhooks))
        .routes(routes!(audit_log::list_logs))
        .routes(routes!(metrics::global_metrics))
        .routes(routes!(metrics::server_metrics))
        .routes(routes!(billing::billing_summary))
        .routes(routes!(billing::billing_customers))
        .routes(routes!(billing::billing_export))
        .split_for_parts();
    document_errors(&mut doc);
    (router, doc)
}

/// The OpenAPI document alone (for `wasp openapi` and the web client's types).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// Management's document with `customer_api` merged in: the operations of the messaging
/// API that the gateway passes to workers (management does not build them itself). Paths
/// and components are added; on a name both define, management's own wins.
pub fn openapi_with(customer_api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = openapi();
    merge_customer_api(&mut doc, customer_api);
    doc
}

fn merge_customer_api(doc: &mut utoipa::openapi::OpenApi, customer_api: utoipa::openapi::OpenApi) {
    if let (Some(ours), Some(theirs)) = (&doc.components, &customer_api.components) {
        for (name, schema) in &theirs.schemas {
            if ours.schemas.get(name).is_some_and(|mine| {
                serde_json::to_value(mine).ok() != serde_json::to_value(schema).ok()
            }) {
                tracing::warn!(schema = %name, "the customer API's document has a schema of the same name as management's; management's is kept");
            }
        }
    }
    doc.merge(customer_api);
}

/// The complete management application.
pub fn router(state: AppState) -> Router {
    router_with(state, utoipa::openapi::OpenApi::default())
}

/// The complete management application, its `/api/openapi.json` also describing
/// `customer_api` (see [`openapi_with`]).
pub fn router_with(state: AppState, customer_api: utoipa::openapi::OpenApi) -> Router {
    router_with_web(state, customer_api, None)
}

/// [`router_with`], answering every path that is not an API with the web UI when there is
/// one (see [`crate::web`]).
pub fn router_with_web(
    state: AppState,
    customer_api: utoipa::openapi::OpenApi,
    web: Option<crate::web::WebUi>,
) -> Router {
    let (api, mut openapi) = api();
    merge_customer_api(&mut openapi, customer_api);
    api.route("/metrics", get(health::metrics))
        // Everything else under /api/v1 is the messaging API, answered by the customer's worker.
        .route("/api/v1/{*rest}", any(gateway::proxy))
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .fallback(
            move |method: axum::http::Method, uri: axum::http::Uri| async move {
                match web {
                    Some(web) => web.serve(method, uri).await,
                    None => http::fallback(method).await,
                }
            },
        )
        // Cookie-authenticated changes only from our own pages, as JSON (csrf.rs).
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        // The abuse guard also meters and audits customer API calls (gateway::metered).
        .layer(middleware::from_fn_with_state(state.clone(), abuse::guard))
        // The extractors' limit; the transport refuses larger bodies before they get here
        // (wasp_http::serve::Limits::max_body_bytes).
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Request ids, the request's span, security headers, metrics, and our error shape
        // on the router's bare 405 (one middleware: each layer costs every request a boxed
        // future and a clone of the service stack below it).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::request_context,
        ))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn management_answers_its_own_customer_paths_and_passes_every_other_to_workers() {
        let doc = super::openapi();
        let own: Vec<&String> = doc
            .paths
            .paths
            .keys()
            .filter(|p| p.starts_with("/api/v1/"))
            .collect();
        assert!(own.len() >= 3, "{own:?}");
        for path in own {
            // A path parameter as a client would fill it.
            let concrete: String = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        "0b9f2c1e"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            assert!(
                !crate::gateway::is_proxied(&concrete),
                "{concrete} is management's own"
            );
        }
        for proxied in [
            "/api/v1/send/text",
            "/api/v1/app/status",
            "/api/v1/keysmith",
            "/api/v1/usage-report",
        ] {
            assert!(crate::gateway::is_proxied(proxied), "{proxied}");
        }
        for not in [
            "/api/admin/customers",
            "/api/v1",
            "/health",
            "/api/v2/send/text",
        ] {
            assert!(!crate::gateway::is_proxied(not), "{not}");
        }
    }

    fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
        while let Some(name) = schema["$ref"].as_str() {
            let name = name.rsplit('/').next().unwrap();
            schema = &doc["components"]["schemas"][name];
        }
        schema
    }

    /// What a client generated from the document relies on: every success answer is
    /// described with the `{success, data}` envelope it comes in, every refusal with the
    /// error shape, and input can be refused with a documented 400.
    #[test]
    fn every_answer_is_documented_in_the_shape_it_has() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let takes_input = op.get("requestBody").is_some()
                    || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
                if takes_input {
                    assert!(
                        op["responses"].get("400").is_some(),
                        "{method} {path}: 400 undocumented"
                    );
                }
                for (status, response) in op["responses"].as_object().unwrap() {
                    let json = &response["content"]["application/json"]["schema"];
                    if status.starts_with('2') && path != "/health" && !json.is_null() {
                        let body = resolve(&doc, json);
                        assert!(
                            body["properties"].get("success").is_some()
                                && body["properties"].get("data").is_some(),
                            "{method} {path} {status}: not the success envelope: {body}"
                        );
                        checked += 1;
                    }
                    if status.starts_with('4') || status.starts_with('5') {
                        let body = resolve(&doc, json);
                        assert!(
                            body["properties"].get("error").is_some() || path == "/health",
                            "{method} {path} {status}: no error shape"
                        );
                    }
                }
            }
        }
        assert!(checked >= 35, "only {checked} success answers found");
    }
}
