// The sentences an operator reads for the admin API's errors: the dashboard's, with the
// operator's own wording where it differs (no self-service reset, MFA, fleet conflicts).
import { ApiError, errorMessage } from "../api/errors";

const ADMIN_SENTENCES: Record<string, string> = {
  INVALID_CREDENTIALS: "That e-mail and password do not match an operator account.",
  MFA_REQUIRED: "Enter the 6-digit code from your authenticator app.",
  INVALID_MFA_CODE: "That code is wrong or has expired. Enter the current 6-digit code.",
  UNAUTHORIZED: "Your session has ended. Sign in again.",
  SERVER_NOT_EMPTY: "This server still has customers. Reassign them (or drain the server) before removing it.",
  NO_SERVER_AVAILABLE: "No server can take a new customer: none is active, healthy and below its capacity.",
  SERVER_FULL: "That server is at its capacity. Choose another one or raise its capacity.",
  CONFLICT: "This conflicts with something that already exists.",
  PASSWORD_CHANGE_REQUIRED: "Choose your own password first: you signed in with a temporary one.",
};

/** The sentence for an error an operator sees. */
export function adminErrorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "ACCOUNT_LOCKED") {
      const minutes = error.retryAfter ? Math.max(1, Math.ceil(error.retryAfter / 60)) : 15;
      return `Too many failed sign-ins: this account is locked for ${minutes} more minute${minutes === 1 ? "" : "s"} from this network. A super admin can unlock it by resetting its password.`;
    }
    if (error.code === "FORBIDDEN") {
      return error.serverMessage ? `You are not allowed to do this: ${error.serverMessage}.` : "You are not allowed to do this.";
    }
    if ((error.code === "CONFLICT" || error.code === "SERVER_NOT_EMPTY") && error.serverMessage) {
      return capitalise(error.serverMessage) + ".";
    }
    const sentence = ADMIN_SENTENCES[error.code];
    if (sentence) return sentence;
  }
  return errorMessage(error);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
