"use client";
// The live/test switch: which WhatsApp session the dashboard drives. Persisted in
// localStorage; a new browser starts in test mode (the sandbox).
import * as React from "react";
import type { Mode } from "./api/client";

const KEY = "wasp.mode";

interface ModeContext {
  mode: Mode;
  setMode: (mode: Mode) => void;
}

const Ctx = React.createContext<ModeContext | null>(null);

export function readStoredMode(): Mode {
  try {
    return localStorage.getItem(KEY) === "live" ? "live" : "test";
  } catch {
    return "test";
  }
}

/** The current mode outside React (the API client reads it at each call). */
export const modeRef: { current: Mode } = { current: "test" };

export function ModeProvider({ children }: { children: React.ReactNode }) {
  const [mode, setModeState] = React.useState<Mode>("test");
  React.useEffect(() => {
    const stored = readStoredMode();
    modeRef.current = stored;
    setModeState(stored);
    const onStorage = (e: StorageEvent) => {
      if (e.key === KEY) {
        const next = readStoredMode();
        modeRef.current = next;
        setModeState(next);
      }
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);
  const setMode = React.useCallback((next: Mode) => {
    modeRef.current = next;
    try {
      localStorage.setItem(KEY, next);
    } catch {
      /* private mode: keep it for this page */
    }
    setModeState(next);
  }, []);
  return <Ctx.Provider value={{ mode, setMode }}>{children}</Ctx.Provider>;
}

export function useMode(): ModeContext {
  const ctx = React.useContext(Ctx);
  if (!ctx) throw new Error("useMode outside ModeProvider");
  return ctx;
}
