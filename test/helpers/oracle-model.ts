/**
 * A model that knows the gold patch of every built-in instance, served by `startLlmServer`.
 * It reads which instance a request is about from the problem statement in its prompt and
 * answers as each agent expects:
 *   - bash agent (and the writer of explore-then-write): first turn a ```bash block applying the
 *     gold patch (`git apply` of a quoted heredoc), next turn mini-swe-agent's submission of the
 *     staged diff (a `bash` tool call instead when tools are offered);
 *   - patch agent: the gold patch in a ```diff block;
 *   - explorer role of the patch agent: the paths the gold patch touches, one per line;
 *   - explorer episode of explore-then-write (`scout`): one read-only command, then the touched
 *     paths submitted as its notes.
 * Instances outside its `skill` get a miss: garbage text (no command, no edit), or a `wrong` fix
 * (a stray file, so the tests run and fail).
 *
 *   const oracle = await startOracleModel({ skill: /csvkit/, latencyMs: 200, usage: { input: 900, output: 60 } });
 *   // base_url = oracle.openaiUrl (OpenAI format) or oracle.url (Anthropic format)
 *   oracle.answered;            // oracle answers given, by instance id
 *   await oracle.close();
 */
import { loadSuite, type Instance } from '../../src/tasks/index.ts';
import { startLlmServer, type LlmServer, type RecordedRequest, type Reply, type ScriptedUsage } from './llm-server.ts';

export type OracleRole = 'bash' | 'patch' | 'explorer' | 'scout' | 'unknown';

export type OracleOptions = {
  /** Instances the oracle solves: ids matching this pattern or accepted by this function (default all). */
  skill?: RegExp | ((instanceId: string) => boolean);
  /** What an unsolved instance gets: text with no command or edit (default), or a fix that does not fix. */
  miss?: 'garbage' | 'wrong';
  /** Usage reported with every answer (bench's convention: `input` includes the cached tokens). */
  usage?: ScriptedUsage | ((turn: OracleTurn) => ScriptedUsage);
  /** Fixed wait before every reply, in milliseconds. */
  latencyMs?: number;
  /**
   * Runs before the oracle answers: a reply returned here is sent instead (a 429, a 500...),
   * so faults can be scripted per request. Undefined lets the oracle answer.
   */
  intercept?: (request: RecordedRequest, turn: OracleTurn) => Reply | undefined | Promise<Reply | undefined>;
  /** The suite whose gold patches the oracle knows (default the built-in one). */
  instances?: Instance[];
};

/** What the oracle made of one request. */
export type OracleTurn = {
  role: OracleRole;
  instanceId: string | null;
  /** Assistant messages already in the conversation. */
  turn: number;
  solves: boolean;
};

export type OracleModel = LlmServer & {
  /** Oracle answers given (intercepted requests left out), per instance id. */
  answered: Map<string, number>;
  /** How the oracle reads a request. */
  read(request: RecordedRequest): OracleTurn;
};

const SUBMIT = 'git add -A 2>/dev/null && git diff --cached > patch.txt && echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat patch.txt';
const GARBAGE = 'I looked at the repository, but I am not sure what the issue is asking for. Could you clarify?';

export async function startOracleModel(options: OracleOptions = {}): Promise<OracleModel> {
  const instances = options.instances ?? loadSuite().instances;
  const statements = instances.map((instance) => ({ instance, text: instance.problem_statement.trim() }));
  const answered = new Map<string, number>();
  const skill = options.skill;
  const solves = (id: string) => (skill === undefined ? true : typeof skill === 'function' ? skill(id) : new RegExp(skill.source, skill.flags.replace('g', '')).test(id));

  const read = (request: RecordedRequest): OracleTurn => {
    const { system, everything, assistantTurns } = conversation(request);
    const found = statements.find((entry) => everything.includes(entry.text))?.instance;
    const role: OracleRole = system.includes('You help locate the code') ? 'explorer'
      : system.includes('You are a code explorer') ? 'scout'
      : system.includes('running shell commands') ? 'bash'
      : system.includes('by editing its source files') ? 'patch'
      : 'unknown';
    return { role, instanceId: found?.instance_id ?? null, turn: assistantTurns, solves: found ? solves(found.instance_id) : false };
  };

  const server = await startLlmServer(async (request) => {
    const turn = read(request);
    const fault = await options.intercept?.(request, turn);
    if (fault) return fault;
    const instance = instances.find((i) => i.instance_id === turn.instanceId);
    if (instance) answered.set(instance.instance_id, (answered.get(instance.instance_id) ?? 0) + 1);
    const usage = typeof options.usage === 'function' ? options.usage(turn) : options.usage;
    const tools = offersBashTool(request);
    return { ...answerFor(turn, instance, options.miss ?? 'garbage', tools), ...(usage ? { usage } : {}) };
  }, { latencyMs: options.latencyMs });

  return Object.assign(server, { answered, read });
}

function answerFor(turn: OracleTurn, instance: Instance | undefined, miss: 'garbage' | 'wrong', tools: boolean): Reply {
  if (!instance) return { kind: 'success', text: GARBAGE };
  const gold = instance.patch.endsWith('\n') ? instance.patch : `${instance.patch}\n`;
  switch (turn.role) {
    case 'explorer':
      return { kind: 'success', text: turn.solves ? touchedPaths(gold).join('\n') : GARBAGE };
    case 'patch': {
      if (turn.solves) return { kind: 'success', text: `The fix:\n\n${fenced('diff', gold)}` };
      return { kind: 'success', text: miss === 'wrong' ? `A guess:\n\n${fenced('diff', strayFileDiff(strayPath(gold)))}` : GARBAGE };
    }
    case 'scout': {
      if (!turn.solves) return { kind: 'success', text: GARBAGE };
      if (turn.turn === 0) return command('git ls-files | head -50', tools);
      const notes = touchedPaths(gold).map((path) => `${path} - the code the issue is about`).join('\n');
      return command(`echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat <<'ORACLE_NOTES_END'\n${notes}\nORACLE_NOTES_END`, tools);
    }
    case 'bash': {
      if (turn.turn > 0) return command(SUBMIT, tools);
      if (turn.solves) return command(applyCommand(gold), tools);
      return miss === 'wrong' ? command(`echo 'a guess' > ${strayPath(gold)}`, tools) : { kind: 'success', text: GARBAGE };
    }
    default:
      return { kind: 'success', text: GARBAGE };
  }
}

/**
 * `git apply` of the patch in a quoted heredoc; a patch holding ``` (which would end the ```bash
 * block early) travels base64-encoded instead.
 */
function applyCommand(patch: string): string {
  if (!patch.includes('```')) return `git apply --verbose <<'ORACLE_PATCH_END'\n${patch}ORACLE_PATCH_END`;
  return `echo '${Buffer.from(patch).toString('base64')}' | base64 -d | git apply --verbose`;
}

/** One command, as a ```bash block or as a `bash` tool call when the request offered the tool. */
function command(text: string, tools: boolean): Reply {
  if (tools) return { kind: 'success', text: '', toolCalls: [{ name: 'bash', arguments: { command: text } }] };
  return { kind: 'success', text: `Next step:\n\n\`\`\`bash\n${text}\n\`\`\`\n` };
}

/** A fence longer than any backtick run in the body, so the body cannot close it. */
function fenced(language: string, body: string): string {
  const fence = '`'.repeat(Math.max(2, ...[...body.matchAll(/`+/g)].map((run) => run[0].length)) + 1);
  return `${fence}${language}\n${body}${fence}\n`;
}

/** A new file beside the first file the gold patch changes: in the source tree, so it is graded, but no test reads it. */
function strayPath(gold: string): string {
  const first = touchedPaths(gold)[0] ?? 'ORACLE_NOTES.txt';
  return first.includes('/') ? `${first.slice(0, first.lastIndexOf('/'))}/ORACLE_NOTES.txt` : 'ORACLE_NOTES.txt';
}

/** A diff that applies but fixes nothing: it adds a file no test reads. */
function strayFileDiff(path: string): string {
  return [`diff --git a/${path} b/${path}`, 'new file mode 100644', '--- /dev/null', `+++ b/${path}`, '@@ -0,0 +1 @@', '+a guess', ''].join('\n');
}

function touchedPaths(diff: string): string[] {
  return [...new Set([...diff.matchAll(/^diff --git a\/(\S+) b\//gm)].map((match) => match[1]!))];
}

function offersBashTool(request: RecordedRequest): boolean {
  const tools: unknown = request.body?.tools;
  return Array.isArray(tools) && tools.some((tool) => tool?.function?.name === 'bash' || tool?.name === 'bash');
}

/** The system text, every string in the request, and how many assistant turns it carries (both wire formats). */
function conversation(request: RecordedRequest): { system: string; everything: string; assistantTurns: number } {
  const body = request.body ?? {};
  const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
  const system = [strings(body.system), ...messages.filter((m) => m?.role === 'system').map((m) => strings(m.content))].join('\n');
  return { system, everything: strings(body), assistantTurns: messages.filter((m) => m?.role === 'assistant').length };
}

function strings(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(strings).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(strings).join('\n');
  return '';
}
