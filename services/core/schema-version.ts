/**
 * The schema version this build needs: the highest numbered file in services/migrations.
 * Readiness compares it with `max(version)` of `schema_migrations`, so a pod never reports ready
 * on a database that was never migrated or is behind this build (docs/health-probes.md).
 * A database ahead of the build (a newer release migrated it first) is fine: migrations only add.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "migrations");

/** Highest `NNN_*.sql` number in the migrations folder (read once, at first use). */
export function requiredSchemaVersion(dir: string = MIGRATIONS_DIR): number {
  const versions = readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .map((f) => Number.parseInt(f, 10));
  if (versions.length === 0) throw new Error(`no migrations found in ${dir}`);
  return Math.max(...versions);
}

/** Rejects, saying why, unless the database's schema is at `required` or newer. */
export async function checkSchemaVersion(pool: pg.Pool, required: number): Promise<void> {
  let current: number;
  try {
    // select coalesce(max(version), 0) from schema_migrations → the newest applied migration.
    const { rows } = await pool.query<{ v: number }>("select coalesce(max(version), 0)::integer as v from schema_migrations");
    current = rows[0]?.v ?? 0;
  } catch (err) {
    if ((err as { code?: unknown }).code === "42P01") {
      throw new Error(`database not migrated: schema_migrations does not exist (this build needs schema version ${required}; run the migrations)`);
    }
    throw err;
  }
  if (current < required) {
    throw new Error(`database schema is at version ${current}, this build needs ${required}; run the migrations`);
  }
}
