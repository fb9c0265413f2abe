import type { Instrument } from "../domain/types";

export function SymbolPicker({ instruments, symbol, onChange }: {
  instruments: Instrument[]; symbol: string | null; onChange: (symbol: string) => void;
}) {
  return (
    <label className="symbol-picker">
      <span className="visually-hidden">Symbol</span>
      <select aria-label="Symbol" value={symbol ?? ""} onChange={(e) => onChange(e.target.value)}>
        {instruments.map((instrument) => (
          <option key={instrument.symbol} value={instrument.symbol}>
            {instrument.symbol}{instrument.trading ? "" : " (halted)"}
          </option>
        ))}
      </select>
    </label>
  );
}
