/**
 * One error type for every configuration problem, so that the CLI, the stacks and the tests
 * can all report "file: field: message" the same way and exit with the same code.
 *
 * Following t3-env: validate everything, collect every issue with its path, throw once.
 */
export interface ConfigIssue {
  /** The file at fault (repository-relative where possible). */
  readonly file: string;
  /** Dotted field path inside that file, e.g. `overrides.redis.policy`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the file, when it could be located. */
  readonly line?: number | undefined;
}

/** A problem with one field, found before the field is placed in a file: the caller adds the file and line. */
export type FieldIssue = Pick<ConfigIssue, "path" | "message">;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(formatIssues(issues));
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  return [`invalid configuration (${count}):`, ...issues.map((i) => `  - ${formatIssue(i)}`)].join("\n");
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
