"use client";
import * as React from "react";
import {
  BarChart3,
  BookOpen,
  KeyRound,
  LayoutDashboard,
  MessagesSquare,
  Send,
  Smartphone,
  User,
  Webhook,
} from "lucide-react";
import { Logo } from "@/components/logo";
import { ResendVerification } from "@/components/resend-verification";
import { ThemeToggle } from "@/components/theme-toggle";
import { Switch } from "@/components/ui/switch";
import { Shell, SignOutButton, type NavItem } from "@/components/shell";
import { api } from "@/lib/api/provider";
import { useMode } from "@/lib/mode";
import type { SessionInfo } from "@/lib/api/types";

const NAV: NavItem[] = [
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

  const customer = session.customer;
  return (
    <Shell
      nav={NAV}
      navLabel="Dashboard"
      home="/"
      brand={
        <>
          <Logo /> wasp
        </>
      }
      mobileBrand={
        <>
          <Logo />
          <span className="sr-only sm:not-sr-only">wasp</span>
        </>
      }
      headerEnd={
        <>
          <ModeSwitch />
          <ThemeToggle />
          <span className="hidden max-w-48 truncate text-sm text-muted-foreground lg:inline" title={customer.email}>
            {customer.email}
          </span>
          <SignOutButton logout={() => api.post("/api/customer/auth/logout")} to="/login?signed_out=1" />
        </>
      }
      banners={
        <>
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
        </>
      }
    >
      {children}
    </Shell>
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
