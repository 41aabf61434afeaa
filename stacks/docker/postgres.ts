/**
 * Postgres (official image): the PGTune `-c` flags from the preset as the command, data on its
 * named volume, and a /dev/shm sized for the parallel query workers those flags allow
 * (`shm_size` on a container; a tmpfs mount at /dev/shm on Swarm, which has no shm_size).
 * Health: `pg_isready` against the local TCP socket.
 */
import { MIB } from "../render-helpers.js";
import { DockerWorkload, type Customization, type WorkloadProps } from "./workload.js";

export class PostgresService extends DockerWorkload {
  protected override customize(props: WorkloadProps): Customization {
    const shm = props.spec.shmSizeMiB;
    if (!shm) return {};
    return {
      container: { shmSize: shm },
      swarmMounts: [{ type: "tmpfs", target: "/dev/shm", tmpfsOptions: { sizeBytes: shm * MIB, mode: 0o1777 } }],
    };
  }
}
