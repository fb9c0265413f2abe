import { useEffect } from "react";
import type { Balance, Position } from "../domain/types";
import { api } from "../services/api";
import type { OrdersStream } from "../services/websocket";
import { useResource } from "./useResource";

/** Events that move money or positions: reserve, release, fill, settle. */
const MONEY_EVENTS = new Set([
  "order.accepted", "order.fill", "order.cancelled", "order.settled", "order.amended",
]);

export interface Account {
  balances: Balance[] | null;
  positions: Position[] | null;
}

/** Balances and positions, read again on each money-moving event and on every reconnect. */
export function useAccount(stream: OrdersStream, signedIn: boolean): Account {
  const balances = useResource<Balance[]>(signedIn ? api.balances : null, 250);
  const positions = useResource<Position[]>(signedIn ? api.positions : null, 250);
  const { refresh: refreshBalances } = balances;
  const { refresh: refreshPositions } = positions;

  useEffect(() => {
    const refresh = () => { refreshBalances(); refreshPositions(); };
    const stopConnected = stream.onConnected(refresh);
    const stopExecution = stream.onExecution((execution) => {
      if (MONEY_EVENTS.has(execution.event)) refresh();
    });
    return () => { stopConnected(); stopExecution(); };
  }, [stream, refreshBalances, refreshPositions]);

  return { balances: balances.data, positions: positions.data };
}
