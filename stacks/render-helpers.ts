/**
 * Helpers both renderers (stacks/docker and stacks/kubernetes) share, so the two targets cannot
 * drift apart on them: byte units, provider label lists, development passwords, and the lookup
 * of the resources a service waits for.
 *
 * No provider imports here: provider classes stay inside the two target folders
 * (test/typecheck.test.ts). Where a helper needs one, the target passes the class in.
 */
import type { Construct } from "constructs";
import type { SecretName, ServiceName, ServiceSpec } from "./topology.js";


/** `{ k: v }` → `[{ label: k, value: v }]`, the label list of Docker's networks, volumes, containers and services. */
export function labelList(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/**
 * Generated development secrets: 32 alphanumerics (~190 bits), stored only in the Terraform
 * state. Alphanumerics only, so a password needs no encoding in a URL or a shell.
 */
export const DEVELOPMENT_PASSWORD = { length: 32, special: false } as const;

/** The two `@cdktf/provider-random` classes a target passes to `developmentSecrets`. */
export interface RandomClasses {
  readonly RandomProvider: new (scope: Construct, id: string) => unknown;
  readonly Password: new (scope: Construct, id: string, config: typeof DEVELOPMENT_PASSWORD) => { readonly result: string };
}

/**
 * The `generate` argument of `declareSecrets` (stacks/secrets.ts) for a dev tier that lets the
 * target generate its secrets: the random provider and one password per secret, under `scope`.
 */
export function developmentSecrets(scope: Construct, random: RandomClasses): (name: SecretName) => string {
  new random.RandomProvider(scope, "random");
  return (name) => new random.Password(scope, name, DEVELOPMENT_PASSWORD).result;
}

/**
 * What `spec` waits for, from the resources already created for the services before it. The
 * topology lists services in dependency order (`dependencyOrder` in stacks/topology.ts), so a
 * dependency not created yet means a hand-built topology skipped that order.
 */
export function dependenciesOf<T>(spec: ServiceSpec, created: ReadonlyMap<ServiceName, T>): T[] {
  return spec.dependsOn.map((name) => {
    const found = created.get(name);
    if (found === undefined) throw new Error(`${spec.name} depends on ${name}, which is not rendered before it; list services in dependencyOrder`);
    return found;
  });
}
