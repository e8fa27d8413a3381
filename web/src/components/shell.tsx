"use client";
// The frame the customer dashboard and the admin panel share: a sidebar on wide screens,
// a menu dialog on phones, a sticky header and the main column.
import * as React from "react";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { LogOut, Menu, type LucideIcon } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogTitle } from "@/components/ui/dialog";
import { cn } from "@/lib/utils";

export interface NavItem {
  href: string;
  label: string;
  icon: LucideIcon;
}

/** Whether `href` is the page shown (the home link only on itself). */
export function isActive(pathname: string, href: string, home: string) {
  const p = pathname.replace(/\/$/, "") || "/";
  return href === home ? p === home : p === href || p.startsWith(href + "/");
}

function NavLinks({ items, label, home, onNavigate }: { items: NavItem[]; label: string; home: string; onNavigate?: () => void }) {
  const pathname = usePathname();
  return (
    <nav aria-label={label} className="grid gap-1">
      {items.map(({ href, label, icon: Icon }) => {
        const active = isActive(pathname, href, home);
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

export function Shell({
  nav,
  navLabel,
  home,
  brand,
  mobileBrand = brand,
  headerEnd,
  banners,
  menuNote,
  children,
}: {
  nav: NavItem[];
  navLabel: string;
  home: string;
  brand: React.ReactNode;
  mobileBrand?: React.ReactNode;
  /** The header's right-hand controls. */
  headerEnd: React.ReactNode;
  /** Notes under the header (mode, read-only access, …). */
  banners?: React.ReactNode;
  /** A line above the phone menu's links. */
  menuNote?: React.ReactNode;
  children: React.ReactNode;
}) {
  const [menuOpen, setMenuOpen] = React.useState(false);
  return (
    <div className="min-h-dvh md:grid md:grid-cols-[15rem_1fr]">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-background focus:p-2">
        Skip to content
      </a>
      <aside className="hidden border-r bg-muted/30 md:flex md:flex-col md:gap-4 md:p-4">
        <Link href={home} className="flex items-center gap-2 px-2 font-semibold">
          {brand}
        </Link>
        <NavLinks items={nav} label={navLabel} home={home} />
      </aside>
      <div className="flex min-w-0 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b bg-background/95 px-3 backdrop-blur sm:px-4">
          <Button variant="ghost" size="icon" className="md:hidden" aria-label="Open the menu" onClick={() => setMenuOpen(true)}>
            <Menu aria-hidden />
          </Button>
          <Link href={home} className="flex items-center gap-2 font-semibold md:hidden">
            {mobileBrand}
          </Link>
          <div className="ml-auto flex min-w-0 items-center gap-1 sm:gap-3">{headerEnd}</div>
        </header>
        {banners}
        <main id="main" className="mx-auto w-full max-w-6xl flex-1 p-4 sm:p-6">
          {children}
        </main>
      </div>
      <Dialog open={menuOpen} onOpenChange={setMenuOpen}>
        <DialogContent side="left" aria-describedby={undefined}>
          <DialogTitle className="mb-4 flex items-center gap-2 text-base">{brand}</DialogTitle>
          {menuNote ? <p className="mb-4 truncate px-3 text-sm text-muted-foreground">{menuNote}</p> : null}
          <NavLinks items={nav} label={navLabel} home={home} onNavigate={() => setMenuOpen(false)} />
        </DialogContent>
      </Dialog>
    </div>
  );
}

/** Signs out (`logout` ends the session; a failure too ends here), forgets every query and opens `to`. */
export function SignOutButton({ logout, to }: { logout: () => Promise<unknown>; to: string }) {
  const router = useRouter();
  const qc = useQueryClient();
  const [signingOut, setSigningOut] = React.useState(false);
  const signOut = async () => {
    setSigningOut(true);
    try {
      await logout();
    } catch {
      /* the cookies are gone or will expire; the sign-in page either way */
    }
    qc.clear();
    router.replace(to);
  };
  return (
    <Button variant="ghost" size="sm" onClick={signOut} disabled={signingOut} aria-label="Sign out">
      <LogOut aria-hidden />
      <span className="hidden sm:inline">Sign out</span>
    </Button>
  );
}
