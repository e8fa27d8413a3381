"use client";
// The live event stream (GET /api/v1/events) of the current mode's session, read with
// fetch so that it carries the session cookie and X-Wasp-Mode; reconnects by itself.
import * as React from "react";
import { api } from "./api/provider";
import { SseParser, parseWaspEvent, type WaspEvent } from "./api/sse";
import type { Mode } from "./api/client";

export type StreamState = "connecting" | "open" | "closed";

export function useEventStream(mode: Mode, filter: string, onEvent: (e: WaspEvent) => void, enabled = true): StreamState {
  const [state, setState] = React.useState<StreamState>("connecting");
  const handler = React.useRef(onEvent);
  React.useEffect(() => {
    handler.current = onEvent;
  });

  React.useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    let retry = 1_000;
    let timer: ReturnType<typeof setTimeout> | undefined;

    async function run() {
      setState("connecting");
      try {
        const response = await api.raw("/api/v1/events", {
          mode,
          query: { events: filter },
          signal: abort.signal,
          headers: { Accept: "text/event-stream" },
        });
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        setState("open");
        retry = 1_000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const raw of parser.push(value)) {
            const event = parseWaspEvent(raw);
            if (event) handler.current(event);
          }
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      if (abort.signal.aborted) return;
      setState("closed");
      timer = setTimeout(run, retry);
      retry = Math.min(retry * 2, 30_000);
    }
    run();
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, [mode, filter, enabled]);

  return state;
}
