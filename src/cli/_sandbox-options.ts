// The names alone, not the sandbox stage: `--help` and option parsing must not load the backends.
import { DEFAULT_SANDBOX, IMAGE_SANDBOXES, SANDBOX_NAMES, SANDBOX_SUMMARIES } from '../sandbox/_names.ts';

/** `--sandbox` (a name from the sandbox registry) and `--image`, for the commands that run code. */
export function sandboxOptions(what: string) {
  return {
    sandbox: {
      type: 'choice', choices: SANDBOX_NAMES, value: SANDBOX_NAMES.join('|'),
      description: `${what} (default ${DEFAULT_SANDBOX}): ${SANDBOX_NAMES.map((name) => `${name}, ${SANDBOX_SUMMARIES[name]}`).join('; ')}`,
    },
    image: {
      type: 'string', value: 'NAME',
      description: `Image for every instance under --sandbox ${IMAGE_SANDBOXES.join('|')}; {instance_id} is replaced by the instance's id (default: its image field, SWE-bench's naming, or bench-toolchain)`,
    },
  } as const;
}
