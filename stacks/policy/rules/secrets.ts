/**
 * No password or token is a literal in the Terraform JSON. Accepted sources: a sensitive
 * variable (`${var.x}` declared `sensitive = true`, no default), a generated value
 * (`random_password`), or a Kubernetes `secret_key_ref`.
 *
 * Scanned: environment variables whose name says secret (…PASSWORD, …PASS, …TOKEN, …SECRET,
 * …AUTH, …API_KEY), the password inside any `scheme://user:password@host` value, secret-looking
 * command-line flags (`--requirepass`, `--password`), Kubernetes Secret `data`/`string_data`,
 * `docker_secret.data`, registry credentials, the declarations of secret-named variables, and
 * config files (ConfigMaps, Docker configs), which must hold no secret at all — they are stored
 * unencrypted.
 */
import { blocks, roleName, hasExpression, isObject, isSensitiveVariable, isTrue, k8s, resources, str, workloads } from "../model.js";
import type { Rule, SynthesizedStack, Violation } from "../types.js";
import { violation } from "../violation.js";

export const SECRET_NAME = /(^|_)(PASS|PASSWORD|PASSWD|TOKEN|SECRET|AUTH|API_?KEY|PRIVATE_KEY|CREDENTIALS?)(_|$)/i;
const SECRET_FLAG = /^--?(requirepass|masterauth|password|pass|token|api-token)$/i;
const SHELL_REF = /^\$(\{?[A-Za-z_][A-Za-z0-9_]*\}?|\([A-Za-z_][A-Za-z0-9_]*\))$/;

/** Why a secret-bearing value is not acceptable, or undefined when it is. */
export function secretProblem(stack: SynthesizedStack, value: string): string | undefined {
  if (!hasExpression(value)) return "is a literal";
  for (const m of value.matchAll(/\bvar\.([A-Za-z0-9_-]+)/g)) {
    const name = m[1]!;
    if (!isSensitiveVariable(stack, name)) return `comes from var.${name}, which is not declared sensitive`;
  }
  return undefined;
}

/** Secret-looking keys set in a config file (`default_pass = …`, `requirepass …`, `password: …`). */
export function secretKeysIn(content: string): string[] {
  return content
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith(";"))
    .map((line) => /^([A-Za-z0-9_.-]+)\s*(?:=|:|\s)\s*\S/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined && /(^|[._-])(pass|password|passwd|token|secret|requirepass|masterauth)$/i.test(key));
}

/** Docker config data is base64; a value that is not (an expression) is scanned as it is. */
function decodeBase64(data: string): string {
  return /^[A-Za-z0-9+/]+=*$/.test(data) ? Buffer.from(data, "base64").toString("utf8") : data;
}

/** The password part of `scheme://user:password@host…`, when there is one. */
export function urlPassword(value: string): string | undefined {
  const scheme = value.indexOf("://");
  if (scheme < 0) return undefined;
  const rest = value.slice(scheme + 3);
  const at = rest.lastIndexOf("@");
  if (at < 0) return undefined;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  return colon < 0 ? undefined : userinfo.slice(colon + 1);
}

export const noLiteralSecrets: Rule = {
  id: "no-literal-secrets",
  rationale: "A literal password ends up in the repository, the synth output, CI logs and every copy of the state.",
  fix: "take it from a sensitive variable (TF_VAR_…), a random_password, or a Kubernetes secret_key_ref",
  check(stack) {
    const out: Violation[] = [];
    for (const w of workloads(stack)) {
      for (const e of w.env) {
        if (e.value === undefined || e.name.endsWith("_FILE")) continue;
        if (SECRET_NAME.test(e.name)) {
          const problem = secretProblem(stack, urlPassword(e.value) ?? e.value);
          if (problem) out.push(violation(this, stack.name, w.where, `${roleName(w)}: env ${e.name} ${problem}`));
          continue;
        }
        const password = urlPassword(e.value);
        if (password !== undefined) {
          const problem = secretProblem(stack, password);
          if (problem) out.push(violation(this, stack.name, w.where, `${roleName(w)}: the password in env ${e.name} ${problem}`));
        }
      }
      const tokens = w.argv.flatMap((a) => a.split(/\s+/)).map((t) => t.replace(/^["']|["']$/g, ""));
      tokens.forEach((t, i) => {
        const next = tokens[i + 1];
        if (SECRET_FLAG.test(t) && next !== undefined && !SHELL_REF.test(next)) {
          const problem = secretProblem(stack, next);
          if (problem) out.push(violation(this, stack.name, w.where, `${roleName(w)}: argument ${t} ${problem}`));
        }
      });
    }
    for (const s of resources(stack, ...k8s("secret"))) {
      for (const field of ["data", "string_data", "binary_data"]) {
        const data = s.body[field];
        if (!isObject(data)) continue;
        for (const [key, v] of Object.entries(data)) {
          const value = str(v);
          const problem = value === undefined ? undefined : secretProblem(stack, urlPassword(value) ?? value);
          if (problem) out.push(violation(this, stack.name, s.address, `${field}.${key} ${problem}`));
        }
      }
    }
    for (const s of resources(stack, "docker_secret")) {
      const problem = str(s.body.data) === undefined ? undefined : secretProblem(stack, str(s.body.data)!);
      if (problem) out.push(violation(this, stack.name, s.address, `data ${problem}`));
    }
    for (const [alias, config] of Object.entries(stack.json.provider ?? {}).filter(([k]) => k === "docker")) {
      for (const p of blocks(config)) {
        for (const auth of blocks(p.registry_auth)) {
          const password = str(auth.password);
          const problem = password === undefined ? undefined : secretProblem(stack, password);
          if (problem) out.push(violation(this, stack.name, `provider.${alias}`, `registry_auth password ${problem}`));
        }
      }
    }
    for (const c of resources(stack, ...k8s("config_map"))) {
      for (const [file, content] of Object.entries(isObject(c.body.data) ? c.body.data : {})) {
        for (const key of secretKeysIn(str(content) ?? "")) {
          out.push(violation(this, stack.name, c.address, `${file} sets ${key} in a ConfigMap, which is stored unencrypted`, "move it to the Secret and pass it as an environment variable (secret_key_ref)"));
        }
      }
    }
    for (const c of resources(stack, "docker_config")) {
      for (const key of secretKeysIn(decodeBase64(str(c.body.data) ?? ""))) {
        out.push(violation(this, stack.name, c.address, `sets ${key} in a Docker config, which is stored unencrypted`, "pass it as an environment variable from a sensitive variable"));
      }
    }
    for (const [name, v] of Object.entries(stack.json.variable ?? {})) {
      if (!SECRET_NAME.test(name)) continue;
      if (!isTrue(v.sensitive)) out.push(violation(this, stack.name, `var.${name}`, "looks like a secret but is not declared sensitive", "declare it with `sensitive: true`"));
      if (v.default !== undefined && v.default !== null) out.push(violation(this, stack.name, `var.${name}`, "has a default value, which is a literal secret", "remove the default; supply it as TF_VAR_" + name));
    }
    return out;
  },
};
