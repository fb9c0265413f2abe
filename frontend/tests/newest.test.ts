import { describe, expect, it } from "vitest";
import { NewestOnly } from "../src/services/newest";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((yes, no) => { resolve = yes; reject = no; });
  return { promise, resolve, reject };
}

describe("NewestOnly", () => {
  it("drops an older answer that arrives after a newer one", async () => {
    const newest = new NewestOnly();
    const seen: string[] = [];
    const older = deferred<string>();
    const newer = deferred<string>();
    newest.track(older.promise, (v) => seen.push(v), () => seen.push("error"));
    newest.track(newer.promise, (v) => seen.push(v), () => seen.push("error"));
    newer.resolve("filled");
    await newer.promise;
    older.resolve("new");
    await older.promise;
    await Promise.resolve();
    expect(seen).toEqual(["filled"]);
  });

  it("drops an older failure too, and delivers the newest's", async () => {
    const newest = new NewestOnly();
    const seen: string[] = [];
    const older = deferred<string>();
    const newer = deferred<string>();
    newest.track(older.promise, (v) => seen.push(v), () => seen.push("older error"));
    newest.track(newer.promise, (v) => seen.push(v), () => seen.push("newer error"));
    older.reject(new Error("gone"));
    await older.promise.catch(() => undefined);
    newer.reject(new Error("gone"));
    await newer.promise.catch(() => undefined);
    await Promise.resolve();
    expect(seen).toEqual(["newer error"]);
  });
});
