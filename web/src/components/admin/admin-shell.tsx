"use client";
import * as React from "react";
import { LayoutDashboard, Receipt, ScrollText, Server, ShieldCheck, UserCog, Users } from "lucide-react";
import { Logo } from "@/components/logo";
import { Shell, SignOutButton, type NavItem } from "@/components/shell";
import { ThemeToggle } from "@/components/theme-toggle";
import { Badge } from "@/components/ui/badge";
import { adminApi } from "@/lib/admin/api";
import { ROLE_LABELS, hasRole } from "@/lib/admin/roles";
import type { OperatorInfo, Role } from "@/lib/admin/types";

const NAV: (NavItem & { min?: Role })[] = [
  { href: "/admin", label: "Overview", icon: LayoutDashboard },
  { href: "/admin/servers", label: "Servers", icon: Server },
  { href: "/admin/customers", label: "Customers", icon: Users },
  { href: "/admin/billing", label: "Billing", icon: Receipt },
  { href: "/admin/operators", label: "Operators", icon: UserCog, min: "super_admin" },
  { href: "/admin/logs", label: "Logs", icon: ScrollText },
  { href: "/admin/account", label: "My account", icon: ShieldCheck },
];

function Brand() {
  return (
    <span className="flex items-center gap-2 font-semibold">
      <Logo /> wasp <Badge variant="secondary">Admin</Badge>
    </span>
  );
}

/** The admin panel's frame: navigation, the operator and their role, theme, sign-out. */
export function AdminShell({ operator, children }: { operator: OperatorInfo; children: React.ReactNode }) {
  const name = operator.full_name || operator.email;

  return (
    <Shell
      nav={NAV.filter((n) => !n.min || hasRole(operator.role, n.min))}
      navLabel="Admin"
      home="/admin"
      brand={<Brand />}
      menuNote={`${name} · ${ROLE_LABELS[operator.role]}`}
      headerEnd={
        <>
          <div className="hidden min-w-0 text-right leading-tight sm:block" data-testid="operator">
            <p className="max-w-56 truncate text-sm font-medium" title={operator.email}>
              {name}
            </p>
            <p className="text-xs text-muted-foreground">{ROLE_LABELS[operator.role]}</p>
          </div>
          <Badge variant={operator.role === "viewer" ? "warning" : "outline"} className="sm:hidden">
            {ROLE_LABELS[operator.role]}
          </Badge>
          <ThemeToggle />
          <SignOutButton logout={() => adminApi.post("/api/admin/auth/logout")} to="/admin/login?signed_out=1" />
        </>
      }
      banners={
        operator.role === "viewer" ? (
          <div className="border-b border-warning/50 bg-warning/15 px-4 py-1.5 text-center text-xs font-medium" role="note">
            You have read-only access: a viewer sees everything and changes nothing.
          </div>
        ) : null
      }
    >
      {children}
    </Shell>
  );
}
