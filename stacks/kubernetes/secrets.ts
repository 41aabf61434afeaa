/**
 * ONE Secret holding every secret-bearing value of the topology (passwords, connection URLs,
 * the API token), filled from sensitive Terraform variables — or, for a dev-tier environment
 * with `secrets.generateDevelopmentSecrets`, from random passwords kept in state. Pods reference
 * its keys with `secret_key_ref`; no value is ever written into a pod spec.
 *
 * Changing a secret does not restart pods (env is read at start): after rotating, run
 * `kubectl -n <namespace> rollout restart deploy,statefulset`.
 */
import { Password } from "@cdktf/provider-random/lib/password/index.js";
import { RandomProvider } from "@cdktf/provider-random/lib/provider/index.js";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1/index.js";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { developmentSecrets } from "../render-helpers.js";
import { declareSecrets, fillSecret, type SecretTokens } from "../secrets.js";
import type { SecretValue, Topology } from "../topology.js";
import { systemLabels } from "./labels.js";

export const SECRET_NAME = "jobstack-secrets";

export interface SystemSecretProps {
  readonly namespace: string;
  readonly topology: Topology;
  /** Generate throwaway passwords instead of requiring TF_VAR_*. Dev tier only. @default false */
  readonly generate?: boolean;
}

/** Every SecretValue in the topology by key; one key must always mean one value. */
export function secretValues(topology: Topology): Map<string, SecretValue> {
  const byKey = new Map<string, SecretValue>();
  for (const service of topology.services) {
    for (const value of Object.values(service.secretEnv)) {
      const seen = byKey.get(value.key);
      if (seen && JSON.stringify(seen.parts) !== JSON.stringify(value.parts)) {
        throw new Error(`secret key ${value.key} is defined twice with different contents (${service.name})`);
      }
      byKey.set(value.key, value);
    }
  }
  return byKey;
}

export class SystemSecret extends Construct {
  readonly secret: SecretV1;
  /** Token resolving to the Secret's name (depends on the Secret). */
  readonly secretName: string;
  readonly keys: readonly string[];
  /** The secrets as Terraform values (variables or generated passwords), for the stack's outputs. */
  readonly tokens: SecretTokens;

  constructor(scope: Construct, id: string, props: SystemSecretProps) {
    super(scope, id);
    const generate = props.generate ? developmentSecrets(this, { RandomProvider, Password }) : undefined;
    // Variables live at the stack's top level so their names stay `postgres_password` & co.
    const tokens = declareSecrets(TerraformStack.of(this), generate);
    this.tokens = tokens;
    const values = secretValues(props.topology);
    this.keys = [...values.keys()].sort();
    this.secret = new SecretV1(this, "secret", {
      metadata: { name: SECRET_NAME, namespace: props.namespace, labels: systemLabels(props.topology.environment) },
      type: "Opaque",
      data: Object.fromEntries(this.keys.map((key) => [key, fillSecret(values.get(key)!, tokens)])),
    });
    this.secretName = this.secret.metadata.name;
  }
}
