// The admin panel's form rules (zod), mirroring the admin API's validation, and the
// conversions from form values to request bodies and query strings.
import { z } from "zod";
import { changePasswordSchema, email, newPassword } from "../schemas";
import type { CreateCustomer, CreateOperator, CreateServer, Role, UpdateServer } from "./types";

export const PLANS = ["basic", "pro", "business", "enterprise"] as const;
export const CUSTOMER_STATUSES = ["active", "suspended"] as const;
export const WHATSAPP_STATES = ["disconnected", "scanning", "pairing", "connected", "logged_out"] as const;
export const SERVER_STATUSES = ["active", "inactive", "maintenance", "draining"] as const;
export const ROLES = ["viewer", "admin", "super_admin"] as const satisfies readonly Role[];
export const PER_PAGE_MAX = 100;

/** A 6-digit TOTP code; spaces (as apps show it: "123 456") are ignored. */
export const totpCode = z
  .string()
  .transform((v) => v.replace(/\s+/g, ""))
  .refine((v) => /^\d{6}$/.test(v), "Enter the 6 digits your authenticator app shows");

export const adminLoginSchema = z.object({
  email,
  password: z.string().min(1, "Enter your password"),
});

export const totpSchema = z.object({ code: totpCode });

/** An operator's password change: the same rules as a customer's. */
export const adminPasswordSchema = changePasswordSchema;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** An IPv4 or IPv6 address as the API parses it (no prefix, no port). */
export function isIpAddress(value: string): boolean {
  const v = value.trim();
  if (IPV4.test(v)) return true;
  if (!v.includes(":") || !/^[0-9a-fA-F:.]+$/.test(v)) return false;
  try {
    return new URL(`http://[${v}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && !!u.hostname;
  } catch {
    return false;
  }
}

const text = (max: number, what: string) => z.string().trim().max(max, `${what}: at most ${max} characters`);
/** A whole number typed in a field, within a range; "" when optional. */
const whole = (min: number, max: number, label: string) =>
  z
    .string()
    .trim()
    .refine((v) => v === "" || (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max), `${label}: a whole number from ${min} to ${max.toLocaleString("en-US")}`);
const required = (s: z.ZodString, message: string) => s.refine((v) => v.trim() !== "", message);

export const serverSchema = z.object({
  name: required(text(100, "Name"), "Name the server (e.g. worker-sg-1)"),
  ip_address: z.string().trim().refine(isIpAddress, "Enter an IPv4 or IPv6 address (e.g. 10.0.1.21)"),
  api_url: z
    .string()
    .trim()
    .refine((v) => v === "" || (isHttpUrl(v) && v.length <= 255), "Enter an http(s) URL such as http://10.0.1.21:8081"),
  max_capacity: required(whole(1, 1_000_000, "Capacity"), "Enter the number of customers it may hold"),
  cpu_cores: required(whole(1, 4096, "CPU cores"), "Enter its CPU cores"),
  ram_gb: required(whole(1, 1_048_576, "RAM"), "Enter its RAM in GB"),
  disk_gb: whole(1, 1_048_576, "Disk"),
  region: text(50, "Region"),
  datacenter: text(100, "Datacenter"),
  provider: text(50, "Provider"),
  cost_per_month: z
    .string()
    .trim()
    .refine((v) => v === "" || (/^\d+(\.\d{1,2})?$/.test(v) && Number(v) <= 99_999_999.99), "Cost: an amount from 0 to 99,999,999.99"),
  status: z.enum(SERVER_STATUSES).optional(),
});
export type ServerValues = z.input<typeof serverSchema>;

export const emptyServer: ServerValues = {
  name: "",
  ip_address: "",
  api_url: "",
  max_capacity: "100",
  cpu_cores: "",
  ram_gb: "",
  disk_gb: "",
  region: "",
  datacenter: "",
  provider: "",
  cost_per_month: "",
};

const opt = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined);
const optNumber = (v: string | undefined) => (v && v.trim() !== "" ? Number(v) : undefined);

/** The body of POST /api/admin/servers. */
export function toCreateServer(v: ServerValues): CreateServer {
  return {
    name: v.name.trim(),
    ip_address: v.ip_address.trim(),
    api_url: opt(v.api_url),
    max_capacity: optNumber(v.max_capacity),
    cpu_cores: Number(v.cpu_cores),
    ram_gb: Number(v.ram_gb),
    disk_gb: optNumber(v.disk_gb),
    region: opt(v.region),
    datacenter: opt(v.datacenter),
    provider: opt(v.provider),
    cost_per_month: optNumber(v.cost_per_month),
  };
}

/** The body of PUT /api/admin/servers/{id}: every field (the API keeps what is null). */
export function toUpdateServer(v: ServerValues): UpdateServer {
  const body: UpdateServer = { ...toCreateServer(v) };
  if (v.status) body.status = v.status;
  return body;
}

/** The form's values for an existing server. */
export function serverValues(s: {
  name: string;
  ip_address: string;
  api_url: string;
  max_capacity: number;
  cpu_cores: number;
  ram_gb: number;
  disk_gb?: number | null;
  region?: string | null;
  datacenter?: string | null;
  provider?: string | null;
  cost_per_month?: number | null;
  status: string;
}): ServerValues {
  const str = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));
  return {
    name: s.name,
    ip_address: s.ip_address,
    api_url: s.api_url,
    max_capacity: str(s.max_capacity),
    cpu_cores: str(s.cpu_cores),
    ram_gb: str(s.ram_gb),
    disk_gb: str(s.disk_gb),
    region: s.region ?? "",
    datacenter: s.datacenter ?? "",
    provider: s.provider ?? "",
    cost_per_month: str(s.cost_per_month),
    status: (SERVER_STATUSES as readonly string[]).includes(s.status) ? (s.status as ServerValues["status"]) : undefined,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const customerSchema = z.object({
  email,
  full_name: text(255, "Name"),
  company_name: text(255, "Company"),
  plan: z.enum(PLANS),
  assign_server: z.string().refine((v) => v === "auto" || v === "none" || UUID.test(v), "Choose a server"),
  region: text(50, "Region"),
});
export type CustomerValues = z.input<typeof customerSchema>;

/** The body of POST /api/admin/customers. */
export function toCreateCustomer(v: CustomerValues): CreateCustomer {
  return {
    email: v.email.trim(),
    full_name: opt(v.full_name),
    company_name: opt(v.company_name),
    plan: v.plan,
    assign_server: v.assign_server,
    region: v.assign_server === "auto" ? opt(v.region) : undefined,
  };
}

export const operatorSchema = z.object({
  email,
  full_name: text(255, "Name"),
  role: z.enum(ROLES),
  password: z.union([z.literal(""), newPassword]),
});
export type OperatorValues = z.input<typeof operatorSchema>;

/** The body of POST /api/admin/users (no password: the server generates and shows one). */
export function toCreateOperator(v: OperatorValues): CreateOperator {
  return { email: v.email.trim(), full_name: opt(v.full_name), role: v.role, password: v.password === "" ? undefined : v.password };
}

/** A page number and size the list endpoints accept (page ≥ 1, 1 ≤ per_page ≤ 100). */
export function pageParams(page: unknown, perPage: unknown, defaultPerPage = 20): { page: number; per_page: number } {
  const p = Math.floor(Number(page));
  const n = Math.floor(Number(perPage));
  return {
    page: Number.isFinite(p) && p >= 1 ? Math.min(p, 2_147_483_647) : 1,
    per_page: Number.isFinite(n) && n >= 1 ? Math.min(n, PER_PAGE_MAX) : defaultPerPage,
  };
}

/** How many pages `total` rows make. */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, perPage)));
}

/** The filters of GET /api/admin/customers as a query. */
export function customerQuery(f: { q?: string; plan?: string; status?: string; whatsapp_status?: string; server_id?: string; page?: unknown; per_page?: unknown }) {
  return {
    q: opt(f.q),
    plan: opt(f.plan),
    status: opt(f.status),
    whatsapp_status: (WHATSAPP_STATES as readonly string[]).includes(f.whatsapp_status ?? "") ? f.whatsapp_status : undefined,
    server_id: f.server_id && UUID.test(f.server_id) ? f.server_id : undefined,
    ...pageParams(f.page, f.per_page),
  };
}

/** Every filter GET /api/admin/logs takes (LogFilters in crates/management/src/audit.rs). */
export const LOG_FILTERS = [
  "event_type",
  "severity",
  "customer_id",
  "actor_type",
  "actor_id",
  "action",
  "resource_type",
  "resource_id",
  "status",
  "request_id",
  "from",
  "to",
] as const;
export type LogFilterName = (typeof LOG_FILTERS)[number];
export type LogFilterValues = Partial<Record<LogFilterName, string>>;

export const EVENT_TYPES = ["admin_action", "api_call", "auth_event", "security_event", "system_event"] as const;
export const ACTOR_TYPES = ["admin", "customer", "server", "system", "anonymous"] as const;
export const SEVERITIES = ["info", "warning", "critical"] as const;
export const LOG_STATUSES = ["success", "failure"] as const;

export const logFilterSchema = z
  .object({
    event_type: z.string().optional(),
    severity: z.string().optional(),
    actor_type: z.string().optional(),
    customer_id: z
      .string()
      .trim()
      .refine((v) => v === "" || UUID.test(v), "A customer id is a UUID")
      .optional(),
    actor_id: z
      .string()
      .trim()
      .refine((v) => v === "" || UUID.test(v), "An actor id is a UUID")
      .optional(),
    action: z.string().trim().max(100).optional(),
    resource_type: z.string().trim().max(50).optional(),
    resource_id: z.string().trim().max(255).optional(),
    status: z.string().optional(),
    request_id: z.string().trim().max(100, "A request id has at most 100 characters").optional(),
    from: z.string().optional(),
    to: z.string().optional(),
  })
  .refine((v) => !v.from || !v.to || new Date(v.from) < new Date(v.to), { path: ["to"], message: "“Until” must be after “From”" });

/** A `datetime-local` value (the browser's local time) as RFC 3339 in UTC, or undefined. */
export function localToRfc3339(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The filters of GET /api/admin/logs as a query: empty ones dropped, times in UTC. */
export function logQuery(f: LogFilterValues, page: unknown = 1, perPage: unknown = 50): Record<string, string | number | undefined> & { page: number; per_page: number } {
  const q: Record<string, string | number | undefined> = {};
  for (const name of LOG_FILTERS) {
    const v = f[name]?.trim();
    if (!v) continue;
    q[name] = name === "from" || name === "to" ? localToRfc3339(v) : v;
  }
  return { ...q, ...pageParams(page, perPage, 50) };
}
