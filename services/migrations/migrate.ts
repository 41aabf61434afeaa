// Applies the numbered .sql files of this folder in order, each in its own transaction,
// recording them in schema_migrations. Re-running is a no-op; concurrent runs (api start,
// `jobstack local`, `npm run migrate`) serialise on an advisory lock.

import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import pg from "pg";
import { coerceError } from "../core/errors.js";

export const MIGRATIONS_DIR = path.dirname(fileURLToPath(import.meta.url));

// Arbitrary constant shared by every migrator of this schema: pg_advisory_lock(bigint).
const MIGRATION_LOCK_KEY = 7_201_004_311;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly skipped: readonly string[];
}

/** The migration files, sorted by their numeric prefix. Names are `NNN_description.sql`. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f));
  const migrations = await Promise.all(
    files.map(async (name) => {
      const sql = await readFile(path.join(dir, name), "utf8");
      return { version: Number.parseInt(name, 10), name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`two migrations share version ${migrations[i]!.version}: ${migrations[i - 1]!.name}, ${migrations[i]!.name}`);
    }
  }
  return migrations;
}

/** Applies pending migrations to the database behind `target` (a pool or a connection URL). */
export async function migrate(target: pg.Pool | string, dir: string = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await loadMigrations(dir);
  // A pool's checked-out client is also a pg.Client, so remember which kind we hold.
  const owned = typeof target === "string";
  const client = owned ? new pg.Client({ connectionString: target, application_name: "jobstack-migrate" }) : await target.connect();
  if (owned) await client.connect();
  const applied: string[] = [];
  const skipped: string[] = [];
  let failed = false;
  try {
    // select pg_advisory_lock($1::bigint) — wait for any other migrator; released below.
    await client.query("select pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
    try {
      // Bookkeeping table: one row per applied file.
      await client.query(
        `create table if not exists schema_migrations (
           version    integer primary key,
           name       text not null,
           checksum   text not null,
           applied_at timestamptz not null default now()
         )`,
      );
      // select version, name, checksum from schema_migrations → the files already applied.
      const done = await client.query<{ version: number; name: string; checksum: string }>(
        "select version, name, checksum from schema_migrations order by version",
      );
      const byVersion = new Map(done.rows.map((r) => [r.version, r]));
      for (const m of migrations) {
        const prior = byVersion.get(m.version);
        if (prior) {
          // An applied file that changed would leave databases that ran the old text behind.
          if (prior.checksum !== m.checksum) {
            throw new Error(`migration ${m.name} was edited after it was applied (checksum differs); add a new migration instead`);
          }
          skipped.push(m.name);
          continue;
        }
        await client.query("begin");
        try {
          await client.query(m.sql);
          // insert into schema_migrations($1 version, $2 name, $3 checksum)
          await client.query("insert into schema_migrations (version, name, checksum) values ($1::integer, $2::text, $3::text)", [
            m.version,
            m.name,
            m.checksum,
          ]);
          await client.query("commit");
        } catch (err) {
          await client.query("rollback").catch(() => undefined);
          throw new Error(`migration ${m.name} failed: ${coerceError(err).message}`, { cause: err });
        }
        applied.push(m.name);
      }
    } finally {
      await client.query("select pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } catch (err) {
    failed = true;
    throw coerceError(err);
  } finally {
    if (owned) await (client as pg.Client).end().catch(() => undefined);
    else (client as pg.PoolClient).release(failed);
  }
  return { applied, skipped };
}
