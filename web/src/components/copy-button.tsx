"use client";
import * as React from "react";
import { Check, Copy } from "lucide-react";
import { Button, type ButtonProps } from "@/components/ui/button";

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable (http, permissions): fall back to a selection copy.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export function CopyButton({ text, label = "Copy", ...props }: { text: string; label?: string } & ButtonProps) {
  const [copied, setCopied] = React.useState(false);
  return (
    <Button
      variant="outline"
      size="sm"
      onClick={async () => {
        if (await copyText(text)) {
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        }
      }}
      {...props}
    >
      {copied ? <Check aria-hidden /> : <Copy aria-hidden />}
      <span aria-live="polite">{copied ? "Copied" : label}</span>
    </Button>
  );
}

/** A secret shown once: the value, a copy button and the warning. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  return (
    <div className="grid gap-2 rounded-md border border-warning/50 bg-warning/10 p-3">
      <p className="text-sm font-medium">{label}</p>
      <div className="flex flex-wrap items-center gap-2">
        <code data-testid="secret" className="min-w-0 flex-1 break-all rounded bg-background px-2 py-1.5 font-mono text-xs">
          {value}
        </code>
        <CopyButton text={value} />
      </div>
      <p className="text-xs text-muted-foreground">Store it now: it is shown only this once.</p>
    </div>
  );
}
