/** Errors in how the CLI was called (exit code 2), as opposed to invalid configuration (1). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

export const USAGE = `jobstack — deployment kit for the jobstack job-processing system

Usage:
  jobstack presets [--json]                          list presets and what they are for
  jobstack explain --env <name> [--preset <p>] [--json]
                                                     the resolved configuration, every derived value and its source
  jobstack validate [--env <name>] [--preset <p>] [--format text|json|junit] [--out <dir>] [--matrix]
                                                     policy checks over synthesized Terraform JSON; synthesizes
                                                     what JOBSTACK_ENVS/JOBSTACK_PRESET select unless --env/--preset
                                                     are given, or reads an existing cdktf.out with --out
  jobstack graph --env <name> [--preset <p>] [--format mermaid|dot] [--out <dir>]
                                                     the deployed topology
  jobstack local [--env dev] [--workers N] [--port P]
                                                     run the API and workers as local processes

Exit codes: 0 ok, 1 invalid configuration or policy violation, 2 usage error.`;
