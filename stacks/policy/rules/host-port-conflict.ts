/**
 * Two things cannot listen on one host port. Flags two services of one stack that publish the
 * same host port, and — across the stacks synthesized together — two environments that publish
 * the same host port on the same Docker host (the `docker` provider's `host`; Docker's default
 * socket when it is not set). Ports bound to different specific addresses, different protocols
 * or random host ports do not conflict.
 */
import { dockerHost, workloads, type PublishedPort, type Workload } from "../model.js";
import type { Rule, SynthesizedStack, Violation } from "../types.js";
import { violation } from "../violation.js";

interface Binding {
  readonly stack: string;
  readonly where: string;
  readonly port: PublishedPort & { readonly hostPort: number };
}

function bindings(stack: SynthesizedStack): Binding[] {
  return workloads(stack)
    .filter((w: Workload) => w.target === "docker")
    .flatMap((w) =>
      w.published.flatMap((p) => (p.hostPort === undefined ? [] : [{ stack: stack.name, where: w.where, port: { ...p, hostPort: p.hostPort } }])),
    );
}

const overlap = (a: Binding, b: Binding): boolean =>
  a.port.hostPort === b.port.hostPort && a.port.protocol === b.port.protocol && (a.port.ip === undefined || b.port.ip === undefined || a.port.ip === b.port.ip);

const label = (p: Binding["port"]): string => `${p.ip ? `${p.ip}:` : ""}${p.hostPort}/${p.protocol}`;

export const hostPortConflict: Rule = {
  id: "host-port-conflict",
  rationale: "Two services publishing one host port on one Docker host cannot both start; the second deploy fails halfway.",
  fix: "give one of them another host port (docker.apiPort in the environment file) or deploy it to another Docker host",
  check(stack) {
    const all = bindings(stack);
    const out: Violation[] = [];
    all.forEach((b, i) => {
      const earlier = all.slice(0, i).find((a) => a.where !== b.where && overlap(a, b));
      if (earlier) out.push(violation(this, stack.name, b.where, `host port ${label(b.port)} is also published by ${earlier.where}`));
    });
    return out;
  },
  checkAcross(stacks) {
    const out: Violation[] = [];
    const byHost = new Map<string, SynthesizedStack[]>();
    for (const s of stacks) {
      const host = dockerHost(s);
      if (host) byHost.set(host, [...(byHost.get(host) ?? []), s]);
    }
    for (const [host, group] of byHost) {
      const perStack = group.map((s) => bindings(s));
      perStack.forEach((mine, i) => {
        for (const b of mine) {
          for (const [j, theirs] of perStack.entries()) {
            if (j === i) continue;
            const other = theirs.find((a) => overlap(a, b));
            if (other) out.push(violation(this, b.stack, b.where, `host port ${label(b.port)} on ${host} is also published by ${other.stack}/${other.where}`));
          }
        }
      });
    }
    return out;
  },
};
