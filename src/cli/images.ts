import Table from 'cli-table3';
import { TASK_SOURCE_OPTIONS, taskSource } from './_task-source.ts';
import { defineCommand, printJson } from './_command.ts';
import { JSON_OPTION } from './_options.ts';
import { UserError } from '../errors.ts';
import { loadTaskSet, selectInstances } from '../tasks/index.ts';
import { imageBackend, imagesOf } from '../runner/index.ts';
import { TOOLCHAIN_IMAGE, imageSandboxes } from '../sandbox/index.ts';

export default defineCommand(
  {
    name: 'images',
    summary: 'List the container images a suite or dataset needs and which are present locally; build the toolchain image for suites that bring none.',
    usage: 'bench images check [--suite NAME | --dataset FILE --repos-dir DIR] [--instances ids] [--image NAME] [--sandbox docker|podman] [--json] | build [--tag NAME] [--base IMAGE] [--sandbox docker|podman]',
    options: {
      ...TASK_SOURCE_OPTIONS,
      instances: { type: 'list', value: 'ids', description: 'check: only these instance ids' },
      image: { type: 'string', value: 'NAME', description: 'check: the --image a run would get ({instance_id} filled in)' },
      sandbox: { type: 'choice', choices: imageSandboxes(), value: imageSandboxes().join('|'), description: 'Engine to ask (default docker, else podman if only it is installed)' },
      tag: { type: 'string', value: 'NAME', description: 'build: name of the image (default bench-toolchain:node24-python3)' },
      base: { type: 'string', value: 'IMAGE', description: 'build: base image with Node 24 (default node:24-bookworm-slim; pulled by the engine)' },
      ...JSON_OPTION,
    },
    positionals: { min: 1, max: 1, names: 'check|build' },
  },
  async ({ values, positionals }) => {
    const [action] = positionals;
    if (action !== 'check' && action !== 'build') throw new UserError(`bench images: unknown action \`${action}\`; use \`check\` or \`build\`.`);
    const { name, backend } = await imageBackend(values.sandbox);
    if (action === 'build') {
      process.stderr.write(`building with ${name} (this pulls the base image and may take minutes)...\n`);
      const tag = await backend.images!.build({ tag: values.tag, base: values.base });
      process.stdout.write(tag === TOOLCHAIN_IMAGE
        ? `built ${tag}: \`bench run --sandbox ${name}\` uses it for suites that bring no image (the built-in one)\n`
        : `built ${tag}: use it with \`bench run --sandbox ${name} --image ${tag}\`\n`);
      return 0;
    }
    const taskSet = await loadTaskSet(taskSource(values));
    const instances = selectInstances(taskSet, { ids: values.instances });
    const statuses = await backend.images!.check(imagesOf(instances, values.image));
    const missing = statuses.filter((s) => !s.present);
    if (values.json) printJson({ engine: name, images: statuses });
    else {
      const table = new Table({ head: ['image', 'present', 'instances'], style: { head: [], border: [] } });
      for (const s of statuses) table.push([s.image, s.present ? 'yes' : 'no', s.instances.length > 3 ? `${s.instances.slice(0, 3).join(', ')} and ${s.instances.length - 3} more` : s.instances.join(', ')]);
      process.stdout.write(`${table.toString()}\n`);
      if (missing.length) {
        const pulled = missing.filter((s) => s.image !== TOOLCHAIN_IMAGE);
        const fixes = [
          ...(pulled.length ? [`pull ${pulled.length === 1 ? 'it' : 'them'} (${pulled.slice(0, 2).map((s) => `\`${name} pull ${s.image}\``).join(', ')}${pulled.length > 2 ? ', ...' : ''})`] : []),
          ...(pulled.length < missing.length ? ['build the toolchain image with `bench images build`'] : []),
          'or name another with --image',
        ];
        process.stdout.write(`${missing.length} of ${statuses.length} images missing in ${name}: ${fixes.join(', ')}.\n`);
      }
    }
    return missing.length ? 1 : 0;
  },
);
