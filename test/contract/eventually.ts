/**
 * Bounded polling for tests on real time (real processes, sockets): no fixed sleeps, only a
 * deadline. Tests on a FakeClock advance the clock instead.
 */

/** How often `eventually` looks again. Short: what it waits for is usually a round trip away. */
const POLL_MS = 5;

/**
 * Calls `fn` until it returns a value other than undefined (or false) without throwing, and
 * returns that value. Past `timeoutMs` it throws the last error, or says what it waited for.
 */
export async function eventually<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      if (last instanceof Error) {
        last.message = `eventually (${timeoutMs} ms): ${what}: ${last.message}`;
        throw last;
      }
      throw new Error(`eventually (${timeoutMs} ms): ${what} never held`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
