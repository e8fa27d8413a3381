import Link from "next/link";
import { ThemeToggle } from "@/components/theme-toggle";

/** The pages around signing in (customer's and operator's): the brand, the theme, one narrow column. */
export function AuthFrame({ home, brand, children }: { home: string; brand: React.ReactNode; children: React.ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex items-center justify-between p-4">
        <Link href={home} className="flex items-center gap-2 font-semibold">
          {brand}
        </Link>
        <ThemeToggle />
      </header>
      <main className="flex flex-1 items-start justify-center px-4 pb-12 pt-4 sm:items-center">
        <div className="w-full max-w-sm">{children}</div>
      </main>
    </div>
  );
}
