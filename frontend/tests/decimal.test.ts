import { describe, expect, it } from "vitest";
import {
  compare, dec, decimalsOf, fixed, format, isMultipleOf, multiply, normalize, parseDecimal, toStep,
} from "../src/domain/decimal";

describe("decimal", () => {
  it("parses decimal text exactly and refuses anything else", () => {
    expect(parseDecimal("12.345")).toEqual({ digits: 12345n, scale: 3 });
    expect(parseDecimal(".5")).toEqual({ digits: 5n, scale: 1 });
    expect(parseDecimal("-2.10")).toEqual({ digits: -210n, scale: 2 });
    for (const bad of ["", ".", "1e3", "1,5", "abc", "1.2.3", "--1"]) expect(parseDecimal(bad)).toBeNull();
  });

  it("is exact where floats are not", () => {
    // 0.1 + 0.2 style trouble: 0.3 is a multiple of 0.1, 1.1 * 3 is 3.3.
    expect(isMultipleOf(dec("0.3"), dec("0.1"))).toBe(true);
    expect(format(multiply(dec("1.1"), dec("3")))).toBe("3.3");
    expect(isMultipleOf(dec("60000.015"), dec("0.01"))).toBe(false);
    expect(compare(dec("9.99999999999999999"), dec("10"))).toBe(-1);
  });

  it("normalizes level keys", () => {
    expect(normalize("60000.10")).toBe("60000.1");
    expect(normalize("0.000")).toBe("0");
    expect(normalize("007")).toBe("7");
  });
});

describe("steps and rounding", () => {
  it("rounds to a step down or up, exactly", () => {
    expect(format(toStep(dec("100.07"), dec("0.1"), "floor"))).toBe("100");
    expect(format(toStep(dec("100.07"), dec("0.1"), "ceil"))).toBe("100.1");
    expect(format(toStep(dec("100.1"), dec("0.1"), "ceil"))).toBe("100.1");
    expect(format(toStep(dec("-0.05"), dec("0.1"), "floor"))).toBe("-0.1");
    expect(format(toStep(dec("1234"), dec("100"), "floor"))).toBe("1200");
  });

  it("shows a fixed number of places, half away from zero", () => {
    expect(fixed(dec("1.005"), 2)).toBe("1.01");
    expect(fixed(dec("-1.005"), 2)).toBe("-1.01");
    expect(fixed(dec("1.5"), 2)).toBe("1.50");
    expect(fixed(dec("2"), 2)).toBe("2.00");
    expect(decimalsOf("0.010")).toBe(2);
  });
});
