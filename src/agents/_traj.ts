import type { TrajectoryStep } from './_types.ts';

/** One attempt as the store keeps it, the part a mini-swe-agent trajectory file needs. */
export type TrajectorySource = {
  instanceId: string;
  agent: string;
  configName: string;
  trajectory: unknown;
  patch: string | null;
  exitReason: string | null;
  costUsd: number | null;
  calls: number;
  /** The agent's settings as the run recorded them (`submit` among them). */
  agentSettings?: Record<string, unknown>;
  /** Model of each config the attempt called, by config name. */
  models: Record<string, string>;
  harnessVersion: string;
};

// mini-swe-agent's exit statuses for bench's exits.
const EXIT_STATUS: Record<string, string> = {
  submitted: 'Submitted', max_steps: 'LimitsExceeded', budget: 'LimitsExceeded', wall_time: 'TimeExceeded',
  format_errors: 'FormatError', malformed: 'FormatError', model_error: 'ModelError', baseline: 'Submitted',
};

/**
 * An attempt in mini-swe-agent v2's `.traj.json` shape (`trajectory_format` "mini-swe-agent-1.1"):
 * `info` (exit status, submission, model stats, config) and the messages in OpenAI chat format,
 * each with an `extra` field for what bench knows besides (the role of a two-config agent, command
 * results, notes).
 */
export function toMiniTrajectory(source: TrajectorySource): Record<string, unknown> {
  const steps = Array.isArray(source.trajectory) ? (source.trajectory as TrajectoryStep[]) : [];
  const messages: Record<string, unknown>[] = [];
  const notes: string[] = [];
  for (const step of steps) {
    if (step.kind === 'message') {
      const message: Record<string, unknown> = { role: step.role, content: step.content };
      if (step.toolCalls && step.toolCalls.length > 0) {
        message.tool_calls = step.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
      }
      if (step.toolCallId) message.tool_call_id = step.toolCallId;
      message.extra = { bench_role: step.agentRole ?? 'main' };
      messages.push(message);
    } else if (step.kind === 'command') {
      const last = messages.at(-1);
      const extra = (last?.extra ?? {}) as Record<string, unknown>;
      const commands = (extra.commands ?? []) as unknown[];
      commands.push({ command: step.command, returncode: step.exitCode, timed_out: step.timedOut, duration_ms: step.durationMs });
      if (last) last.extra = { ...extra, commands };
    } else {
      notes.push(step.text);
    }
  }
  return {
    instance_id: source.instanceId,
    info: {
      exit_status: EXIT_STATUS[source.exitReason ?? ''] ?? source.exitReason ?? 'Unknown',
      submission: source.patch ?? '',
      model_stats: { instance_cost: source.costUsd, api_calls: source.calls },
      mini_version: `bench ${source.harnessVersion}`,
      config: {
        agent: { ...(source.agentSettings ?? {}), name: source.agent },
        agent_type: `bench.agents.${String(source.agentSettings?.type ?? source.agent)}`,
        model: { config_name: source.configName, models: source.models },
      },
      bench: { submit: source.agentSettings?.submit ?? null, exit_reason: source.exitReason, notes },
    },
    messages,
    trajectory_format: 'mini-swe-agent-1.1',
  };
}
