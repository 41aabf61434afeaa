/**
 * The system's four secrets as Terraform values. By default each is a sensitive variable the
 * operator supplies as `TF_VAR_<name>` (from a secret store in CI); a dev-tier environment may
 * instead let its target generate throwaway values. Either way no secret is a literal in
 * cdk.tf.json. Target renderers fill `SecretValue` templates with `fillSecret`.
 */
import { Fn, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { SECRET_NAMES, type SecretName, type SecretValue } from "./topology.js";

export type SecretTokens = Readonly<Record<SecretName, string>>;

/** `postgres-password` → `postgres_password`, the variable read from `TF_VAR_postgres_password`. */
export const variableName = (name: SecretName): string => name.replace(/-/g, "_");

/**
 * Declares the secrets. `generate` (dev only) returns a token for a generated value; the
 * renderer passes it because only stacks/docker and stacks/kubernetes may use providers.
 */
export function declareSecrets(scope: Construct, generate?: (name: SecretName) => string): SecretTokens {
  const entries = SECRET_NAMES.map((name) => {
    if (generate) return [name, generate(name)] as const;
    const variable = new TerraformVariable(scope, variableName(name), {
      type: "string",
      sensitive: true,
      nullable: false,
      description: `${name} for jobstack; supply it as TF_VAR_${variableName(name)}`,
      validation: [
        {
          condition: `\${length(var.${variableName(name)}) >= 16}`,
          errorMessage: `${variableName(name)} must be at least 16 characters.`,
        },
      ],
    });
    return [name, variable.stringValue] as const;
  });
  return Object.fromEntries(entries) as Record<SecretName, string>;
}

/** Assembles a secret-bearing value; password parts inside URLs are percent-encoded by Terraform. */
export function fillSecret(value: SecretValue, tokens: SecretTokens): string {
  return value.parts.map((part) => (typeof part === "string" ? part : part.encode === "url" ? percentEncode(tokens[part.secret]) : tokens[part.secret])).join("");
}

/**
 * Percent-encodes a password for a URL's userinfo, in Terraform. `urlencode()` is query-string
 * encoding: it writes a space as `+`, which pg, ioredis and amqplib read back as a literal `+`,
 * so a password with a space would never authenticate. Every `+` in urlencode's output stands
 * for a space (a literal `+` comes out as `%2B`), so replacing `+` with `%20` yields RFC 3986
 * percent-encoding: only letters, digits and `-._~` stay as they are
 * (test/stacks/password-encoding.test.ts checks this with the real Terraform and clients).
 */
export function percentEncode(secret: string): string {
  return Fn.replace(Fn.urlencode(secret), "+", "%20");
}
