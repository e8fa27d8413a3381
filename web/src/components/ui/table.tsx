import * as React from "react";
import { Card } from "@/components/ui/card";
import { cn } from "@/lib/utils";

export type Column = string | { label: React.ReactNode; numeric?: boolean; srOnly?: boolean };

/**
 * A table in a card that scrolls sideways on its own (the page never does), with its
 * caption for screen readers and its column headers; `busy` dims it while newer rows load.
 */
export function TableCard({
  caption,
  columns,
  busy,
  className,
  children,
  testId,
}: {
  caption: string;
  columns: Column[];
  busy?: boolean;
  className?: string;
  children: React.ReactNode;
  testId?: string;
}) {
  return (
    <Card className={cn("relative overflow-x-auto", busy && "opacity-60 transition-opacity", className)} aria-busy={busy || undefined} data-testid={testId}>
      <table className="w-full text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="border-b text-left text-xs text-muted-foreground">
          <tr>
            {columns.map((c, i) => {
              const col = typeof c === "string" ? { label: c } : c;
              return (
                <th key={i} scope="col" className={cn("px-4 py-2 font-medium whitespace-nowrap", col.numeric && "text-right")}>
                  {col.srOnly ? <span className="sr-only">{col.label}</span> : col.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody className="divide-y">{children}</tbody>
      </table>
    </Card>
  );
}

/** A cell; `numeric` aligns right with tabular figures. */
export function Td({ numeric, className, ...props }: React.TdHTMLAttributes<HTMLTableCellElement> & { numeric?: boolean }) {
  return <td className={cn("px-4 py-3", numeric && "text-right tabular-nums whitespace-nowrap", className)} {...props} />;
}
