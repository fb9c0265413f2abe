import { useEffect, useState } from "react";
import { ApiError, api } from "../services/api";

export type Session = "checking" | "signed-in" | "signed-out" | "unavailable";

/** Whether the browser's Django session may trade (read: the balances answer). */
export function useSession(): Session {
  const [session, setSession] = useState<Session>("checking");
  useEffect(() => {
    let live = true;
    api.balances().then(
      () => live && setSession("signed-in"),
      (error: unknown) => live && setSession(
        error instanceof ApiError && error.unauthenticated ? "signed-out" : "unavailable"),
    );
    return () => { live = false; };
  }, []);
  return session;
}
