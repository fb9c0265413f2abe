import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Book } from "../src/domain/book";
import {
  backoffDelay, BOOK_RETRY_MS, CLOSE_UNAUTHENTICATED, DEFAULT_BACKOFF, MarketDataClient, OrdersStream,
  ReconnectingSocket, type SocketStatus,
} from "../src/services/websocket";
import { socketFactory } from "./fakeSocket";

const NO_JITTER = { ...DEFAULT_BACKOFF, jitter: 0 };

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("backoffDelay", () => {
  it("doubles up to the ceiling and takes jitter off", () => {
    const delays = [0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, NO_JITTER, () => 0.5));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 1)).toBe(700); // 1000 minus 30 %
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 0)).toBe(1000);
  });
});

describe("ReconnectingSocket", () => {
  function setup() {
    const factory = socketFactory();
    const messages: unknown[] = [];
    const statuses: SocketStatus[] = [];
    let opens = 0;
    const socket = new ReconnectingSocket({
      url: () => "ws://test/ws/x", createSocket: factory.create, backoff: NO_JITTER,
      onMessage: (message) => messages.push(message), onOpen: () => { opens += 1; },
    });
    socket.onStatus((status) => statuses.push(status));
    return { factory, socket, messages, statuses, opens: () => opens };
  }

  it("reconnects with growing delays and resets them after a success", () => {
    const { factory, socket, statuses, opens } = setup();
    socket.start();
    expect(factory.sockets).toHaveLength(1);
    factory.last().drop();
    expect(socket.status).toBe("reconnecting");
    vi.advanceTimersByTime(499);
    expect(factory.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(factory.sockets).toHaveLength(2);
    factory.last().drop(); // the second attempt fails too: wait twice as long
    vi.advanceTimersByTime(999);
    expect(factory.sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(factory.sockets).toHaveLength(3);
    factory.last().open();
    expect(opens()).toBe(1);
    factory.last().drop(); // after a success the delay starts over
    vi.advanceTimersByTime(500);
    expect(factory.sockets).toHaveLength(4);
    expect(statuses).toEqual(["closed", "connecting", "reconnecting", "open", "reconnecting"]);
  });

  it("answers the heartbeat and passes other messages on", () => {
    const { factory, socket, messages } = setup();
    socket.start();
    factory.last().open();
    factory.last().receive({ type: "ping" });
    factory.last().receive({ type: "ticker", symbol: "BTC-USDT" });
    expect(factory.last().sent).toEqual([{ type: "pong" }]);
    expect(messages).toEqual([{ type: "ticker", symbol: "BTC-USDT" }]);
  });

  it("stops for good when the server refuses the login, or when stopped", () => {
    const { factory, socket } = setup();
    socket.start();
    factory.last().drop(CLOSE_UNAUTHENTICATED);
    expect(socket.status).toBe("unauthorized");
    vi.advanceTimersByTime(60_000);
    expect(factory.sockets).toHaveLength(1);

    socket.start();
    factory.last().open();
    socket.stop();
    expect(factory.last().closed).toBe(true);
    factory.last().drop(1000); // the close event of the stopped socket
    vi.advanceTimersByTime(60_000);
    expect(factory.sockets).toHaveLength(2);
    expect(socket.status).toBe("closed");
  });

  it("sends only while open", () => {
    const { factory, socket } = setup();
    socket.start();
    expect(socket.send({ a: 1 })).toBe(false);
    factory.last().open();
    expect(socket.send({ a: 2 })).toBe(true);
    expect(factory.last().sent).toEqual([{ a: 2 }]);
  });
});

describe("MarketDataClient", () => {
  function setup() {
    const factory = socketFactory();
    const client = new MarketDataClient({
      url: () => "ws://test/ws/market-data", createSocket: factory.create, backoff: NO_JITTER,
    });
    const books: (Book | null)[] = [];
    client.subscribe("BTC-USDT", "book", (book) => books.push(book));
    client.socket.start();
    factory.last().open();
    return { factory, client, books };
  }
  const level = (price: string, qty: string) => [price, qty];

  it("subscribes on open and again after every reconnect", () => {
    const { factory, client } = setup();
    client.subscribe("BTC-USDT", "ticker", () => {});
    expect(factory.last().sent).toEqual([
      { action: "subscribe", symbol: "BTC-USDT", channel: "book" },
      { action: "subscribe", symbol: "BTC-USDT", channel: "ticker" },
    ]);
    factory.last().drop();
    vi.advanceTimersByTime(500);
    factory.last().open();
    expect(factory.last().sent).toEqual([
      { action: "subscribe", symbol: "BTC-USDT", channel: "book" },
      { action: "subscribe", symbol: "BTC-USDT", channel: "ticker" },
    ]);
  });

  it("keeps the book from a snapshot and its deltas", () => {
    const { factory, books } = setup();
    factory.last().receive({ type: "delta", channel: "book", symbol: "BTC-USDT", sequence: 4, bids: [], asks: [] });
    factory.last().receive({
      type: "snapshot", channel: "book", symbol: "BTC-USDT", sequence: 5,
      bids: [level("100", "1")], asks: [level("101", "1")],
    });
    factory.last().receive({
      type: "delta", channel: "book", symbol: "BTC-USDT", sequence: 6,
      bids: [level("100", "0"), level("99", "2")], asks: [],
    });
    const last = books.at(-1);
    expect(books).toHaveLength(3); // null at subscribe, snapshot, delta (the early delta is ignored)
    expect(last?.sequence).toBe(6);
    expect([...(last?.bids.entries() ?? [])]).toEqual([["99", "2"]]);
  });

  it("resubscribes for a fresh snapshot after a gap and ignores deltas until it comes", () => {
    const { factory, books } = setup();
    const socket = factory.last();
    socket.receive({ type: "snapshot", channel: "book", symbol: "BTC-USDT", sequence: 5, bids: [level("100", "1")], asks: [] });
    socket.sent.length = 0;
    socket.receive({ type: "delta", channel: "book", symbol: "BTC-USDT", sequence: 7, bids: [], asks: [] });
    expect(books.at(-1)).toBeNull();
    expect(socket.sent).toEqual([{ action: "subscribe", symbol: "BTC-USDT", channel: "book" }]);
    socket.receive({ type: "delta", channel: "book", symbol: "BTC-USDT", sequence: 8, bids: [], asks: [] });
    expect(books.at(-1)).toBeNull();
    socket.receive({ type: "snapshot", channel: "book", symbol: "BTC-USDT", sequence: 8, bids: [level("98", "1")], asks: [] });
    expect(books.at(-1)?.sequence).toBe(8);
  });

  it("unsubscribes when the last listener leaves", () => {
    const { factory, client } = setup();
    const stop = client.subscribe("ETH-USDT", "trades", () => {});
    stop();
    expect(factory.last().sent.slice(-2)).toEqual([
      { action: "subscribe", symbol: "ETH-USDT", channel: "trades" },
      { action: "unsubscribe", symbol: "ETH-USDT", channel: "trades" },
    ]);
  });
});

describe("OrdersStream", () => {
  it("passes executions on and says when it (re)connected", () => {
    const factory = socketFactory();
    const stream = new OrdersStream({ url: () => "ws://test/ws/orders", createSocket: factory.create, backoff: NO_JITTER });
    const events: string[] = [];
    stream.onExecution((execution) => events.push(execution.event));
    stream.onConnected(() => events.push("connected"));
    stream.socket.start();
    factory.last().open();
    factory.last().receive({ type: "execution", event: "order.fill", event_id: "e1", occurred_at: "", payload: { order_id: "o", symbol: "BTC-USDT", status: "FILLED" } });
    factory.last().receive({ type: "dropped" });
    factory.last().drop();
    vi.advanceTimersByTime(500);
    factory.last().open();
    expect(events).toEqual(["connected", "order.fill", "connected"]);
  });
});

describe("MarketDataClient when the server has no book", () => {
  it("asks again after a while until a snapshot comes", () => {
    const factory = socketFactory();
    const client = new MarketDataClient({ url: () => "ws://test", createSocket: factory.create, backoff: NO_JITTER });
    client.subscribe("BTC-USDT", "book", () => {});
    client.socket.start();
    const socket = factory.last();
    socket.open();
    socket.sent.length = 0;
    socket.receive({ type: "unavailable", channel: "book", symbol: "BTC-USDT" });
    vi.advanceTimersByTime(BOOK_RETRY_MS - 1);
    expect(socket.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(socket.sent).toEqual([{ action: "subscribe", symbol: "BTC-USDT", channel: "book" }]);
    socket.receive({ type: "snapshot", channel: "book", symbol: "BTC-USDT", sequence: 1, bids: [], asks: [] });
    vi.advanceTimersByTime(BOOK_RETRY_MS * 2);
    expect(socket.sent).toHaveLength(1);
  });
});
