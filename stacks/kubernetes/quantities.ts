/** Kubernetes resource quantities from the preset's plain numbers. */

/** 0.5 cores → "500m"; millicores keep fractional presets exact. */
export const cpuQuantity = (cores: number): string => `${Math.round(cores * 1000)}m`;
export const memoryQuantity = (mib: number): string => `${mib}Mi`;
export const storageQuantity = (gib: number): string => `${gib}Gi`;

/** "999:999" → { uid: "999", gid: "999" }; a bare uid runs with the group of the same number. */
export function parseUser(user: string): { readonly uid: string; readonly gid: string } {
  const [uid, gid] = user.split(":");
  if (!uid || !/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) {
    throw new Error(`security.user "${user}" must be numeric "uid" or "uid:gid" so runAsNonRoot can be verified`);
  }
  if (uid === "0") throw new Error(`security.user "${user}" is root; every pod runs as non-root`);
  return { uid, gid: gid ?? uid };
}

/** "/var/run/postgresql" → "var-run-postgresql", a valid volume name. */
export function volumeNameForPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, "").replace(/[^a-z0-9]+/gi, "-").toLowerCase() || "root";
}
