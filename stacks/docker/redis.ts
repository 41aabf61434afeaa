/**
 * Redis (official image): the topology's entrypoint starts redis-server through a shell so that
 * `--requirepass` comes from the REDISCLI_AUTH variable (filled from a Terraform secret), never
 * from a literal; the command carries the derived `--maxmemory <bytes> --maxmemory-policy …`.
 * The same variable authenticates `redis-cli ping` in the health check.
 */
import { DockerWorkload } from "./workload.js";

export class RedisService extends DockerWorkload {}
