import * as z from 'zod';

/** A contributed results file: one config of one run, everything needed to re-grade and compare it. */
export const resultsFileSchema = z.object({
  format: z.literal('bench-results/1'),
  harness: z.object({ version: z.string(), git_commit: z.string().nullable() }),
  run_id: z.string(),
  created_at: z.string(),
  /** `instances`: distinct instances in this file; `total_instances`: the suite's size, to tell a subset from a full run. */
  suite: z.object({ name: z.string(), hash: z.string(), instances: z.int(), total_instances: z.int().optional() }),
  config: z.object({ name: z.string(), model: z.string().nullable(), settings: z.record(z.string(), z.unknown()) }),
  agent: z.object({ name: z.string(), settings: z.record(z.string(), z.unknown()) }),
  instances: z.array(z.object({
    instance_id: z.string(),
    instance_hash: z.string().nullable(),
    repeat: z.int(),
    patch: z.string().nullable(),
    patch_hash: z.string().nullable(),
    outcome: z.string(),
    /** What the grader said of the patch, apart from agent-level outcomes like model_error. */
    grade_outcome: z.string(),
    resolved: z.boolean(),
    tests: z.record(z.string(), z.string()),
    tokens: z.object({ input: z.int(), output: z.int(), cache_read: z.int(), cache_write: z.int() }),
    cost_usd: z.number().nullable(),
    /** An agent with several roles (explorer, writer): each role's config, model and cost. */
    cost_by_role: z.array(z.object({ role: z.string(), config: z.string(), model: z.string().nullable(), calls: z.int(), cost_usd: z.number().nullable() })).optional(),
    duration_ms: z.number(),
  })),
  summary: z.object({
    total: z.int(), resolved: z.int(), rate: z.number(), rate_low: z.number(), rate_high: z.number(),
    total_cost: z.number().nullable(), cost_per_task: z.number().nullable(), cost_per_resolved: z.number().nullable(), cost_unknown: z.boolean(),
  }),
  /** `digest`: sha256 of the content verified (`contentDigest`), so an edit made afterwards shows. */
  verifications: z.array(z.object({ date: z.string(), harness_version: z.string(), git_commit: z.string().nullable(), sandbox: z.string(), matched: z.boolean(), digest: z.string().optional() })).default([]),
});

export type ResultsFile = z.infer<typeof resultsFileSchema>;
