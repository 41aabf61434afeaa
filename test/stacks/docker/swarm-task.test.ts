/**
 * Swarm's one-shot migrate service: a task that exits inside the update monitor window counts as
 * a failed update, so `monitor` > 0 with `failure_action: pause` would leave the service paused
 * after its first update. The long-running services keep their monitored, rolled-back updates.
 */
import { describe, expect, it } from "vitest";
import { label, resources, synthNamed } from "./helpers.js";

const { json } = synthNamed("staging");
const service = (name: string) => Object.values(resources(json, "docker_service")).find((s) => label(s, "com.jobstack.service") === name)!;

describe("Swarm update settings", () => {
  it("migrate: no monitor window, and a finished task never pauses the service", () => {
    const migrate = service("migrate");
    expect(migrate.task_spec.restart_policy.condition).toBe("on-failure");
    for (const config of [migrate.update_config, migrate.rollback_config]) {
      expect(config.monitor).toBe("0s");
      expect(config.failure_action).toBe("continue");
    }
  });

  it("api and worker: monitored, rolled back on failure", () => {
    for (const name of ["api", "worker"]) {
      const s = service(name);
      expect(s.update_config.failure_action, name).toBe("rollback");
      expect(s.update_config.monitor, name).not.toBe("0s");
    }
  });
});
