import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../services/api";
import { NewestOnly } from "../services/newest";

export interface Resource<T> {
  data: T | null;
  error: ApiError | null;
  /** Reads again; calls within `coalesceMs` of each other make one request. */
  refresh: () => void;
}

/** Data read from the REST API, read again on demand (bursts of events make one read). */
export function useResource<T>(load: (() => Promise<T>) | null, coalesceMs = 150): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const newest = useRef(new NewestOnly());

  const run = useCallback(() => {
    timer.current = null;
    const current = loadRef.current;
    if (!current) return;
    newest.current.track(
      current(),
      (value) => { if (loadRef.current === current) { setData(value); setError(null); } },
      (reason: unknown) => {
        if (loadRef.current === current) setError(reason instanceof ApiError ? reason : null);
      },
    );
  }, []);

  const refresh = useCallback(() => {
    if (timer.current === null) timer.current = setTimeout(run, coalesceMs);
  }, [run, coalesceMs]);

  useEffect(() => {
    setData(null);
    run();
    return () => {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [load, run]);

  return { data, error, refresh };
}
