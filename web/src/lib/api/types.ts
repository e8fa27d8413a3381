// Shapes of the API's answers used by the dashboard. The customer API's shapes come from
// the generated OpenAPI types where the document has them (schema.d.ts); the customer
// account API is typed here by its contract.

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  company: string | null;
  plan: string;
  status: string;
  email_verified: boolean;
}

export interface SessionInfo {
  customer: Customer;
  must_change_password: boolean;
  expires_at: string;
}

export interface SessionStatus {
  state: "disconnected" | "scanning" | "pairing" | "connected" | "logged_out" | string;
  state_reason: string | null;
  is_connected: boolean;
  is_logged_in: boolean;
  mode: string;
  driver: string;
  phone_number: string | null;
  jid: string | null;
  lid?: string | null;
  push_name: string | null;
  connected_at: string | null;
  qr_code: string | null;
  qr_expires_at: string | null;
  pair_code: string | null;
}

export interface LoginQr {
  qr_code: string;
  qr_duration: number;
  state: string;
}

export interface PairCode {
  pair_code: string;
  phone_number: string;
}

export interface SentMessage {
  message_id: string;
  status: string;
  chat_jid: string;
  chat_lid?: string | null;
  timestamp: string;
}

export interface Chat {
  jid: string;
  type: string;
  name: string | null;
  unread_count: number;
  archived: boolean;
  pinned: boolean;
  disappearing_secs: number;
  has_media: boolean;
  last_message_id: string | null;
  last_message_at: string | null;
  last_message_preview: string | null;
}

export interface Message {
  id: string;
  chat_jid: string;
  sender_jid: string;
  from_me: boolean;
  type: string;
  body: string | null;
  content: Record<string, unknown>;
  status: string;
  reply_to: string | null;
  is_forwarded: boolean;
  starred: boolean;
  edited_at: string | null;
  revoked_at: string | null;
  timestamp: string;
}

export interface ApiKey {
  id: string;
  customer_id: string;
  name: string | null;
  mode: string;
  prefix: string;
  key_hint: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  request_count: number;
  expires_at: string | null;
  revoked_at: string | null;
  state: string;
}

export interface CreatedKey extends ApiKey {
  api_key: string;
}

export interface Webhook {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  mode: string;
  is_active: boolean;
  disabled_reason: string | null;
  max_retries: number;
  retry_backoff_ms: number;
  success_count: number;
  failure_count: number;
  last_triggered_at: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface CreatedWebhook extends Webhook {
  secret: string;
}

export interface DeliveryAttempt {
  attempt: number;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_body: string | null;
  attempted_at: string;
}

export interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  state: "pending" | "delivered" | "failed" | string;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  log: DeliveryAttempt[];
}

export interface DayUsage {
  date?: string | null;
  api_requests: number;
  messages_sent: number;
  messages_received: number;
  images_sent: number;
  videos_sent: number;
  files_sent: number;
  bandwidth_in_bytes: number;
  bandwidth_out_bytes: number;
}

export interface UsageReport {
  customer_id: string;
  from: string;
  to: string;
  days: DayUsage[];
  totals: DayUsage;
}
