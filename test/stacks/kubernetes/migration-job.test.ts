import { describe, expect, it } from "vitest";
import { MigrationJob } from "../../../stacks/kubernetes/migration-job.js";
import { service } from "../../../stacks/topology.js";
import { prod, resources, synthConstructs } from "./support.js";

const { topology } = prod();

describe("MigrationJob", () => {
  it("runs the migrate task once, waits for it, and bounds it in time", () => {
    const json = synthConstructs((s) => new MigrationJob(s, "migrate", { namespace: "ns", environment: "prod", spec: service(topology, "migrate"), secretName: "jobstack-secrets" }));
    const [job] = resources(json, "kubernetes_job_v1");
    const body = job!.body;
    expect(body.wait_for_completion).toBe(true);
    expect(body.spec).toMatchObject({ backoff_limit: 3, active_deadline_seconds: 600, completions: 1, parallelism: 1 });
    // See migration-job.ts: a TTL makes Terraform recreate the Job on every later plan.
    expect(body.spec.ttl_seconds_after_finished).toBeUndefined();
    expect(body.timeouts.create).toBe("660s");
    const pod = body.spec.template.spec;
    expect(pod.restart_policy).toBe("Never");
    expect(pod.container[0].args).toEqual(["migrate"]);
    expect(pod.container[0].env.find((e: { name: string }) => e.name === "DATABASE_URL").value_from.secret_key_ref.key).toBe("database-url");
  });

  it("accepts overrides of its defaults", () => {
    const json = synthConstructs((s) =>
      new MigrationJob(s, "migrate", { namespace: "ns", environment: "prod", spec: service(topology, "migrate"), secretName: "s", backoffLimit: 0, activeDeadlineSeconds: 120 }),
    );
    expect(resources(json, "kubernetes_job_v1")[0]!.body.spec).toMatchObject({ backoff_limit: 0, active_deadline_seconds: 120 });
  });
});
