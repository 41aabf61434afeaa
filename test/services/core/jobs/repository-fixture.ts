// A fresh test database with a JobRepository on it, for the tests of one file or describe
// block: made before its first test, dropped after its last. The fields are set in beforeAll,
// so read them inside tests (`fx.repo`), never at module load.
import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { createPool } from "../../../../services/core/db.js";
import { JobRepository } from "../../../../services/core/jobs/repository.js";
import { createTestDatabase, type TestDatabase } from "../../../../harness/jobstack.js";

export interface RepositoryFixture {
  readonly db: TestDatabase;
  readonly pool: pg.Pool;
  readonly repo: JobRepository;
}

export function repositoryFixture({ poolSize = 2 }: { poolSize?: number } = {}): RepositoryFixture {
  const fx = {} as { db: TestDatabase; pool: pg.Pool; repo: JobRepository };
  beforeAll(async () => {
    fx.db = await createTestDatabase();
    fx.pool = createPool({ databaseUrl: fx.db.url, dbPoolSize: poolSize });
    fx.repo = new JobRepository(fx.pool);
  });
  afterAll(async () => {
    await fx.pool?.end();
    await fx.db?.drop();
  });
  return fx;
}
