// The admin API's answers: the schemas of wasp's OpenAPI document (src/lib/api/schema.d.ts).
import type { components } from "../api/schema";

type S = components["schemas"];

export type Role = S["Role"];
export type OperatorInfo = S["OperatorInfo"];
export type TokenResponse = S["TokenResponse"];
export type MfaSetup = S["MfaSetup"];
export type Operator = S["Operator"];
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

// The metrics and billing answers (GET /api/admin/metrics/…, /api/admin/billing/…).
export type GlobalMetricsPoint = S["FleetPoint"];
export type UsageDay = S["DayTotals"];
export type GlobalMetrics = S["GlobalMetrics"];
export type ServerMetricsPoint = S["ServerPoint"];
export type ServerMetricsSeries = S["ServerSeries"];
export type BillingPlan = S["PlanBill"];
export type BillingServer = S["ServerBill"];
export type BillingSummary = S["BillingSummary"];
export type BillingCustomer = S["CustomerBill"];
