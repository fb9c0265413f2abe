/**
 * The live streams of the backend (apps/marketdata/ws.py):
 * - `ReconnectingSocket`: one WebSocket that reconnects with exponential backoff and
 *   jitter, answers the server's heartbeat and tells its status;
 * - `MarketDataClient`: `/ws/market-data` subscriptions (ticker, trades, book) that are sent
 *   again after every reconnect, and per-symbol books kept snapshot-then-delta; a delta
 *   that does not follow (a gap) makes the client subscribe again for a fresh snapshot;
 * - `OrdersStream`: `/ws/orders`, the signed-in user's own execution events.
 */
import { applyDelta, type Book, type BookMessage, bookFromSnapshot } from "../domain/book";

export type SocketStatus = "connecting" | "open" | "reconnecting" | "unauthorized" | "closed";

/** The part of the browser's WebSocket this module uses (a fake one in tests). */
export interface SocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** fraction of the delay taken off at random, 0..1, so clients do not reconnect together */
  jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000, factor: 2, jitter: 0.3 };
/** Closed by the server for want of a login (apps/marketdata/ws.py): retrying will not help. */
export const CLOSE_UNAUTHENTICATED = 4401;

/** The wait before reconnect attempt `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** attempt);
  return Math.round(ceiling * (1 - backoff.jitter * random()));
}

export interface SocketOptions {
  url: () => string;
  onMessage: (message: unknown) => void;
  /** after every successful (re)connection: send subscriptions, refresh state */
  onOpen?: () => void;
  createSocket?: (url: string) => SocketLike;
  backoff?: Backoff;
  random?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

type StatusListener = (status: SocketStatus) => void;

export class ReconnectingSocket {
  private socket: SocketLike | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private running = false;
  private currentStatus: SocketStatus = "closed";
  private readonly statusListeners = new Set<StatusListener>();
  private readonly options: Required<SocketOptions>;

  constructor(options: SocketOptions) {
    this.options = {
      onOpen: () => {},
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      backoff: DEFAULT_BACKOFF,
      random: Math.random,
      setTimer: (callback, ms) => setTimeout(callback, ms),
      clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
      ...options,
    };
  }

  get status(): SocketStatus {
    return this.currentStatus;
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    listener(this.currentStatus);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect("connecting");
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.options.clearTimer(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.setStatus("closed");
  }

  /** Sends now if connected; otherwise drops it (subscriptions are resent on open). */
  send(message: object): boolean {
    if (this.currentStatus !== "open" || !this.socket) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private connect(status: SocketStatus): void {
    this.timer = null;
    this.setStatus(status);
    const socket = this.options.createSocket(this.options.url());
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.attempt = 0;
      this.setStatus("open");
      this.options.onOpen();
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket || typeof event.data !== "string") return;
      const message: unknown = JSON.parse(event.data);
      if (isRecord(message) && message.type === "ping") socket.send(JSON.stringify({ type: "pong" }));
      else this.options.onMessage(message);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (!this.running) return;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.running = false;
        this.setStatus("unauthorized");
        return;
      }
      this.setStatus("reconnecting");
      const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
      this.attempt += 1;
      this.timer = this.options.setTimer(() => this.connect("reconnecting"), delay);
    };
    socket.onerror = () => {}; // a close event follows; it decides
  }

  private setStatus(status: SocketStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of this.statusListeners) listener(status);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `ws://host/path` on the page's own origin (Django serves the UI, /api and /ws). */
export function sameOriginUrl(path: string): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${path}`;
}

export type MarketChannel = "ticker" | "trades" | "book";

export interface Ticker {
  symbol: string;
  reference_price: string | null;
  best_bid: string | null;
  best_ask: string | null;
  last_trade_price: string | null;
}

export interface MarketTrade {
  symbol: string;
  trade_id: string;
  price: string;
  quantity: string;
  taker_side: "buy" | "sell";
}

interface ChannelPayload {
  ticker: Ticker;
  trades: MarketTrade;
  /** null while there is no usable book (before the snapshot, after a gap, unavailable) */
  book: Book | null;
}

type Listener<C extends MarketChannel> = (payload: ChannelPayload[C]) => void;
type AnyListener = (payload: ChannelPayload[MarketChannel]) => void;

const key = (symbol: string, channel: MarketChannel): string => `${symbol}|${channel}`;

function isBookMessage(message: Record<string, unknown>): message is Record<string, unknown> & BookMessage {
  return typeof message.symbol === "string" && typeof message.sequence === "number"
    && Array.isArray(message.bids) && Array.isArray(message.asks);
}

/** Wait before asking again for a book the server had none of (`unavailable`). */
export const BOOK_RETRY_MS = 3_000;

export class MarketDataClient {
  readonly socket: ReconnectingSocket;
  private readonly listeners = new Map<string, Set<AnyListener>>();
  private readonly books = new Map<string, Book>();
  private readonly retries = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: Omit<SocketOptions, "onMessage" | "onOpen" | "url"> & { url?: () => string } = {}) {
    this.socket = new ReconnectingSocket({
      url: () => sameOriginUrl("/ws/market-data"),
      ...options,
      onMessage: (message) => this.receive(message),
      onOpen: () => this.resubscribeAll(),
    });
  }

  /** Listen to one symbol's channel; the returned function stops listening. */
  subscribe<C extends MarketChannel>(symbol: string, channel: C, listener: Listener<C>): () => void {
    const id = key(symbol, channel);
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
      this.socket.send({ action: "subscribe", symbol, channel });
    }
    set.add(listener as AnyListener);
    if (channel === "book") (listener as Listener<"book">)(this.books.get(symbol) ?? null);
    return () => {
      const current = this.listeners.get(id);
      current?.delete(listener as AnyListener);
      if (current && current.size === 0) {
        this.listeners.delete(id);
        if (channel === "book") this.books.delete(symbol);
        this.socket.send({ action: "unsubscribe", symbol, channel });
      }
    };
  }

  /** After a (re)connection: every subscription again; books wait for their snapshots. */
  private resubscribeAll(): void {
    for (const id of this.listeners.keys()) {
      const [symbol = "", channel = ""] = id.split("|");
      if (channel === "book" && this.books.has(symbol)) this.setBook(symbol, null);
      this.socket.send({ action: "subscribe", symbol, channel });
    }
  }

  private emit<C extends MarketChannel>(symbol: string, channel: C, payload: ChannelPayload[C]): void {
    for (const listener of this.listeners.get(key(symbol, channel)) ?? []) listener(payload);
  }

  private receive(message: unknown): void {
    if (!isRecord(message) || typeof message.symbol !== "string") return;
    const symbol = message.symbol;
    switch (message.type) {
      case "ticker":
        this.emit(symbol, "ticker", message as unknown as Ticker);
        break;
      case "trade":
        this.emit(symbol, "trades", message as unknown as MarketTrade);
        break;
      case "snapshot":
        if (isBookMessage(message)) this.setBook(symbol, bookFromSnapshot(message));
        break;
      case "delta":
        if (isBookMessage(message)) this.applyBookDelta(symbol, message);
        break;
      case "unavailable":
        this.setBook(symbol, null);
        this.retryBook(symbol);
        break;
    }
  }

  private applyBookDelta(symbol: string, delta: BookMessage): void {
    const book = this.books.get(symbol);
    if (!book) return; // waiting for the snapshot of a (re)subscription
    const result = applyDelta(book, delta);
    if (result.kind === "applied") this.setBook(symbol, result.book);
    else if (result.kind === "gap") this.resync(symbol);
  }

  /** The server had no book: it sends none until its next snapshot, so ask again later. */
  private retryBook(symbol: string): void {
    if (this.retries.has(symbol)) return;
    this.retries.set(symbol, setTimeout(() => {
      this.retries.delete(symbol);
      if (this.listeners.has(key(symbol, "book")) && !this.books.has(symbol)) {
        this.socket.send({ action: "subscribe", symbol, channel: "book" });
      }
    }, BOOK_RETRY_MS));
  }

  /** A gap: drop the book and subscribe again, which makes the server send a snapshot. */
  private resync(symbol: string): void {
    this.setBook(symbol, null);
    this.socket.send({ action: "subscribe", symbol, channel: "book" });
  }

  private setBook(symbol: string, book: Book | null): void {
    if (!this.listeners.has(key(symbol, "book"))) return;
    if (book) this.books.set(symbol, book);
    else this.books.delete(symbol);
    this.emit(symbol, "book", book);
  }
}

/** An event of the user's own orders, as `/ws/orders` sends it. */
export interface Execution {
  type: "execution";
  event: string;
  event_id: string;
  occurred_at: string;
  payload: ExecutionPayload;
}

export interface ExecutionPayload {
  order_id: string;
  symbol: string;
  status: string;
  side?: "buy" | "sell";
  /** order.fill */
  fill_id?: string;
  trade_id?: string;
  price?: string;
  quantity?: string;
  fee?: string;
  fee_asset?: string;
  liquidity?: string;
  /** order.rejected */
  reason?: string;
  message?: string;
}

export class OrdersStream {
  readonly socket: ReconnectingSocket;
  private readonly listeners = new Set<(execution: Execution) => void>();
  private readonly openListeners = new Set<() => void>();
  /** the last sequence of this user's stream received: a reconnect resumes after it */
  private lastSeq: number | null = null;

  constructor(options: Omit<SocketOptions, "onMessage" | "onOpen" | "url"> & { url?: () => string } = {}) {
    const base = options.url ?? (() => sameOriginUrl("/ws/orders"));
    this.socket = new ReconnectingSocket({
      ...options,
      url: () => {
        const url = base();
        if (this.lastSeq === null) return url;
        return `${url}${url.includes("?") ? "&" : "?"}since=${this.lastSeq}`;
      },
      onMessage: (message) => {
        if (isRecord(message) && typeof message.seq === "number"
            && (message.type === "subscribed" || message.type === "execution")) {
          this.lastSeq = Math.max(this.lastSeq ?? 0, message.seq);
        }
        if (isRecord(message) && message.type === "execution" && isRecord(message.payload)) {
          for (const listener of this.listeners) listener(message as unknown as Execution);
        }
      },
      onOpen: () => this.openListeners.forEach((listener) => listener()),
    });
  }

  /** Every execution event; the returned function stops listening. */
  onExecution(listener: (execution: Execution) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every (re)connection: events may have been missed, so state is read again. */
  onConnected(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }
}
