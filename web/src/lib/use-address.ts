"use client";
// Filters kept in the address: read with `params`, changed with `set` (a change to any
// filter but the page itself goes back to page 1).
import { usePathname, useRouter, useSearchParams } from "next/navigation";

export function useAddressFilters() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const set = (changes: Record<string, string | number | undefined>) => {
    const next = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === "") next.delete(k);
      else next.set(k, String(v));
    }
    if (!("page" in changes)) next.delete("page");
    const qs = next.toString();
    router.replace(qs ? `${pathname}?${qs}` : pathname);
  };
  return { params, set };
}
