// Operator roles, and paths followed after sign-in.
import type { Role } from "./types";

/** Only same-site admin paths are followed after sign-in. */
export function safeAdminNext(next: string | null | undefined): string {
  if (!next || next.includes("\\") || next.startsWith("/admin/login") || next.startsWith("/admin/change-password")) return "/admin";
  return next === "/admin" || next.startsWith("/admin/") || next.startsWith("/admin?") ? next : "/admin";
}

const RANK: Record<Role, number> = { viewer: 0, admin: 1, super_admin: 2 };

/** Whether `role` reaches `min` (viewer < admin < super admin). */
export function hasRole(role: Role | undefined, min: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[min];
}

export const ROLE_LABELS: Record<Role, string> = { viewer: "Viewer", admin: "Admin", super_admin: "Super admin" };
