"use client";
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import {
  BarChart3,
  BookOpen,
  KeyRound,
  LayoutDashboard,
  LogOut,
  Menu,
  MessagesSquare,
  Send,
  Smartphone,
  User,
  Webhook,
} from "lucide-react";
import { Logo } from "@/components/logo";
import { ResendVerification } from "@/components/resend-verification";
import { ThemeToggle } from "@/components/theme-toggle";
import { Button } from "@/components/ui/button";
import { Switch } from "@/components/ui/switch";
import { Dialog, DialogContent, DialogTitle } from "@/components/ui/dialog";
import { api } from "@/lib/api/provider";
import { useMode } from "@/lib/mode";
import type { SessionInfo } from "@/lib/api/types";
import { cn } from "@/lib/utils";

const NAV = [
  { href: "/", label: "Overview", icon: LayoutDashboard },
  { href: "/connect", label: "Connect", icon: Smartphone },
  { href: "/send", label: "Send", icon: Send },
  { href: "/chats", label: "Chats", icon: MessagesSquare },
  { href: "/api-keys", label: "API keys", icon: KeyRound },
  { href: "/webhooks", label: "Webhooks", icon: Webhook },
  { href: "/usage", label: "Usage", icon: BarChart3 },
  { href: "/docs", label: "API docs", icon: BookOpen },
  { href: "/account", label: "Account", icon: User },
];

function isActive(pathname: string, href: string) {
  const p = pathname.replace(/\/$/, "") || "/";
  return href === "/" ? p === "/" : p === href || p.startsWith(href + "/");
}

function NavLinks({ onNavigate }: { onNavigate?: () => void }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Dashboard" className="grid gap-1">
      {NAV.map(({ href, label, icon: Icon }) => {
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

export function ModeSwitch() {
  const { mode, setMode } = useMode();
  return (
    <div className="flex items-center gap-2">
      <Switch id="mode-switch" checked={mode === "test"} onCheckedChange={(test) => setMode(test ? "test" : "live")} aria-describedby="mode-switch-help" />
      <label htmlFor="mode-switch" className="cursor-pointer text-sm font-medium whitespace-nowrap">
        Test mode
      </label>
      <span id="mode-switch-help" className="sr-only">
        {mode === "test" ? "On: the dashboard shows the sandbox session." : "Off: the dashboard shows your live WhatsApp session."}
      </span>
    </div>
  );
}

export function AppShell({ session, children }: { session: SessionInfo; children: React.ReactNode }) {
  const { mode } = useMode();
  const [menuOpen, setMenuOpen] = React.useState(false);
  const router = useRouter();
  const qc = useQueryClient();
  const [signingOut, setSigningOut] = React.useState(false);

  const signOut = async () => {
    setSigningOut(true);
    try {
      await api.post("/api/customer/auth/logout");
    } catch {
      /* the cookies are gone or will expire; sign-in page either way */
    }
    qc.clear();
    router.replace("/login?signed_out=1");
  };

  const customer = session.customer;
  return (
    <div className="min-h-dvh md:grid md:grid-cols-[15rem_1fr]">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-background focus:p-2">
        Skip to content
      </a>
      <aside className="hidden border-r bg-muted/30 md:flex md:flex-col md:gap-4 md:p-4">
        <Link href="/" className="flex items-center gap-2 px-2 font-semibold">
          <Logo /> wasp
        </Link>
        <NavLinks />
      </aside>
      <div className="flex min-w-0 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b bg-background/95 px-3 backdrop-blur sm:px-4">
          <Button variant="ghost" size="icon" className="md:hidden" aria-label="Open the menu" onClick={() => setMenuOpen(true)}>
            <Menu aria-hidden />
          </Button>
          <Link href="/" className="flex items-center gap-2 font-semibold md:hidden">
            <Logo />
            <span className="sr-only sm:not-sr-only">wasp</span>
          </Link>
          <div className="ml-auto flex items-center gap-1 sm:gap-3">
            <ModeSwitch />
            <ThemeToggle />
            <span className="hidden max-w-48 truncate text-sm text-muted-foreground lg:inline" title={customer.email}>
              {customer.email}
            </span>
            <Button variant="ghost" size="sm" onClick={signOut} disabled={signingOut} aria-label="Sign out">
              <LogOut aria-hidden />
              <span className="hidden sm:inline">Sign out</span>
            </Button>
          </div>
        </header>
        {mode === "test" ? (
          <div className="border-b border-warning/50 bg-warning/15 px-4 py-1.5 text-center text-xs font-medium" role="note">
            Test mode: you are using the sandbox session. Nothing here reaches WhatsApp.
          </div>
        ) : null}
        {mode === "live" && !customer.email_verified ? (
          <div
            className="flex flex-wrap items-center justify-center gap-x-3 gap-y-1 border-b border-destructive/40 bg-destructive/10 px-4 py-1.5 text-center text-xs font-medium"
            role="note"
          >
            <span>Confirm your e-mail address to use live mode: open the link we sent to {customer.email}.</span>
            <ResendVerification email={customer.email} className="h-7" />
          </div>
        ) : null}
        <main id="main" className="mx-auto w-full max-w-6xl flex-1 p-4 sm:p-6">
          {children}
        </main>
      </div>
      <Dialog open={menuOpen} onOpenChange={setMenuOpen}>
        <DialogContent side="left" aria-describedby={undefined}>
          <DialogTitle className="mb-4 flex items-center gap-2 text-base">
            <Logo /> wasp
          </DialogTitle>
          <NavLinks onNavigate={() => setMenuOpen(false)} />
        </DialogContent>
      </Dialog>
    </div>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <div className="mb-6 flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
        {description ? <p className="mt-1 text-sm text-muted-foreground">{description}</p> : null}
      </div>
      {actions ? <div className="flex flex-wrap gap-2">{actions}</div> : null}
    </div>
  );
}
