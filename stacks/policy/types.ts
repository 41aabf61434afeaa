/**
 * Shared types of the policy checks: a synthesized stack as read from `cdk.tf.json`, a rule, and
 * the violation it reports. Rules see only the Terraform JSON, never the TypeScript constructs,
 * so they check exactly what `terraform apply` would receive.
 */

/** Terraform JSON of one stack (the parts the rules read; everything else passes through). */
export interface TerraformJson {
  readonly provider?: Record<string, unknown>;
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly variable?: Record<string, Record<string, unknown>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

export interface SynthesizedStack {
  /** Stack name, which is the environment name. */
  readonly name: string;
  /** Where it was read from, for messages. */
  readonly file: string;
  readonly json: TerraformJson;
}

export interface Violation {
  readonly stack: string;
  /** Terraform address, `<type>.<name>`; `*` for the stack as a whole. */
  readonly resource: string;
  readonly rule: string;
  readonly message: string;
  readonly fix: string;
}

export interface Rule {
  /** Stable kebab-case id, printed with every violation and used as the JUnit testcase name. */
  readonly id: string;
  /** One line: why the rule exists. */
  readonly rationale: string;
  /** Default fix hint; a violation may carry a more precise one. */
  readonly fix: string;
  /** Checks one stack on its own. */
  check(stack: SynthesizedStack): Violation[];
  /** Checks what only shows across stacks synthesized together (e.g. a shared Docker host). */
  checkAcross?(stacks: readonly SynthesizedStack[]): Violation[];
}

/** `stack/resource: rule-id — message (fix: …)` */
export function formatViolation(v: Violation): string {
  return `${v.stack}/${v.resource}: ${v.rule} — ${v.message} (fix: ${v.fix})`;
}
