/**
 * Node.js runtime settings for the api and the Node worker.
 *
 * `--max-old-space-size=<MiB>` caps V8's old generation. Without it the limit is V8's heuristic,
 * which depends on the Node version and (in older ones) on the host's memory rather than the
 * container's limit, so a process can plan for more than it may use and meet the OOM killer
 * instead of a clean heap error. Setting it explicitly makes the heap follow the preset.
 * Formula: floor(containerMemoryMiB × heapPercent / 100). The Node docs' own example
 * leaves a quarter free ("on a machine with 2 GiB of memory, consider setting this to 1536"),
 * https://nodejs.org/api/cli.html#--max-old-space-sizesize-in-mib.
 *
 * What lives outside the old space: the young generation (two semi-spaces, 16 MiB each by
 * default on 64-bit), code space, Buffers and other external memory, libuv and the binary
 * itself — hence NODE_MIN_NON_HEAP_MIB.
 *
 * `UV_THREADPOOL_SIZE`: libuv's pool for fs, dns.lookup, crypto.pbkdf2/scrypt and zlib; default
 * 4, maximum 1024 (https://docs.libuv.org/en/v1.x/threadpool.html). It must be set in the
 * environment before the process starts, hence an env var and not a flag.
 */
import { fmtNumber, largestPercentFitting, smallestFitting, type TuningIssue } from "./issues.js";

export interface NodeInput {
  readonly containerMemoryMiB: number;
  /** Old-space share of the container's memory, in (0, 100). */
  readonly heapPercent: number;
  /** 1..1024. */
  readonly uvThreadpoolSize: number;
}

export interface NodeTuning {
  readonly maxOldSpaceSizeMiB: number;
  /** e.g. "--max-old-space-size=358" */
  readonly nodeOptions: string;
  readonly env: { readonly NODE_OPTIONS: string; readonly UV_THREADPOOL_SIZE: string };
}

/** Young generation (2 × 16 MiB semi-spaces), code space, Buffers, libuv: see the header. */
export const NODE_MIN_NON_HEAP_MIB = 64;
/** Below this V8 spends its time collecting; a Fastify app's baseline heap is ~30–50 MiB. */
export const NODE_MIN_OLD_SPACE_MIB = 64;
/** libuv's hard limit: `MAX_THREADPOOL_SIZE` in libuv src/threadpool.c. */
export const UV_THREADPOOL_MAX = 1024;

const oldSpace = (i: NodeInput): number => Math.floor((i.containerMemoryMiB * i.heapPercent) / 100);

export function nodeIssues(i: NodeInput, pathPrefix: "api" | "worker"): TuningIssue[] {
  const P = pathPrefix;
  const issues: TuningIssue[] = [];
  if (!(i.containerMemoryMiB > 0)) {
    issues.push({ path: `${P}.memoryMiB`, message: `${P}.memoryMiB (${i.containerMemoryMiB}) must be a positive number of MiB` });
  }
  if (!(i.heapPercent > 0 && i.heapPercent < 100)) {
    issues.push({ path: `${P}.heapPercent`, message: `${P}.heapPercent (${fmtNumber(i.heapPercent)}) must be above 0 and below 100` });
  }
  if (!(Number.isInteger(i.uvThreadpoolSize) && i.uvThreadpoolSize >= 1 && i.uvThreadpoolSize <= UV_THREADPOOL_MAX)) {
    issues.push({
      path: `${P}.uvThreadpoolSize`,
      message: `${P}.uvThreadpoolSize (${i.uvThreadpoolSize}) must be a whole number from 1 to ${UV_THREADPOOL_MAX} (libuv's limit)`,
    });
  }
  if (i.containerMemoryMiB > 0 && i.heapPercent > 0 && i.heapPercent < 100) {
    const heap = oldSpace(i);
    const left = i.containerMemoryMiB - heap;
    if (left < NODE_MIN_NON_HEAP_MIB) {
      const leavesEnough = (mem: number, pct: number): boolean => mem - oldSpace({ ...i, containerMemoryMiB: mem, heapPercent: pct }) >= NODE_MIN_NON_HEAP_MIB;
      const pctThatFits = largestPercentFitting((pct) => leavesEnough(i.containerMemoryMiB, pct));
      const memThatFits = smallestFitting(NODE_MIN_NON_HEAP_MIB / (1 - i.heapPercent / 100), (mem) => leavesEnough(mem, i.heapPercent));
      issues.push({
        path: `${P}.heapPercent`,
        message:
          `${P}.heapPercent (${fmtNumber(i.heapPercent)}%) of ${P}.memoryMiB (${i.containerMemoryMiB}) leaves ${left} MiB outside V8's old space; ` +
          `the young generation, code space and Buffers need at least ${NODE_MIN_NON_HEAP_MIB} MiB: ` +
          (pctThatFits > 0 ? `lower ${P}.heapPercent to ${pctThatFits} or raise ${P}.memoryMiB to ${memThatFits}` : `raise ${P}.memoryMiB to ${memThatFits}`),
      });
    } else if (heap < NODE_MIN_OLD_SPACE_MIB) {
      const memThatFits = smallestFitting((NODE_MIN_OLD_SPACE_MIB * 100) / i.heapPercent, (mem) => oldSpace({ ...i, containerMemoryMiB: mem }) >= NODE_MIN_OLD_SPACE_MIB);
      issues.push({
        path: `${P}.heapPercent`,
        message:
          `${P}.heapPercent (${fmtNumber(i.heapPercent)}%) of ${P}.memoryMiB (${i.containerMemoryMiB}) gives a ${heap} MiB heap; ` +
          `at least ${NODE_MIN_OLD_SPACE_MIB} MiB is needed: raise ${P}.heapPercent or raise ${P}.memoryMiB to ${memThatFits}`,
      });
    }
  }
  return issues;
}

/** Call only on an input with no `nodeIssues`. */
export function nodeTuning(i: NodeInput): NodeTuning {
  const maxOldSpaceSizeMiB = oldSpace(i);
  const nodeOptions = `--max-old-space-size=${maxOldSpaceSizeMiB}`;
  return {
    maxOldSpaceSizeMiB,
    nodeOptions,
    env: { NODE_OPTIONS: nodeOptions, UV_THREADPOOL_SIZE: String(i.uvThreadpoolSize) },
  };
}
