/**
 * The fixture the worker-process tests share: a migrated database of their own, a pool and a
 * repository on it, a queue of their own, and the checks that each test stopped the workers it
 * spawned and that the file leaves no database, queue or process behind.
 *
 * Call once at the top of a test file; the returned object is filled in by `beforeAll`.
 */
import type pg from "pg";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { createPool } from "../../services/core/db.js";
import { JobRepository } from "../../services/core/jobs/repository.js";
import { JobQueue } from "../../services/core/queue.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, killAllWorkers, testQueueName, type TestDatabase } from "../../harness/jobstack.js";

export interface JobSystemFixture {
  readonly queueName: string;
  db: TestDatabase;
  pool: pg.Pool;
  repo: JobRepository;
  queue: JobQueue;
}

export function useJobSystem(options: { dbPoolSize?: number } = {}): JobSystemFixture {
  const fx = { queueName: testQueueName() } as JobSystemFixture;
  beforeAll(async () => {
    fx.db = await createTestDatabase();
    fx.pool = createPool({ databaseUrl: fx.db.url, ...(options.dbPoolSize ? { dbPoolSize: options.dbPoolSize } : {}) });
    fx.repo = new JobRepository(fx.pool);
    fx.queue = new JobQueue({ url: AMQP_URL, queue: fx.queueName });
    await fx.queue.connect();
  });
  afterEach(async () => {
    expect(await killAllWorkers()).toBe(0); // each test stops the workers it started
  });
  afterAll(async () => {
    await killAllWorkers();
    await fx.queue?.close();
    await deleteQueueTopology(fx.queueName);
    await fx.pool?.end();
    await fx.db?.drop();
  });
  return fx;
}
