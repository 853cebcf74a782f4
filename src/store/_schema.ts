/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many have run.
 * Append new migrations; never edit one that has shipped.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,              -- running | finished | interrupted | failed
    command TEXT NOT NULL,             -- eval | run
    harness_version TEXT NOT NULL,
    git_commit TEXT,
    suite TEXT,
    suite_hash TEXT,
    agent TEXT,
    options_json TEXT NOT NULL DEFAULT '{}'
  );

  -- Resolved LLM configs as used by a run, secrets removed.
  CREATE TABLE config_snapshots (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    model TEXT,
    settings_json TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );

  CREATE TABLE instances (
    instance_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    suite TEXT,
    repo TEXT NOT NULL,
    base_commit TEXT,
    instance_json TEXT NOT NULL,
    PRIMARY KEY (instance_id, content_hash)
  );

  CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    instance_id TEXT NOT NULL,
    instance_hash TEXT,
    config_name TEXT NOT NULL,
    repeat INTEGER NOT NULL DEFAULT 0,
    agent TEXT NOT NULL,
    outcome TEXT NOT NULL,             -- resolved | unresolved | patch_failed | timeout | malformed | model_error | infra_error | empty_patch | tampered
    resolution TEXT,                   -- FULL | PARTIAL | NO
    resolved INTEGER NOT NULL DEFAULT 0,
    patch TEXT,
    patch_hash TEXT,
    error TEXT,
    exit_reason TEXT,                  -- why the agent stopped: submitted, max_steps, budget, wall_time, format_errors, model_error
    malformed_count INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,                     -- NULL when any call's price is unknown
    cost_unknown INTEGER NOT NULL DEFAULT 0,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    tokens_cache_read INTEGER NOT NULL DEFAULT 0,
    tokens_cache_write INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    infra_retries INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    agent_ms REAL NOT NULL DEFAULT 0,
    grade_ms REAL NOT NULL DEFAULT 0,
    grade_json TEXT,                   -- SWE-bench per-instance report plus our verdict fields
    trajectory_json TEXT,
    UNIQUE (run_id, instance_id, config_name, repeat)
  );
  CREATE INDEX attempts_run ON attempts(run_id, config_name);

  CREATE TABLE test_results (
    attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    test_id TEXT NOT NULL,
    status TEXT NOT NULL,              -- PASSED | FAILED | SKIPPED | ERROR | XFAIL | MISSING
    expectation TEXT,                  -- FAIL_TO_PASS | PASS_TO_PASS | NULL
    PRIMARY KEY (attempt_id, test_id)
  );

  CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY,
    attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    config_name TEXT NOT NULL,
    role TEXT NOT NULL,                -- main | explorer
    provider TEXT,
    model TEXT,
    status TEXT NOT NULL,              -- ok | error
    error_class TEXT,
    error_message TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    tokens_cache_read INTEGER NOT NULL DEFAULT 0,
    tokens_cache_write INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,                     -- NULL = unknown price
    latency_ms REAL NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    tries_json TEXT NOT NULL DEFAULT '[]',
    request_hash TEXT,
    response_json TEXT,                -- the completion, for --replay
    cached INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX llm_calls_attempt ON llm_calls(attempt_id);
  CREATE INDEX llm_calls_request ON llm_calls(request_hash);

  -- Grades keyed on the patch's hash too, so a changed patch never reuses a stale grade.
  CREATE TABLE grades (
    instance_id TEXT NOT NULL,
    instance_hash TEXT NOT NULL,
    patch_hash TEXT NOT NULL,
    sandbox TEXT NOT NULL,
    outcome TEXT NOT NULL,
    grade_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (instance_id, instance_hash, patch_hash)
  );
  `,
  `
  -- The calls of roles other than the one-model agents' main role (explorer, writer): a report
  -- reads the cost per role from them without scanning every call of a run.
  CREATE INDEX llm_calls_roles ON llm_calls(attempt_id) WHERE role <> 'main';
  `,
];
