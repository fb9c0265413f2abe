import { reasonLabel } from "./reasons";
import type { Order } from "./types";

/**
 * What an order's last refused request says, for the open orders table: "Amend refused at
 * 01:32:31: Order larger than the risk limit allows (order_size)", or null when none was.
 * The record keeps a refusal until another request is refused, so its time is shown: the
 * trader can tell an old refusal from the answer to the amend just sent.
 */
export function refusalNote(order: Pick<Order, "last_refusal">, timeZone?: string): string | null {
  const refusal = order.last_refusal;
  if (!refusal) return null;
  const request = refusal.request === "amend" ? "Amend" : "Cancel";
  const at = new Date(refusal.at).toLocaleTimeString("en-GB", { hour12: false, timeZone });
  return `${request} refused at ${at}: ${reasonLabel(refusal.reason)}`;
}
