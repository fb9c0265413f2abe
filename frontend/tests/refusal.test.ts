import { describe, expect, it } from "vitest";
import { refusalNote } from "../src/domain/refusal";

describe("refusalNote", () => {
  it("is null when no request on the order was refused", () => {
    expect(refusalNote({ last_refusal: null })).toBeNull();
  });

  it("names the request, its time and the reason in plain words with its code", () => {
    const note = refusalNote({
      last_refusal: { request: "amend", reason: "order_size", at: "2026-12-07T01:32:31.624333Z" },
    }, "UTC");
    expect(note).toBe("Amend refused at 01:32:31: Order larger than the risk limit allows (order_size)");
  });

  it("says a set-aside cancel in plain words too", () => {
    const note = refusalNote({
      last_refusal: { request: "cancel", reason: "unprocessable", at: "2026-12-07T08:00:00Z" },
    }, "UTC");
    expect(note).toBe("Cancel refused at 08:00:00: The request could not be processed (unprocessable)");
  });
});
