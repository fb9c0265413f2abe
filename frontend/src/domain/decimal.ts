/**
 * Exact decimals for the few checks the UI makes (tick, lot, notional), never floats.
 * A value is an integer of digits and a scale: "12.345" is { digits: 12345n, scale: 3 }.
 */
export interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

const PATTERN = /^(-)?(\d*)(?:\.(\d*))?$/;

/** The exact value of a decimal string ("1", "0.5", ".5", "-2.10"), or null if it is not one. */
export function parseDecimal(text: string): Decimal | null {
  const match = PATTERN.exec(text.trim());
  if (!match) return null;
  const [, sign = "", whole = "", fraction = ""] = match;
  if (whole === "" && fraction === "") return null;
  const digits = BigInt(`${whole}${fraction}` || "0");
  return { digits: sign ? -digits : digits, scale: fraction.length };
}

/** Like parseDecimal, for values the API sent (always well-formed). */
export function dec(text: string): Decimal {
  const value = parseDecimal(text);
  if (value === null) throw new Error(`not a decimal: ${text}`);
  return value;
}

function rescale(value: Decimal, scale: number): bigint {
  return value.digits * 10n ** BigInt(scale - value.scale);
}

function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [rescale(a, scale), rescale(b, scale), scale];
}

export function compare(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function add(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = aligned(a, b);
  return { digits: x + y, scale };
}

export function subtract(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = aligned(a, b);
  return { digits: x - y, scale };
}

export function multiply(a: Decimal, b: Decimal): Decimal {
  return { digits: a.digits * b.digits, scale: a.scale + b.scale };
}

/** True when `value` is a whole number of `step`s (`step` must be positive). */
export function isMultipleOf(value: Decimal, step: Decimal): boolean {
  const [x, y] = aligned(value, step);
  return x % y === 0n;
}

export function isZero(value: Decimal): boolean {
  return value.digits === 0n;
}

/** Canonical text without trailing zeros: "1.50" and "1.5" both give "1.5". */
export function format(value: Decimal): string {
  const negative = value.digits < 0n;
  let text = (negative ? -value.digits : value.digits).toString().padStart(value.scale + 1, "0");
  if (value.scale > 0) {
    text = `${text.slice(0, -value.scale)}.${text.slice(-value.scale)}`.replace(/\.?0+$/, "");
  }
  return negative && text !== "0" ? `-${text}` : text;
}

/** The canonical form of a decimal string: the key of a price level. */
export function normalize(text: string): string {
  return format(dec(text));
}

/** An approximate number, for drawing only (bar widths, chart coordinates). */
export function toNumber(value: Decimal): number {
  return Number(format(value));
}

/** `value` rounded down (`"floor"`) or up (`"ceil"`) to a whole number of `step`s (step > 0). */
export function toStep(value: Decimal, step: Decimal, rounding: "floor" | "ceil"): Decimal {
  const [x, y, scale] = aligned(value, step);
  let units = x / y; // bigint division truncates toward zero
  if (units * y !== x) {
    if (rounding === "floor" && x < 0n) units -= 1n;
    if (rounding === "ceil" && x > 0n) units += 1n;
  }
  return { digits: units * y, scale };
}

/** `value` with at most `places` decimals, half away from zero (for display). */
export function roundTo(value: Decimal, places: number): Decimal {
  if (value.scale <= places) return value;
  const divisor = 10n ** BigInt(value.scale - places);
  const negative = value.digits < 0n;
  const magnitude = negative ? -value.digits : value.digits;
  let units = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) units += 1n;
  return { digits: negative ? -units : units, scale: places };
}

/** `value` with exactly `places` decimals, for aligned columns ("1.5" -> "1.50"). */
export function fixed(value: Decimal, places: number): string {
  const rounded = roundTo(value, places);
  const text = format(rounded);
  if (places === 0) return text;
  const [whole, fraction = ""] = text.split(".");
  return `${whole}.${fraction.padEnd(places, "0")}`;
}

/** The number of decimals of a step such as a tick size ("0.01" -> 2, "1" -> 0). */
export function decimalsOf(step: string): number {
  return dec(normalize(step)).scale;
}
