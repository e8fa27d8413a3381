// Errors of the wasp API, and the sentences a customer reads for them.

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
  retry_after?: number;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly retryAfter?: number;
  /** The server's own message (technical, English), kept for details and field errors. */
  readonly serverMessage: string;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.field = body.field;
    this.retryAfter = body.retry_after;
    this.serverMessage = body.message;
  }
}

/** Sentences for the API's stable error codes. */
const SENTENCES: Record<string, string> = {
  NETWORK_ERROR: "We could not reach the server. Check your connection and try again.",
  BAD_RESPONSE: "The server sent an answer we could not read. Try again in a moment.",
  INVALID_CREDENTIALS: "That e-mail and password do not match an account.",
  ACCOUNT_LOCKED: "Too many failed sign-ins. Your account is locked for 15 minutes; try again later or reset your password.",
  RATE_LIMITED: "Too many attempts. Wait a moment and try again.",
  RATE_LIMIT_EXCEEDED: "You have reached a limit of your plan. Wait a moment and try again.",
  IP_BANNED: "Too many failed requests came from your network. Try again in ten minutes.",
  PASSWORD_CHANGE_REQUIRED: "Choose a new password before you continue.",
  EMAIL_NOT_VERIFIED: "Confirm your e-mail address first: open the link we sent you. Test mode works meanwhile.",
  SIGNUP_CLOSED: "Sign-up is closed on this server. Ask the operator for an account.",
  UNAUTHORIZED: "Your session has ended. Sign in again.",
  INVALID_API_KEY: "Your session has ended. Sign in again.",
  FORBIDDEN: "You are not allowed to do this.",
  CUSTOMER_SUSPENDED: "Your account is suspended. Contact support.",
  NOT_FOUND: "We could not find that. It may have been deleted.",
  CONFLICT: "This conflicts with something that already exists.",
  VALIDATION_ERROR: "Some of the information is not valid.",
  INVALID_JSON: "The request could not be read. Reload the page and try again.",
  INVALID_TOKEN: "This link is invalid or has expired. Ask for a new one.",
  MODE_REQUIRED: "Choose live or test mode (the switch at the top) and try again.",
  TOKEN_EXPIRED: "This link has expired. Ask for a new one.",
  WEAK_PASSWORD: "Choose a stronger password.",
  NOT_ON_WHATSAPP: "This number is not on WhatsApp.",
  MEDIA_FETCH_FAILED: "We could not download the file from that URL.",
  MEDIA_UNAVAILABLE: "This file is no longer available.",
  PAYLOAD_TOO_LARGE: "The file is too large.",
  UNSUPPORTED_MEDIA_TYPE: "This type of file is not accepted here.",
  SESSION_NOT_CONNECTED: "Your WhatsApp session is not connected. Connect it first.",
  SESSION_NOT_LOGGED_IN: "Your WhatsApp session is not logged in. Connect it first.",
  ALREADY_LOGGED_IN: "This WhatsApp session is already logged in.",
  NO_PENDING_LOGIN: "There is no login waiting. Start a new one.",
  DRIVER_UNAVAILABLE: "WhatsApp cannot be reached from the server right now. Try again later.",
  WORKER_UNAVAILABLE: "Your WhatsApp session's server is not reachable right now. Try again shortly.",
  WORKER_TIMEOUT: "The server took too long to answer. The action may still complete; check before retrying.",
  SESSION_MOVED: "Your session just moved to another server. Try again.",
  SERVICE_UNAVAILABLE: "The service is busy. Try again in a moment.",
  REQUEST_TIMEOUT: "The upload took too long. Try again.",
  IDEMPOTENCY_KEY_REUSED: "This request was already sent with different content.",
  IDEMPOTENCY_IN_PROGRESS: "This request is still being processed.",
  INTERNAL_ERROR: "Something went wrong on our side. Try again; if it keeps happening, contact support.",
};

/** The sentence to show a customer for an error (any thrown value). */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "VALIDATION_ERROR" && error.serverMessage) {
      // The server names the field and the rule: "phone: must be a phone number …".
      return capitalise(stripField(error.serverMessage, error.field));
    }
    if ((error.code === "RATE_LIMIT_EXCEEDED" || error.code === "RATE_LIMITED") && error.retryAfter) {
      return `${SENTENCES[error.code]} (retry in ${error.retryAfter} s)`;
    }
    if (error.code === "FORBIDDEN" && error.serverMessage) {
      return `You are not allowed to do this: ${error.serverMessage}`;
    }
    const sentence = SENTENCES[error.code];
    if (sentence) return sentence;
    if (error.status >= 500) return SENTENCES.INTERNAL_ERROR!;
    return error.serverMessage || "The request failed.";
  }
  return SENTENCES.NETWORK_ERROR!;
}

/** The message for one field, when the error names it (`field` of a VALIDATION_ERROR). */
export function fieldError(error: unknown, field: string): string | undefined {
  if (error instanceof ApiError && error.field === field) return errorMessage(error);
  return undefined;
}

function stripField(message: string, field?: string): string {
  if (field && message.startsWith(`${field}: `)) return message.slice(field.length + 2);
  return message;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
