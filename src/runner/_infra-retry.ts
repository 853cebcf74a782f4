export const DEFAULT_INFRA_RETRIES = 2;

/**
 * The one retry policy for infrastructure failures (a sandbox that would not start, a grader
 * that crashed): up to `retries` more tries of the failed step alone, none once the run is
 * stopping. Returns the last result and how many retries it took.
 */
export async function retryInfra<T>(step: () => Promise<T>, failed: (result: T) => boolean, options: { retries: number; signal?: AbortSignal }): Promise<{ result: T; retries: number }> {
  let result = await step();
  let retries = 0;
  while (failed(result) && retries < options.retries && !options.signal?.aborted) {
    retries++;
    result = await step();
  }
  return { result, retries };
}
