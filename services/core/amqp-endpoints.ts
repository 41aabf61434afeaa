// AMQP_URL may name several RabbitMQ nodes of one cluster, so a client keeps working when the node
// it was connected to dies. Two spellings, both comma-separated:
//
//   amqp://user:pass@rabbit-1:5672,rabbit-2:5672,rabbit-3/vhost?heartbeat=10   hosts share the rest
//   amqp://user:pass@rabbit-1:5672,amqps://user:pass@rabbit-2:5671               full URLs
//
// Each connection attempt takes the next URL in turn (round robin, from a random first one so a
// fleet of workers spreads over the nodes); a connection lost on one node is retried on the next.
// On Kubernetes the stacks use the Service in front of the cluster instead (one URL; the Service
// keeps only ready nodes in rotation): docs/high-availability.md.
//
// A comma cannot occur in a URL's host or port, and our URLs percent-encode it inside user names
// and passwords (Terraform's urlencode), so splitting on commas is unambiguous.

const SCHEME = /^amqps?:\/\//i;
// scheme, optional userinfo (anything up to the last @ before the host list), host list, the rest.
const SHARED_HOSTS = /^(amqps?:\/\/)((?:[^@/?#]*@)?)([^/?#]*)(.*)$/i;

export class AmqpUrlError extends Error {
  override readonly name = "AmqpUrlError";
}

function checkUrl(candidate: string): string {
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    // Never repeat the URL: it may carry a password.
    throw new AmqpUrlError("has an entry that is not a valid URL");
  }
  if (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") throw new AmqpUrlError("must use amqp:// or amqps:// in every entry");
  if (parsed.hostname === "") throw new AmqpUrlError("has an entry without a host");
  return candidate;
}

/** The URLs an AMQP_URL value lists, in order; throws AmqpUrlError (naming no secret) when one is malformed. */
export function parseAmqpUrls(value: string): string[] {
  const text = value.trim();
  if (text === "") throw new AmqpUrlError("is empty");
  const pieces = text.split(",").map((p) => p.trim());
  if (pieces.some((p) => p === "")) throw new AmqpUrlError("has an empty entry between commas");
  if (pieces.some((p) => p.includes("://") && !SCHEME.test(p))) throw new AmqpUrlError("must use amqp:// or amqps:// in every entry");
  if (pieces.length > 1 && pieces.slice(1).every((p) => SCHEME.test(p))) return pieces.map(checkUrl);
  if (pieces.slice(1).some((p) => SCHEME.test(p))) throw new AmqpUrlError("mixes full URLs and bare hosts; use one spelling");
  const m = SHARED_HOSTS.exec(text);
  if (!m) throw new AmqpUrlError("must start with amqp:// or amqps://");
  const [, scheme, userinfo, hostList, rest] = m as unknown as [string, string, string, string, string];
  return hostList.split(",").map((host) => checkUrl(`${scheme}${userinfo}${host.trim()}${rest}`));
}

/** Hands out the URLs of a list in turn. */
export class AmqpEndpoints {
  readonly urls: readonly string[];
  private nextIndex: number;

  constructor(value: string, start: number = Math.floor(Math.random() * 1_000_000)) {
    this.urls = parseAmqpUrls(value);
    this.nextIndex = start % this.urls.length;
  }

  /** The URL for the next connection attempt. */
  next(): string {
    const url = this.urls[this.nextIndex]!;
    this.nextIndex = (this.nextIndex + 1) % this.urls.length;
    return url;
  }
}
