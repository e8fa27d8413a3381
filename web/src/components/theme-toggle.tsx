"use client";
import * as React from "react";
import { Monitor, Moon, Sun } from "lucide-react";
import { Button } from "@/components/ui/button";

type Theme = "system" | "light" | "dark";
const ORDER: Theme[] = ["system", "light", "dark"];

function apply(theme: Theme) {
  const dark = theme === "dark" || (theme === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
}

/** Cycles the colour theme: the system's, light, dark. */
export function ThemeToggle() {
  const [theme, setTheme] = React.useState<Theme>("system");
  React.useEffect(() => {
    const saved = localStorage.getItem("wasp.theme");
    const t: Theme = saved === "light" || saved === "dark" ? saved : "system";
    setTheme(t);
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => apply((localStorage.getItem("wasp.theme") as Theme | null) ?? "system");
    mq.addEventListener("change", onChange);
    return () => mq.removeEventListener("change", onChange);
  }, []);
  const next = ORDER[(ORDER.indexOf(theme) + 1) % ORDER.length]!;
  const Icon = theme === "dark" ? Moon : theme === "light" ? Sun : Monitor;
  return (
    <Button
      variant="ghost"
      size="icon"
      aria-label={`Colour theme: ${theme}. Switch to ${next}`}
      title={`Theme: ${theme}`}
      onClick={() => {
        if (next === "system") localStorage.removeItem("wasp.theme");
        else localStorage.setItem("wasp.theme", next);
        setTheme(next);
        apply(next);
      }}
    >
      <Icon aria-hidden />
    </Button>
  );
}
