/**
 * Runs `fn(i)` for i in [0, count) with at most `inFlight` calls outstanding: the benchmark's
 * client, identical for every system. After the first failure no new call starts, and the
 * returned promise rejects with that failure once the calls already running have settled (so
 * nothing is still enqueueing while the caller tears the system down).
 */
export async function pooled(count: number, inFlight: number, fn: (i: number) => Promise<void>): Promise<void> {
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new Error(`inFlight must be a positive integer, not ${inFlight}`);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (failure === null && next < count) {
      const i = next++;
      try {
        await fn(i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
