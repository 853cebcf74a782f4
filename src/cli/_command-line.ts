import { LLM_KEYS, isSecretKey, maskUrlsIn } from '../config/index.ts';
import { shellWord } from '../shell.ts';

/** The command that resumes a run, `--run-id` set to it, shell-quoted and runnable as printed. */
export function resumeArgs(argv: string[], runId: string): string {
  const args = [...argv];
  const at = args.findIndex((a) => a === '--run-id' || a.startsWith('--run-id='));
  if (at >= 0) args.splice(at, args[at] === '--run-id' ? 2 : 1);
  // Quoted for a POSIX shell, so `--filter 'a|b'` pastes back as it was typed.
  return [...args, '--run-id', runId].map(shellWord).join(' ');
}

/** `--set api_key=...` (either spelling) and any unknown key's value are masked before the command line is stored or printed. */
export function withoutSecretFlags(argv: string[]): string[] {
  const mask = (pair: string) => {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : pair;
    return eq > 0 && (isSecretKey(key) || !(LLM_KEYS as string[]).includes(key)) ? `${pair.slice(0, eq + 1)}***` : maskUrlsIn(pair);
  };
  return argv.map((arg, index) => {
    if (arg.startsWith('--set=')) return `--set=${mask(arg.slice('--set='.length))}`;
    // A credential inside a URL (a --queue redis://:password@host) is masked too.
    return argv[index - 1] === '--set' ? mask(arg) : maskUrlsIn(arg);
  });
}
