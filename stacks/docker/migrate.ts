/**
 * The schema migration: our image with command `migrate`, run once per image and awaited.
 *
 * Containers: `attach` makes Terraform wait until the process exits, `must_run = false` and
 * restart "no" keep a finished container from being restarted or re-created on the next plan,
 * and a postcondition on `exit_code` fails the deploy when the migration failed — before api and
 * worker (which depend on it) are touched. A new image replaces the container, so the migration
 * runs again on every release; migrations are idempotent (each applied once, in a transaction).
 *
 * Swarm: a one-replica service with restart condition on-failure (three tries), so it runs until
 * it succeeds once and then stays complete. Swarm cannot make api wait for it to finish; the api
 * answers 503 on /readyz and its queries fail until the schema exists, then recover by themselves.
 */
import { DockerWorkload, type Customization } from "./workload.js";

export class MigrateTask extends DockerWorkload {
  protected override customize(): Customization {
    return {
      container: {
        attach: true,
        mustRun: false,
        restart: "no",
        lifecycle: {
          postcondition: [
            {
              condition: "${self.exit_code == 0}",
              errorMessage: "The migrate container exited with a non-zero code; see `docker logs` of the migrate container.",
            },
          ],
        },
      },
    };
  }
}
