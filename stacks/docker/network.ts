/**
 * The environment's one dedicated network. Every service joins it and finds the others by
 * their topology name (a network alias), so Postgres, Redis and RabbitMQ need no published port.
 *
 * - bridge: a user-defined bridge on one host (Docker's embedded DNS resolves aliases; the
 *   default bridge network would not).
 * - overlay: an attachable Swarm overlay spanning the nodes; `encrypted` turns on IPsec between
 *   nodes (Docker reads the presence of the `encrypted` driver option, so its value is cosmetic).
 */
import { Network } from "@cdktf/provider-docker/lib/network/index.js";
import { Construct } from "constructs";
import { labelList } from "../render-helpers.js";

export interface JobNetworkProps {
  readonly name: string;
  readonly driver: "bridge" | "overlay";
  /** @default false */
  readonly encrypted?: boolean;
  /** @default chosen by Docker's IPAM */
  readonly subnet?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export class JobNetwork extends Construct {
  readonly name: string;
  readonly driver: "bridge" | "overlay";
  readonly encrypted: boolean;
  readonly resource: Network;

  constructor(scope: Construct, id: string, props: JobNetworkProps) {
    super(scope, id);
    this.name = props.name;
    this.driver = props.driver;
    this.encrypted = props.encrypted ?? false;
    if (this.encrypted && this.driver !== "overlay") {
      throw new Error(`network ${props.name}: 'encrypted' (true) needs driver 'overlay' (got '${props.driver}')`);
    }
    const overlay = this.driver === "overlay";
    this.resource = new Network(this, "network", {
      name: this.name,
      driver: this.driver,
      // Attachable lets `docker run --network …` join a Swarm overlay for one-off debugging.
      ...(overlay ? { attachable: true } : {}),
      ...(overlay && this.encrypted ? { options: { encrypted: "true" } } : {}),
      ...(props.subnet ? { ipamConfig: [{ subnet: props.subnet }] } : {}),
      labels: labelList(props.labels),
    });
  }
}
