"use client";
import * as React from "react";
import { QueryProvider } from "@/lib/api/provider";
import { ModeProvider } from "@/lib/mode";

export function Providers({ children }: { children: React.ReactNode }) {
  return (
    <QueryProvider>
      <ModeProvider>{children}</ModeProvider>
    </QueryProvider>
  );
}
