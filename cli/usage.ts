/** Errors in how the CLI was called (exit code 2), as opposed to invalid configuration (1). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * A command that was called correctly but could not do its work (a missing synth output, an
 * unreachable server): exit 1 with this message alone, no usage text and no stack trace.
 */
export class CommandError extends Error {
  override readonly name = "CommandError";
}

export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

export const USAGE = `jobstack — deployment kit for the jobstack job-processing system

Usage:
  jobstack presets [--json]                          list presets and what they are for
  jobstack explain --env <name> [--preset <p>] [--json] [--wide]
                                                     the resolved configuration, every derived value and its source
                                                     (the table fits 100 columns; --wide keeps each row on one line)
  jobstack validate [--env <name>] [--preset <p>] [--format text|json|junit] [--out <dir>] [--matrix]
                                                     policy checks over synthesized Terraform JSON; synthesizes
                                                     what JOBSTACK_ENVS/JOBSTACK_PRESET select unless --env/--preset
                                                     are given, or reads an existing cdktf.out with --out
  jobstack graph --env <name> [--preset <p>] [--format mermaid|dot] [--out <dir>]
                                                     the deployed topology
  jobstack local [--env dev] [--workers N] [--port P] [--log-format pretty|json]
                                                     run the API and workers as local processes
  jobstack --version

Every command reads the environment files of JOBSTACK_ENVIRONMENTS_DIR (default stacks/environments)
and, unless --preset is given, JOBSTACK_PRESET.

Exit codes: 0 ok, 1 invalid configuration, policy violation or a failed command, 2 usage error.`;
