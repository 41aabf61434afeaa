import { describe, expect, it } from "vitest";
import { HandlerSlots } from "../../../services/worker/slots.js";

describe("HandlerSlots", () => {
  it("lets at most `limit` holders run, and hands freed slots to the waiters in arrival order", async () => {
    const slots = new HandlerSlots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((free) => (order.push("c"), free));
    const d = slots.acquire().then((free) => (order.push("d"), free));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    a!();
    a!(); // a second call gives back nothing more
    const freeC = await c;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["c"]);
    b!();
    const freeD = await d;
    expect(order).toEqual(["c", "d"]);
    freeC!();
    freeD!();
    // Every slot is back: two can be taken at once again, the third waits.
    await slots.acquire();
    await slots.acquire();
    let third = false;
    void slots.acquire().then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
  });

  it("turns every waiter away with null on cancelWaiting", async () => {
    const slots = new HandlerSlots(1);
    const held = await slots.acquire();
    const waiting = [slots.acquire(), slots.acquire()];
    slots.cancelWaiting();
    expect(await Promise.all(waiting)).toEqual([null, null]);
    held!();
    expect(await slots.acquire()).toBeTypeOf("function");
  });
});
