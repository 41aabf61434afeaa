/**
 * The harness's own checks: a leak check built on queueExists must be able to fail, so the helper
 * may answer "no such queue" only when the broker says so.
 */
import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { describe, expect, it } from "vitest";
import { AMQP_URL, queueExists } from "./harness.js";

describe("queueExists", () => {
  it("answers true for a declared queue and false once it is deleted", async () => {
    const name = `harness-${randomUUID()}`;
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(name, { autoDelete: false });
      expect(await queueExists(name)).toBe(true);
      await ch.deleteQueue(name);
      expect(await queueExists(name)).toBe(false);
    } finally {
      await conn.close();
    }
  });

  it("rethrows a channel error other than 404 instead of answering false", async () => {
    // Another connection's exclusive queue: the passive declare fails with 405 RESOURCE_LOCKED.
    const name = `harness-exclusive-${randomUUID()}`;
    const owner = await amqp.connect(AMQP_URL);
    try {
      const ch = await owner.createChannel();
      await ch.assertQueue(name, { exclusive: true });
      await expect(queueExists(name)).rejects.toMatchObject({ code: 405 });
    } finally {
      await owner.close(); // the exclusive queue goes with its connection
    }
  });
});
