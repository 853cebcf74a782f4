import { DEFAULT_SANDBOX, SANDBOXES, SANDBOX_NAMES, imageSandboxes } from '../sandbox/index.ts';

/** `--sandbox` (a name from the sandbox registry) and `--image`, for the commands that run code. */
export function sandboxOptions(what: string) {
  return {
    sandbox: {
      type: 'choice', choices: SANDBOX_NAMES, value: SANDBOX_NAMES.join('|'),
      description: `${what} (default ${DEFAULT_SANDBOX}): ${SANDBOX_NAMES.map((name) => `${name}, ${SANDBOXES[name].summary}`).join('; ')}`,
    },
    image: {
      type: 'string', value: 'NAME',
      description: `Image for every instance under --sandbox ${imageSandboxes().join('|')}; {instance_id} is replaced by the instance's id (default: its image field, SWE-bench's naming, or bench-toolchain)`,
    },
  } as const;
}
