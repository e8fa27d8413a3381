// The admin API's answers: the schemas of wasp's OpenAPI document (src/lib/api/schema.d.ts).
import type { components } from "../api/schema";

type S = components["schemas"];

export type Role = S["Role"];
// `must_change_password` until the regenerated schema (npm run gen:api) has it.
export type OperatorInfo = S["OperatorInfo"] & { must_change_password?: boolean };
export type TokenResponse = S["TokenResponse"];
export type MfaSetup = S["MfaSetup"];
export type Operator = S["Operator"] & { must_change_password?: boolean };
export type OperatorWithPassword = S["OperatorWithPassword"];
export type CreateOperator = S["CreateOperator"];
export type UpdateOperator = S["UpdateOperator"];
export type Server = S["Server"];
export type CreatedServer = S["CreatedServer"];
export type CreateServer = S["CreateServer"];
export type UpdateServer = S["UpdateServer"];
export type ServerHealth = S["ServerHealth"];
export type ServerMetrics = S["ServerMetrics"];
export type Customer = S["Customer"];
export type CreatedCustomer = S["CreatedCustomer"];
export type CreateCustomer = S["CreateCustomer"];
export type UpdateCustomer = S["UpdateCustomer"];
export type ApiKey = S["ApiKey"];
export type CreatedKey = S["CreatedKey"];
export type AdminWebhook = S["AdminWebhook"];
export type AuditLog = S["AuditLog"];
export type UsageReport = S["UsageReport"];
export type PageMeta = S["PageMeta"];


// The metrics and billing answers (GET /api/admin/metrics/…, /api/admin/billing/…), as
// the contract states them until the regenerated schema has GlobalMetrics, ServerSeries,
// BillingSummary and CustomerBill (then: S["GlobalMetrics"], …).
type Num = number | null;
export interface GlobalMetricsPoint { at: string; servers_reporting: number; sessions?: Num; connections?: Num; messages_per_minute?: Num; errors_per_minute?: Num; cpu_avg?: Num; ram_avg?: Num; p95_ms?: Num }
export interface UsageDay { date: string; api_requests: number; messages_sent: number; messages_received: number }
export interface GlobalMetrics {
  range: string;
  from: string;
  to: string;
  bucket_secs: number;
  customers: { total: number; active: number; suspended: number; by_plan: Record<string, number>; by_whatsapp_status: Record<string, number> };
  servers: { total: number; by_status: Record<string, number>; by_health: Record<string, number> };
  today: UsageDay;
  open_alerts: number;
  points: GlobalMetricsPoint[];
  daily: UsageDay[];
}
export interface ServerMetricsPoint {
  at: string;
  samples: number;
  cpu_avg?: Num;
  cpu_max?: Num;
  ram_avg?: Num;
  ram_max?: Num;
  disk_avg?: Num;
  sessions?: Num;
  connections?: Num;
  messages_per_minute?: Num;
  errors_per_minute?: Num;
  avg_response_ms?: Num;
  p95_ms?: Num;
  net_in_mbps?: Num;
  net_out_mbps?: Num;
}
export interface ServerMetricsSeries { server_id: string; range: string; from: string; to: string; bucket_secs: number; points: ServerMetricsPoint[] }
export interface BillingPlan { plan: string; price_per_month: number; customers: number; active: number; suspended: number; revenue: number; api_requests: number; messages_sent: number; messages_received: number; estimated_cost: number }
export interface BillingServer { server_id: string; name: string; status: string; cost_per_month?: Num; cost: number; customers: number; revenue: number; margin: number }
export interface BillingSummary {
  from: string;
  to: string;
  days: number;
  currency: string;
  plans: BillingPlan[];
  servers: BillingServer[];
  totals: { customers: number; mrr: number; revenue: number; server_cost: number; margin: number; margin_pct?: Num; estimated_cost: number; cost_per_customer?: Num };
}
export interface BillingCustomer {
  customer_id: string;
  email: string;
  company_name?: string | null;
  plan: string;
  status: string;
  server_id?: string | null;
  server_name?: string | null;
  days_billed: number;
  revenue: number;
  api_requests: number;
  messages_sent: number;
  messages_received: number;
  media_sent: number;
  bandwidth_in_bytes: number;
  bandwidth_out_bytes: number;
  estimated_cost: number;
}
