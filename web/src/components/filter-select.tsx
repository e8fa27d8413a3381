import * as React from "react";
import { Select } from "@/components/ui/input";

/**
 * A labelled select over a list: `any` is the empty choice ("Any plan"), left out when
 * there is none; each option is a value or [value, text].
 */
export function FilterSelect({
  id,
  label,
  value,
  onChange,
  options,
  any,
  className,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: readonly (string | readonly [string, string])[];
  any?: string;
  className?: string;
}) {
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="text-xs font-medium">
        {label}
      </label>
      <Select id={id} className={className} value={value} onChange={(e) => onChange(e.target.value)}>
        {any !== undefined ? <option value="">{any}</option> : null}
        {options.map((o) => {
          const [v, text] = typeof o === "string" ? [o, o] : o;
          return (
            <option key={v} value={v}>
              {text}
            </option>
          );
        })}
      </Select>
    </div>
  );
}
