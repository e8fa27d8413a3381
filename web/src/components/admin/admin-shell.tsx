"use client";
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { LayoutDashboard, LogOut, Menu, ScrollText, Server, ShieldCheck, UserCog, Users } from "lucide-react";
import { Logo } from "@/components/logo";
import { ThemeToggle } from "@/components/theme-toggle";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogTitle } from "@/components/ui/dialog";
import { adminApi } from "@/lib/admin/api";
import { ROLE_LABELS, hasRole } from "@/lib/admin/roles";
import type { OperatorInfo, Role } from "@/lib/admin/types";
import { cn } from "@/lib/utils";

const NAV: { href: string; label: string; icon: typeof Server; min?: Role }[] = [
  { href: "/admin", label: "Overview", icon: LayoutDashboard },
  { href: "/admin/servers", label: "Servers", icon: Server },
  { href: "/admin/customers", label: "Customers", icon: Users },
  { href: "/admin/operators", label: "Operators", icon: UserCog, min: "super_admin" },
  { href: "/admin/logs", label: "Logs", icon: ScrollText },
  { href: "/admin/account", label: "My account", icon: ShieldCheck },
];

function isActive(pathname: string, href: string) {
  const p = pathname.replace(/\/$/, "") || "/";
  return href === "/admin" ? p === "/admin" : p === href || p.startsWith(href + "/");
}

function NavLinks({ role, onNavigate }: { role: Role; onNavigate?: () => void }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Admin" className="grid gap-1">
      {NAV.filter((n) => !n.min || hasRole(role, n.min)).map(({ href, label, icon: Icon }) => {
        const active = isActive(pathname, href);
        return (
          <Link
            key={href}
            href={href}
            onClick={onNavigate}
            aria-current={active ? "page" : undefined}
            className={cn(
              "flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium text-muted-foreground transition-colors hover:bg-accent hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
              active && "bg-accent text-foreground",
            )}
          >
            <Icon className="h-4 w-4" aria-hidden />
            {label}
          </Link>
        );
      })}
    </nav>
  );
}

function Brand() {
  return (
    <span className="flex items-center gap-2 font-semibold">
      <Logo /> wasp <Badge variant="secondary">Admin</Badge>
    </span>
  );
}

/** The admin panel's frame: navigation, the operator and their role, theme, sign-out. */
export function AdminShell({ operator, children }: { operator: OperatorInfo; children: React.ReactNode }) {
  const [menuOpen, setMenuOpen] = React.useState(false);
  const router = useRouter();
  const qc = useQueryClient();
  const [signingOut, setSigningOut] = React.useState(false);
  const name = operator.full_name || operator.email;

  const signOut = async () => {
    setSigningOut(true);
    try {
      await adminApi.post("/api/admin/auth/logout");
    } catch {
      /* the cookies are gone or will expire; the sign-in page either way */
    }
    qc.clear();
    router.replace("/admin/login?signed_out=1");
  };

  return (
    <div className="min-h-dvh md:grid md:grid-cols-[15rem_1fr]">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-background focus:p-2">
        Skip to content
      </a>
      <aside className="hidden border-r bg-muted/30 md:flex md:flex-col md:gap-4 md:p-4">
        <Link href="/admin" className="px-2">
          <Brand />
        </Link>
        <NavLinks role={operator.role} />
      </aside>
      <div className="flex min-w-0 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b bg-background/95 px-3 backdrop-blur sm:px-4">
          <Button variant="ghost" size="icon" className="md:hidden" aria-label="Open the menu" onClick={() => setMenuOpen(true)}>
            <Menu aria-hidden />
          </Button>
          <Link href="/admin" className="md:hidden">
            <Brand />
          </Link>
          <div className="ml-auto flex min-w-0 items-center gap-1 sm:gap-3">
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
            <Button variant="ghost" size="sm" onClick={signOut} disabled={signingOut} aria-label="Sign out">
              <LogOut aria-hidden />
              <span className="hidden sm:inline">Sign out</span>
            </Button>
          </div>
        </header>
        {operator.role === "viewer" ? (
          <div className="border-b border-warning/50 bg-warning/15 px-4 py-1.5 text-center text-xs font-medium" role="note">
            You have read-only access: a viewer sees everything and changes nothing.
          </div>
        ) : null}
        <main id="main" className="mx-auto w-full max-w-6xl flex-1 p-4 sm:p-6">
          {children}
        </main>
      </div>
      <Dialog open={menuOpen} onOpenChange={setMenuOpen}>
        <DialogContent side="left" aria-describedby={undefined}>
          <DialogTitle className="mb-4 text-base">
            <Brand />
          </DialogTitle>
          <p className="mb-4 truncate px-3 text-sm text-muted-foreground">
            {name} · {ROLE_LABELS[operator.role]}
          </p>
          <NavLinks role={operator.role} onNavigate={() => setMenuOpen(false)} />
        </DialogContent>
      </Dialog>
    </div>
  );
}
