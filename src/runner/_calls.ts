import { callCost, type AgentCall } from '../agents/index.ts';
import { redact } from '../config/index.ts';
import type { Completion } from '../llm/index.ts';
import type { LlmCallRecord } from '../store/index.ts';

export function usageOf(calls: AgentCall[]) {
  const usage = { tokensIn: 0, tokensOut: 0, tokensCacheRead: 0, tokensCacheWrite: 0, calls: calls.length, retries: 0 };
  for (const call of calls) {
    const tries = call.completion?.tries ?? call.error?.tries ?? [];
    usage.retries += Math.max(0, tries.length - 1);
    if (!call.completion) continue;
    usage.tokensIn += call.completion.usage.input;
    usage.tokensOut += call.completion.usage.output;
    usage.tokensCacheRead += call.completion.usage.cacheRead;
    usage.tokensCacheWrite += call.completion.usage.cacheWrite;
  }
  return usage;
}

/** The calls as the store keeps them, error messages with the secrets taken out. */
export function callRecords(calls: AgentCall[], secrets: string[]): LlmCallRecord[] {
  return calls.map((call, seq) => {
    const c = call.completion;
    const tries = c?.tries ?? call.error?.tries ?? [];
    return {
      seq, configName: call.configName, role: call.role, provider: c?.provider ?? null, model: c?.model ?? null,
      status: c ? 'ok' : 'error', errorClass: call.error?.errorClass ?? null, errorMessage: call.error ? redact(call.error.message, secrets) : null,
      tokensIn: c?.usage.input ?? 0, tokensOut: c?.usage.output ?? 0, tokensCacheRead: c?.usage.cacheRead ?? 0, tokensCacheWrite: c?.usage.cacheWrite ?? 0,
      // What the attempt's cost counts: null when unknown, a failed call's billed tries, $0 for a failed call nobody billed.
      costUsd: costOrFree(callCost(call)), latencyMs: c?.latencyMs ?? 0, retries: Math.max(0, tries.length - 1), tries,
      requestHash: c?.requestHash ?? null, response: c ? storedCompletion(c) : undefined, cached: c?.cached ?? false,
    };
  });
}

function costOrFree(cost: number | null | undefined): number | null {
  return cost === undefined ? 0 : cost;
}

/** What replay needs of a completion; the raw provider body stays out of the store. */
function storedCompletion(c: Completion): Omit<Completion, 'raw'> {
  const { raw: _raw, ...rest } = c;
  return rest;
}
