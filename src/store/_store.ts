import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { UserError } from '../errors.ts';
import { releaseStore, watchStore } from './_checkpoint.ts';
import { MIGRATIONS } from './_schema.ts';
import type { AttemptRecord, AttemptRow, LlmCallRecord, Outcome, RoleCostRow, RunRecord, StoredGrade } from './_types.ts';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const DEFAULT_DB = 'results/bench.db';
/** Log pages at which a store with a checkpointer still checkpoints in a commit (about 80 MB; SQLite's default is 1,000). */
export const CHECKPOINTER_SAFETY_PAGES = 20_000;

/** `--db PATH`, else `$BENCH_DB`, else `results/bench.db`. */
export function resolveDbPath(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env.BENCH_DB ?? DEFAULT_DB);
}

/** Checks a DB path can be written without creating anything, so failed commands leave no file behind. */
export function checkDbWritable(path: string): void {
  let dir = dirname(path);
  while (!existsSync(dir)) dir = dirname(dir);
  const target = existsSync(path) ? path : dir;
  try {
    if (existsSync(path) && statSync(path).isDirectory()) throw new Error('is a directory');
    accessSync(target, constants.W_OK);
    if (existsSync(path)) accessSync(dir === dirname(path) ? dirname(path) : dir, constants.W_OK);
  } catch (error) {
    const reason = (error as Error).message === 'is a directory' ? 'is a directory' : `is in a directory that cannot be written (${target})`;
    throw new UserError(`The results database ${path} ${reason}. Choose a writable location with --db PATH or $BENCH_DB.`);
  }
}

type Statements = ReturnType<typeof prepare>;

export class Store {
  readonly path: string;
  readonly db: BetterSqlite3.Database;
  private readonly statements: Statements;
  private closed = false;
  /** Undefined until the first attempt or grade is written; then whether the checkpointer took the store (see _checkpoint.ts). */
  private checkpoints: boolean | undefined;

  private constructor(path: string, db: BetterSqlite3.Database) {
    this.path = path;
    this.db = db;
    this.statements = prepare(db);
  }

  /** Opens (creating when asked) and migrates the store. Read-only opens never create a file. */
  static open(path: string, options: { readonly?: boolean } = {}): Store {
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    if (options.readonly) {
      if (!existsSync(path)) {
        throw new UserError(`No results database at ${path}. Run \`bench run\` or \`bench eval\` first, or point --db / $BENCH_DB at an existing one.`);
      }
      const db = new Database(path, { readonly: true, fileMustExist: true });
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > MIGRATIONS.length) throw newerSchema(path, version);
      if (version < MIGRATIONS.length) {
        db.close();
        checkDbWritable(path);
        Store.open(path).close();
        return Store.open(path, options);
      }
      return new Store(path, db);
    }
    checkDbWritable(path);
    makeParents(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, path);
    return new Store(path, db);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.checkpoints) releaseStore(this.path);
    this.db.close();
  }

  /** A store that records attempts has its log copied back by the checkpointer, not inside its commits. */
  private writing(): void {
    if (this.checkpoints !== undefined || this.db.readonly || this.db.memory) return;
    this.checkpoints = watchStore(this.path);
    // SQLite's own checkpoints stay as a safety net far beyond what a second's writes reach, should the checkpointer stop.
    if (this.checkpoints) this.db.pragma(`wal_autocheckpoint = ${CHECKPOINTER_SAFETY_PAGES}`);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  createRun(run: RunRecord): void {
    this.statements.insertRun.run({
      id: run.id, created_at: run.createdAt, status: run.status, command: run.command, harness_version: run.harnessVersion,
      git_commit: run.gitCommit ?? null, suite: run.suite ?? null, suite_hash: run.suiteHash ?? null, agent: run.agent ?? null,
      options_json: JSON.stringify(run.options),
    });
  }

  updateRunStatus(id: string, status: RunRecord['status']): void {
    this.statements.updateRun.run({ id, status, finished_at: status === 'running' ? null : new Date().toISOString() });
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.statements.getRun.get(id) as Record<string, unknown> | undefined;
    return row ? toRun(row) : undefined;
  }

  listRuns(): RunRecord[] {
    return (this.statements.listRuns.all() as Record<string, unknown>[]).map(toRun);
  }

  /** Per run: attempts, resolved, cost (known part) and how many attempts have no known cost. */
  runTotals(): Map<string, { attempts: number; resolved: number; knownCost: number; unknownCost: number; configs: number }> {
    const rows = this.statements.runTotals.all() as { run_id: string; attempts: number; resolved: number; known_cost: number | null; unknown_cost: number; configs: number }[];
    return new Map(rows.map((r) => [r.run_id, { attempts: r.attempts, resolved: r.resolved, knownCost: r.known_cost ?? 0, unknownCost: r.unknown_cost, configs: r.configs }]));
  }

  /**
   * Deletes a run with its attempts, tests, calls and config snapshots, in one transaction.
   * Grades stay: they are keyed by patch and instance content, not by run, and other runs reuse them.
   */
  deleteRun(id: string): { attempts: number } {
    return this.db.transaction(() => {
      const attempts = (this.statements.countAttempts.get(id) as { n: number }).n;
      this.statements.deleteTestsOfRun.run(id);
      this.statements.deleteCallsOfRun.run(id);
      this.statements.deleteAttemptsOfRun.run(id);
      this.statements.deleteSnapshotsOfRun.run(id);
      this.statements.deleteRun.run(id);
      return { attempts };
    })();
  }

  saveConfigSnapshot(runId: string, name: string, model: string | undefined, settings: Record<string, unknown>): void {
    this.statements.insertSnapshot.run(runId, name, model ?? null, JSON.stringify(settings));
  }

  configSnapshots(runId: string): { name: string; model: string | null; settings: Record<string, unknown> }[] {
    return (this.statements.snapshots.all(runId) as { name: string; model: string | null; settings_json: string }[]).map((row) => ({
      name: row.name, model: row.model, settings: JSON.parse(row.settings_json) as Record<string, unknown>,
    }));
  }

  saveInstances(instances: { instanceId: string; contentHash: string; suite?: string; repo: string; baseCommit?: string; json: unknown }[]): void {
    this.db.transaction(() => {
      for (const i of instances) {
        this.statements.insertInstance.run(i.instanceId, i.contentHash, i.suite ?? null, i.repo, i.baseCommit ?? null, JSON.stringify(i.json));
      }
    })();
  }

  /** One attempt, its tests and its LLM calls in one transaction: all or nothing. */
  /**
   * Writes an attempt with its tests and calls in one transaction; returns its id, or null when
   * the run already holds that (instance, config, repeat): a redelivered attempt is stored once.
   */
  recordAttempt(attempt: AttemptRecord): number | null {
    this.writing();
    return this.db.transaction(() => {
      const { changes, lastInsertRowid } = this.statements.insertAttempt.run(attemptParams(attempt));
      if (changes === 0) return null;
      const id = Number(lastInsertRowid);
      for (const test of attempt.tests) this.statements.insertTest.run(id, test.testId, test.status, test.expectation);
      for (const call of attempt.llmCalls) this.statements.insertCall.run(callParams(id, call));
      return id;
    })();
  }

  /** Keys `instance\u0000config\u0000repeat` of the attempts a run already holds. */
  completedKeys(runId: string): Set<string> {
    const rows = this.statements.attemptKeys.all(runId) as { instance_id: string; config_name: string; repeat: number }[];
    return new Set(rows.map((r) => attemptKey(r.instance_id, r.config_name, r.repeat)));
  }

  attempts(runIds: string[]): AttemptRow[] {
    const rows: AttemptRow[] = [];
    for (const runId of runIds) {
      for (const row of this.statements.attemptsOfRun.iterate(runId) as Iterable<Record<string, unknown>>) rows.push(toAttemptRow(row));
    }
    return rows;
  }

  /**
   * The cost per role of the attempts that had more than one role (an explorer and a writer, or a
   * main config with an explorer), summed per run, attempt config, agent, role and LLM config.
   * One query; attempts whose calls are all `main` cost nothing to skip (a partial index).
   */
  /** The token counts of every LLM call of the runs' attempts, by attempt id, in call order: one query. */
  callTokens(runIds: string[]): Map<number, { input: number; output: number; cacheRead: number; cacheWrite: number }[]> {
    const byAttempt = new Map<number, { input: number; output: number; cacheRead: number; cacheWrite: number }[]>();
    if (runIds.length === 0) return byAttempt;
    const rows = this.db.prepare(`SELECT c.attempt_id, c.tokens_in, c.tokens_out, c.tokens_cache_read, c.tokens_cache_write
      FROM llm_calls c JOIN attempts a ON a.id = c.attempt_id WHERE a.run_id IN (${runIds.map(() => '?').join(', ')}) ORDER BY c.attempt_id, c.seq`)
      .all(...runIds) as { attempt_id: number; tokens_in: number; tokens_out: number; tokens_cache_read: number; tokens_cache_write: number }[];
    for (const row of rows) {
      let calls = byAttempt.get(row.attempt_id);
      if (!calls) byAttempt.set(row.attempt_id, (calls = []));
      calls.push({ input: row.tokens_in, output: row.tokens_out, cacheRead: row.tokens_cache_read, cacheWrite: row.tokens_cache_write });
    }
    return byAttempt;
  }

  roleCosts(runIds: string[]): RoleCostRow[] {
    if (runIds.length === 0) return [];
    const marks = runIds.map(() => '?').join(', ');
    // CROSS JOIN keeps SQLite's order: the partial index of non-main calls first (empty for runs of
    // one-config agents), never a probe per attempt of the runs.
    const rows = this.db.prepare(`WITH mixed AS (
        SELECT DISTINCT c.attempt_id FROM llm_calls c INDEXED BY llm_calls_roles CROSS JOIN attempts a ON a.id = c.attempt_id
        WHERE c.role <> 'main' AND a.run_id IN (${marks})
      )
      SELECT a.run_id, a.config_name, a.agent, c.role, c.config_name AS llm_config, MAX(c.model) AS model,
        COUNT(*) AS calls, SUM(c.cost_usd) AS known_cost, SUM(CASE WHEN c.cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown_calls
      FROM mixed m CROSS JOIN attempts a ON a.id = m.attempt_id CROSS JOIN llm_calls c ON c.attempt_id = m.attempt_id
      GROUP BY a.run_id, a.config_name, a.agent, c.role, c.config_name`).all(...runIds) as Record<string, unknown>[];
    return rows.map((r) => ({
      runId: r.run_id as string, configName: r.config_name as string, agent: r.agent as string, role: r.role as string,
      llmConfig: r.llm_config as string, model: (r.model as string | null) ?? null, calls: r.calls as number,
      knownCostUsd: (r.known_cost as number | null) ?? 0, unknownCalls: r.unknown_calls as number,
    }));
  }

  attempt(id: number): (AttemptRow & { patch: string | null; grade: unknown; trajectory: unknown; tests: { testId: string; status: string; expectation: string | null }[]; llmCalls: LlmCallRecord[] }) | undefined {
    const row = this.statements.getAttempt.get(id) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    const tests = (this.statements.testsOf.all(id) as { test_id: string; status: string; expectation: string | null }[]).map((t) => ({
      testId: t.test_id, status: t.status, expectation: t.expectation,
    }));
    const llmCalls = (this.statements.callsOf.all(id) as Record<string, unknown>[]).map(toCall);
    return {
      ...toAttemptRow(row),
      patch: (row.patch as string | null) ?? null,
      grade: parseJson(row.grade_json),
      trajectory: parseJson(row.trajectory_json),
      tests,
      llmCalls,
    };
  }

  attemptFor(runId: string, instanceId: string, configName: string, repeat = 0): ReturnType<Store['attempt']> {
    const row = this.statements.findAttempt.get(runId, instanceId, configName, repeat) as { id: number } | undefined;
    return row ? this.attempt(row.id) : undefined;
  }

  findGrade(instanceId: string, instanceHash: string, patchHash: string): StoredGrade | undefined {
    const row = this.statements.findGrade.get(instanceId, instanceHash, patchHash) as { outcome: Outcome; grade_json: string } | undefined;
    return row ? { outcome: row.outcome, grade: JSON.parse(row.grade_json) } : undefined;
  }

  /**
   * The newest stored grade of this patch on this instance content, whatever grader revision
   * the grade key carries (`<content hash>` or `<content hash>:<revision>`); for the test log.
   */
  latestGrade(instanceId: string, instanceHash: string, patchHash: string): unknown {
    const row = this.statements.latestGrade.get(instanceId, patchHash, instanceHash, `${instanceHash}:%`) as { grade_json: string } | undefined;
    return row ? JSON.parse(row.grade_json) : undefined;
  }

  saveGrade(instanceId: string, instanceHash: string, patchHash: string, sandbox: string, grade: StoredGrade): void {
    this.writing();
    this.statements.saveGrade.run(instanceId, instanceHash, patchHash, sandbox, grade.outcome, JSON.stringify(grade.grade), new Date().toISOString());
  }

  /** A recorded completion with this request hash from the given run, for `--replay`. */
  recordedResponse(runId: string, requestHash: string): unknown {
    const row = this.statements.recordedResponse.get(runId, requestHash) as { response_json: string } | undefined;
    return row ? JSON.parse(row.response_json) : undefined;
  }
}

/** Creates missing parent folders one at a time (a recursive mkdir can spin on special file systems). */
function makeParents(path: string): void {
  const missing: string[] = [];
  for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) missing.unshift(dir);
  try {
    for (const dir of missing) mkdirSync(dir);
  } catch (error) {
    throw new UserError(`Cannot create the folder for the results database ${path} (${(error as NodeJS.ErrnoException).code}). Choose a writable location with --db PATH or $BENCH_DB.`);
  }
}

export function attemptKey(instanceId: string, configName: string, repeat: number): string {
  return `${instanceId}\u0000${configName}\u0000${repeat}`;
}

function newerSchema(path: string, version: number): UserError {
  return new UserError(`${path} was written by a newer bench (schema ${version}, this one knows ${MIGRATIONS.length}). Upgrade bench or use another --db.`);
}

function migrate(db: BetterSqlite3.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw newerSchema(path, version);
  }
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}

function prepare(db: BetterSqlite3.Database) {
  return {
    insertRun: db.prepare(`INSERT INTO runs (id, created_at, status, command, harness_version, git_commit, suite, suite_hash, agent, options_json)
      VALUES (@id, @created_at, @status, @command, @harness_version, @git_commit, @suite, @suite_hash, @agent, @options_json)`),
    updateRun: db.prepare('UPDATE runs SET status = @status, finished_at = @finished_at WHERE id = @id'),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    listRuns: db.prepare('SELECT * FROM runs ORDER BY created_at'),
    runTotals: db.prepare(`SELECT run_id, COUNT(*) AS attempts, SUM(resolved) AS resolved, SUM(cost_usd) AS known_cost,
      SUM(CASE WHEN cost_unknown = 1 OR cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown_cost, COUNT(DISTINCT config_name) AS configs
      FROM attempts GROUP BY run_id`),
    countAttempts: db.prepare('SELECT COUNT(*) AS n FROM attempts WHERE run_id = ?'),
    deleteTestsOfRun: db.prepare('DELETE FROM test_results WHERE attempt_id IN (SELECT id FROM attempts WHERE run_id = ?)'),
    deleteCallsOfRun: db.prepare('DELETE FROM llm_calls WHERE attempt_id IN (SELECT id FROM attempts WHERE run_id = ?)'),
    deleteAttemptsOfRun: db.prepare('DELETE FROM attempts WHERE run_id = ?'),
    deleteSnapshotsOfRun: db.prepare('DELETE FROM config_snapshots WHERE run_id = ?'),
    deleteRun: db.prepare('DELETE FROM runs WHERE id = ?'),
    insertSnapshot: db.prepare('INSERT OR REPLACE INTO config_snapshots (run_id, name, model, settings_json) VALUES (?, ?, ?, ?)'),
    snapshots: db.prepare('SELECT name, model, settings_json FROM config_snapshots WHERE run_id = ? ORDER BY rowid'),
    insertInstance: db.prepare('INSERT OR IGNORE INTO instances (instance_id, content_hash, suite, repo, base_commit, instance_json) VALUES (?, ?, ?, ?, ?, ?)'),
    insertAttempt: db.prepare(`INSERT INTO attempts (run_id, instance_id, instance_hash, config_name, repeat, agent, outcome, resolution, resolved, patch, patch_hash,
      error, exit_reason, malformed_count, cost_usd, cost_unknown, tokens_in, tokens_out, tokens_cache_read, tokens_cache_write, calls, retries, infra_retries,
      started_at, finished_at, duration_ms, agent_ms, grade_ms, grade_json, trajectory_json)
      VALUES (@run_id, @instance_id, @instance_hash, @config_name, @repeat, @agent, @outcome, @resolution, @resolved, @patch, @patch_hash,
      @error, @exit_reason, @malformed_count, @cost_usd, @cost_unknown, @tokens_in, @tokens_out, @tokens_cache_read, @tokens_cache_write, @calls, @retries, @infra_retries,
      @started_at, @finished_at, @duration_ms, @agent_ms, @grade_ms, @grade_json, @trajectory_json)
      ON CONFLICT (run_id, instance_id, config_name, repeat) DO NOTHING`),
    insertTest: db.prepare('INSERT OR REPLACE INTO test_results (attempt_id, test_id, status, expectation) VALUES (?, ?, ?, ?)'),
    insertCall: db.prepare(`INSERT INTO llm_calls (attempt_id, seq, config_name, role, provider, model, status, error_class, error_message, tokens_in, tokens_out,
      tokens_cache_read, tokens_cache_write, cost_usd, latency_ms, retries, tries_json, request_hash, response_json, cached)
      VALUES (@attempt_id, @seq, @config_name, @role, @provider, @model, @status, @error_class, @error_message, @tokens_in, @tokens_out,
      @tokens_cache_read, @tokens_cache_write, @cost_usd, @latency_ms, @retries, @tries_json, @request_hash, @response_json, @cached)`),
    attemptKeys: db.prepare('SELECT instance_id, config_name, repeat FROM attempts WHERE run_id = ?'),
    attemptsOfRun: db.prepare(`SELECT id, run_id, instance_id, instance_hash, config_name, repeat, agent, outcome, resolution, resolved, patch_hash, error, exit_reason,
      malformed_count, cost_usd, cost_unknown, tokens_in, tokens_out, tokens_cache_read, tokens_cache_write, calls, retries, infra_retries, started_at, finished_at,
      duration_ms, agent_ms, grade_ms, json_extract(grade_json, '$.flags') AS flags_json, json_extract(grade_json, '$.tamperReason') AS tamper_reason
      FROM attempts WHERE run_id = ? ORDER BY id`),
    getAttempt: db.prepare('SELECT * FROM attempts WHERE id = ?'),
    findAttempt: db.prepare('SELECT id FROM attempts WHERE run_id = ? AND instance_id = ? AND config_name = ? AND repeat = ?'),
    testsOf: db.prepare('SELECT test_id, status, expectation FROM test_results WHERE attempt_id = ? ORDER BY test_id'),
    callsOf: db.prepare('SELECT * FROM llm_calls WHERE attempt_id = ? ORDER BY seq'),
    findGrade: db.prepare('SELECT outcome, grade_json FROM grades WHERE instance_id = ? AND instance_hash = ? AND patch_hash = ?'),
    latestGrade: db.prepare(`SELECT grade_json FROM grades WHERE instance_id = ? AND patch_hash = ? AND (instance_hash = ? OR instance_hash LIKE ?)
      ORDER BY created_at DESC LIMIT 1`),
    saveGrade: db.prepare('INSERT OR REPLACE INTO grades (instance_id, instance_hash, patch_hash, sandbox, outcome, grade_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    recordedResponse: db.prepare(`SELECT c.response_json FROM llm_calls c JOIN attempts a ON a.id = c.attempt_id
      WHERE a.run_id = ? AND c.request_hash = ? AND c.status = 'ok' AND c.response_json IS NOT NULL LIMIT 1`),
  };
}

function attemptParams(a: AttemptRecord) {
  return {
    run_id: a.runId, instance_id: a.instanceId, instance_hash: a.instanceHash ?? null, config_name: a.configName, repeat: a.repeat, agent: a.agent,
    outcome: a.outcome, resolution: a.resolution ?? null, resolved: a.resolved ? 1 : 0, patch: a.patch ?? null, patch_hash: a.patchHash ?? null,
    error: a.error ?? null, exit_reason: a.exitReason ?? null, malformed_count: a.malformedCount, cost_usd: a.costUsd, cost_unknown: a.costUnknown ? 1 : 0,
    tokens_in: a.tokensIn, tokens_out: a.tokensOut, tokens_cache_read: a.tokensCacheRead, tokens_cache_write: a.tokensCacheWrite, calls: a.calls,
    retries: a.retries, infra_retries: a.infraRetries, started_at: a.startedAt, finished_at: a.finishedAt, duration_ms: a.durationMs,
    agent_ms: a.agentMs, grade_ms: a.gradeMs, grade_json: a.grade === undefined ? null : JSON.stringify(a.grade),
    trajectory_json: a.trajectory === undefined ? null : JSON.stringify(a.trajectory),
  };
}

function callParams(attemptId: number, c: LlmCallRecord) {
  return {
    attempt_id: attemptId, seq: c.seq, config_name: c.configName, role: c.role, provider: c.provider ?? null, model: c.model ?? null, status: c.status,
    error_class: c.errorClass ?? null, error_message: c.errorMessage ?? null, tokens_in: c.tokensIn, tokens_out: c.tokensOut,
    tokens_cache_read: c.tokensCacheRead, tokens_cache_write: c.tokensCacheWrite, cost_usd: c.costUsd, latency_ms: c.latencyMs, retries: c.retries,
    tries_json: JSON.stringify(c.tries), request_hash: c.requestHash ?? null, response_json: c.response === undefined ? null : JSON.stringify(c.response),
    cached: c.cached ? 1 : 0,
  };
}

function toRun(row: Record<string, unknown>): RunRecord {
  return {
    id: row.id as string, createdAt: row.created_at as string, finishedAt: row.finished_at as string | null, status: row.status as RunRecord['status'],
    command: row.command as RunRecord['command'], harnessVersion: row.harness_version as string, gitCommit: row.git_commit as string | null,
    suite: row.suite as string | null, suiteHash: row.suite_hash as string | null, agent: row.agent as string | null,
    options: JSON.parse(row.options_json as string) as Record<string, unknown>,
  };
}

function toAttemptRow(row: Record<string, unknown>): AttemptRow {
  return {
    id: row.id as number, runId: row.run_id as string, instanceId: row.instance_id as string, instanceHash: row.instance_hash as string | null,
    configName: row.config_name as string, repeat: row.repeat as number, agent: row.agent as string, outcome: row.outcome as Outcome,
    resolution: row.resolution as AttemptRow['resolution'], resolved: row.resolved === 1, patchHash: row.patch_hash as string | null,
    error: row.error as string | null, exitReason: row.exit_reason as string | null, malformedCount: row.malformed_count as number,
    costUsd: row.cost_usd as number | null, costUnknown: row.cost_unknown === 1, tokensIn: row.tokens_in as number, tokensOut: row.tokens_out as number,
    tokensCacheRead: row.tokens_cache_read as number, tokensCacheWrite: row.tokens_cache_write as number, calls: row.calls as number,
    retries: row.retries as number, infraRetries: row.infra_retries as number, startedAt: row.started_at as string, finishedAt: row.finished_at as string,
    durationMs: row.duration_ms as number, agentMs: row.agent_ms as number, gradeMs: row.grade_ms as number,
    flags: flagsOf(row), tamperReason: (row.tamper_reason as string | null | undefined) ?? tamperReasonOf(row),
  };
}

function flagsOf(row: Record<string, unknown>): string[] {
  const stored = row.flags_json === undefined ? (parseJson(row.grade_json) as { flags?: unknown } | null)?.flags : parseJson(row.flags_json);
  return Array.isArray(stored) ? stored.filter((flag): flag is string => typeof flag === 'string') : [];
}

function tamperReasonOf(row: Record<string, unknown>): string | null {
  const reason = row.grade_json === undefined ? undefined : (parseJson(row.grade_json) as { tamperReason?: unknown } | null)?.tamperReason;
  return typeof reason === 'string' ? reason : null;
}

function toCall(row: Record<string, unknown>): LlmCallRecord {
  return {
    seq: row.seq as number, configName: row.config_name as string, role: row.role as string, provider: row.provider as string | null,
    model: row.model as string | null, status: row.status as 'ok' | 'error', errorClass: row.error_class as string | null,
    errorMessage: row.error_message as string | null, tokensIn: row.tokens_in as number, tokensOut: row.tokens_out as number,
    tokensCacheRead: row.tokens_cache_read as number, tokensCacheWrite: row.tokens_cache_write as number, costUsd: row.cost_usd as number | null,
    latencyMs: row.latency_ms as number, retries: row.retries as number, tries: JSON.parse(row.tries_json as string) as unknown[],
    requestHash: row.request_hash as string | null, cached: row.cached === 1,
  };
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : undefined;
}
