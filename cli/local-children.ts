/**
 * Child processes of `jobstack local`: start a service file under tsx, prefix its output
 * lines, signal it, and wait for it to exit.
 *
 * Children run in their own process group (`detached`): Ctrl-C in a terminal signals the whole
 * foreground group, and a worker that saw SIGINT from the terminal *and* the one `jobstack
 * local` forwards would count two signals and skip its graceful drain.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (128 + n when killed by signal n) once the process is gone. */
  readonly exited: Promise<number>;
  readonly hasExited: () => boolean;
  signal(sig: NodeJS.Signals): void;
}

export interface StartOptions {
  readonly name: string;
  /** Absolute path of the TypeScript entry file. */
  readonly entry: string;
  readonly env: Record<string, string>;
  readonly cwd: string;
  /** Receives every output line, already prefixed with the child's name. */
  readonly out: (line: string) => void;
  /** Rewrites each line before it is prefixed (a pretty printer). @default unchanged */
  readonly format?: (line: string) => string;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function startChild(options: StartOptions): Child {
  // `--import tsx` rather than the tsx CLI: one process per service, so a signal reaches the
  // service itself and not a wrapper.
  const proc: ChildProcess = spawn(process.execPath, ["--import", "tsx", options.entry], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (proc.pid === undefined) throw new Error(`could not start ${options.name} (${options.entry})`);
  const pid = proc.pid;
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (line) => options.out(`[${options.name}] ${options.format ? options.format(line) : line}`));
  }
  let done = false;
  const exited = new Promise<number>((resolve) => {
    proc.once("exit", (code, sig) => {
      done = true;
      resolve(code ?? 128 + (sig ? (SIGNAL_NUMBERS[sig] ?? 0) : 0));
    });
  });
  return {
    name: options.name,
    pid,
    exited,
    hasExited: () => done,
    signal(sig) {
      if (done) return;
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone between the check and the kill.
      }
    },
  };
}
