/** Unrealized profit and loss of a position at a mark price: (mark - average entry) times
 * the signed quantity (a short position gains when the mark falls). Exact decimals. */
import { dec, format, isZero, multiply, subtract } from "./decimal";

export function unrealizedPnl(position: { quantity: string; average_entry_price: string },
  mark: string | null): string | null {
  if (mark === null) return null;
  const quantity = dec(position.quantity);
  if (isZero(quantity)) return "0";
  return format(multiply(subtract(dec(mark), dec(position.average_entry_price)), quantity));
}
