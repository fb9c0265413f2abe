import { useEffect, useMemo, useRef, useState } from "react";
import { askKey, type HeadroomAsk } from "../domain/headroom";
import type { Headroom } from "../domain/types";
import { api, ApiError } from "../services/api";
import type { OrdersStream } from "../services/websocket";

/**
 * When to read: at most one request in flight, and none in a burst. `restart` waits for
 * `delayMs` of quiet (typing a price asks once, at the end); `soon` joins a wait already
 * under way or starts one (a burst of fills reads once). A call while a read is in flight
 * reads once more when it ends, never two at a time.
 */
export class ReadScheduler {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private again = false;

  constructor(private readonly delayMs: number, private readonly read: () => Promise<unknown>) {}

  restart(): void {
    this.cancel();
    this.timer = setTimeout(this.fire, this.delayMs);
  }

  soon(): void {
    if (this.timer === null) this.timer = setTimeout(this.fire, this.delayMs);
  }

  /** Drops a wait under way (a read in flight still ends, and may read once more). */
  cancel(): void {
    this.again = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly fire = (): void => {
    this.timer = null;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    this.read().catch(() => undefined).finally(() => {
      this.running = false;
      if (this.again) this.fire();
    });
  };
}

export interface HeadroomState {
  /** the last answer (for the current ask, or the previous one while `pending`) */
  data: Headroom | null;
  error: ApiError | null;
  /** the ask changed and its answer has not arrived yet */
  pending: boolean;
}

/**
 * The risk headroom for `ask` (null: nothing to ask yet), read `delayMs` after the ask last
 * changed, and again (coalesced) after each of the user's order events and reconnects on
 * `stream` and on each call of the returned `refresh`.
 */
export function useHeadroom(stream: OrdersStream | undefined, ask: HeadroomAsk | null,
  delayMs = 300): HeadroomState & { refresh: () => void } {
  const key = ask ? askKey(ask) : null;
  const [answer, setAnswer] = useState<{ key: string; data: Headroom | null; error: ApiError | null } | null>(null);
  const askRef = useRef(ask);
  askRef.current = ask;

  const scheduler = useMemo(() => new ReadScheduler(delayMs, async () => {
    const current = askRef.current;
    if (!current) return;
    const asked = askKey(current);
    const isCurrent = () => askRef.current !== null && askKey(askRef.current) === asked;
    try {
      const data = await api.headroom(current.symbol, current.price);
      if (isCurrent()) setAnswer({ key: asked, data, error: null });
    } catch (error) {
      if (isCurrent()) {
        setAnswer((previous) => ({
          key: asked, data: previous?.data ?? null,
          error: error instanceof ApiError ? error
            : new ApiError(0, [{ field: null, code: "network", message: String(error) }]),
        }));
      }
    }
  }), [delayMs]);

  useEffect(() => () => scheduler.cancel(), [scheduler]);
  useEffect(() => {
    if (key !== null) scheduler.restart();
  }, [key, scheduler]);
  useEffect(() => {
    if (!stream) return undefined;
    const stopExecution = stream.onExecution(() => scheduler.soon());
    const stopConnected = stream.onConnected(() => scheduler.soon());
    return () => { stopExecution(); stopConnected(); };
  }, [stream, scheduler]);

  const refresh = useMemo(() => () => scheduler.soon(), [scheduler]);
  const current = answer !== null && answer.key === key;
  return {
    data: answer?.data ?? null,
    error: current ? answer.error : null,
    pending: key !== null && !current,
    refresh,
  };
}
