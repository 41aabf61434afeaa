/**
 * The HTTP API: our image with command `api`, the only published port, health check on
 * /healthz (liveness; /readyz is the readiness probe, which Docker has no separate slot for —
 * a health check that followed Postgres would restart healthy API processes during a database
 * blip). Created after migrate has finished and the data services are healthy.
 */
import { DockerWorkload } from "./workload.js";

export class ApiService extends DockerWorkload {}
