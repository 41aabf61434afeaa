/**
 * What every stack prints after `cdktf deploy <env>`, like a Helm chart's NOTES: where the api
 * answers and how to get each token. The names are the same on both targets:
 *
 *   api_url                   e.g. http://localhost:8080, https://jobs.example.com
 *   api_token                 sensitive; only when the stack generated it (dev tier)
 *   api_token_variable        "TF_VAR_api_token"; only when the operator supplies it
 *   operator_token            sensitive; only when generated
 *   operator_token_variable   "TF_VAR_operator_token"; only when supplied
 *   notes                     the next commands, with this stack's names filled in
 *
 * Terraform hides sensitive outputs in `cdktf output <env>`; one is read by name:
 * `terraform -chdir=cdktf.out/stacks/<env> output -raw api_token`.
 */
import { TerraformOutput, type TerraformStack } from "cdktf";
import { type SecretTokens, variableName } from "./secrets.js";
import type { SecretName } from "./topology.js";

/** The secrets a person needs after deploy, to call the api (read/submit) and to operate it. */
export const ACCESS_TOKENS = ["api-token", "operator-token"] as const satisfies readonly SecretName[];

export interface AccessOutputsProps {
  /** Where a client outside the system reaches the api. */
  readonly apiUrl: string;
  readonly secrets: SecretTokens;
  /** True when the stack generated its secrets (random_password in state); false when supplied as TF_VAR_*. */
  readonly generated: boolean;
  /** Extra lines for `notes`, e.g. the port-forward a cluster without an Ingress needs. */
  readonly extraNotes?: readonly string[];
}

/** `terraform -chdir=… output -raw <name>`: reads one output, sensitive or not, from the stack's state. */
export const readOutputCommand = (stackName: string, output: string): string =>
  `terraform -chdir=cdktf.out/stacks/${stackName} output -raw ${output}`;

export function declareAccessOutputs(stack: TerraformStack, props: AccessOutputsProps): void {
  const stackName = stack.node.id;
  new TerraformOutput(stack, "api_url", { value: props.apiUrl, description: "Where the jobstack API answers (GET /healthz; the dashboard at /ui)." });
  const howToGet: Record<string, string> = {};
  for (const name of ACCESS_TOKENS) {
    const output = variableName(name);
    if (props.generated) {
      new TerraformOutput(stack, output, {
        value: props.secrets[name],
        sensitive: true,
        description: `The generated ${name}; read it with: ${readOutputCommand(stackName, output)}`,
      });
      howToGet[name] = `$(${readOutputCommand(stackName, output)})`;
    } else {
      new TerraformOutput(stack, `${output}_variable`, {
        value: `TF_VAR_${output}`,
        description: `The ${name} is the value you supplied in this environment variable (from your secret store).`,
      });
      howToGet[name] = `$TF_VAR_${output}`;
    }
  }
  const notes = [
    `jobstack ${stackName} is deployed.`,
    ...(props.extraNotes ?? []),
    `  export U=${props.apiUrl} T="${howToGet["api-token"]}" OT="${howToGet["operator-token"]}"`,
    `  curl -s $U/readyz`,
    `  curl -s -H "authorization: Bearer $T" $U/jobs/stats`,
    `Dashboard: $U/ui (enter the operator token to retry and cancel).`,
  ].join("\n");
  new TerraformOutput(stack, "notes", { value: notes, description: "What to run next." });
}
