/**
 * RabbitMQ (official image): the derived rabbitmq.conf (absolute memory watermark, disk limit,
 * consumer timeout) at its conf.d path — uploaded into the container, or as a Swarm config.
 * Swarm configs are immutable, so the config's name carries a hash of its content and a new one
 * is created before the old one is removed. The host name is fixed to `rabbitmq` so the node
 * name `rabbit@rabbitmq` (and with it the data directory) survives a replaced container.
 */
import { createHash } from "node:crypto";
import { Config } from "@cdktf/provider-docker/lib/config/index.js";
import { DockerWorkload, type Customization, type WorkloadProps } from "./workload.js";

export class RabbitmqService extends DockerWorkload {
  protected override customize(props: WorkloadProps): Customization {
    const { spec, context } = props;
    const hostname = spec.name;
    if (context.mode === "containers") {
      return { container: { hostname, upload: spec.configFiles.map((f) => ({ file: f.mountPath, content: f.content, permissions: "0444" })) } };
    }
    const [uid, gid] = spec.security.user.split(":");
    const configs = spec.configFiles.map((f) => {
      const hash = createHash("sha256").update(f.content).digest("hex").slice(0, 12);
      const config = new Config(this, f.name, {
        name: `${context.prefix}-${f.name}-${hash}`,
        data: Buffer.from(f.content, "utf8").toString("base64"),
        lifecycle: { createBeforeDestroy: true },
      });
      return { configId: config.id, configName: config.name, fileName: f.mountPath, fileMode: 0o444, ...(uid ? { fileUid: uid } : {}), ...(gid ? { fileGid: gid } : {}) };
    });
    return { swarmContainer: { hostname }, swarmConfigs: configs };
  }
}
