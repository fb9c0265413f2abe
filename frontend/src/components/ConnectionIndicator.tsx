import { useSocketStatus } from "../hooks/useWebSocket";
import type { ReconnectingSocket, SocketStatus } from "../services/websocket";

const LABEL: Record<SocketStatus, string> = {
  open: "live", connecting: "connecting", reconnecting: "reconnecting",
  unauthorized: "not signed in", closed: "off",
};

function Stream({ name, socket }: { name: string; socket: ReconnectingSocket }) {
  const status = useSocketStatus(socket);
  return (
    <span className={`connection ${status}`} data-testid={`connection-${name}`} data-status={status}>
      <span className="dot" aria-hidden="true" /> {name}: {LABEL[status]}
    </span>
  );
}

export function ConnectionIndicator({ market, orders }: {
  market: ReconnectingSocket; orders: ReconnectingSocket;
}) {
  return (
    <div className="connections" aria-label="Connection">
      <Stream name="market" socket={market} />
      <Stream name="orders" socket={orders} />
    </div>
  );
}
