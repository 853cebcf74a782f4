import { shellWord } from '../shell.ts';
import { patchPaths } from './_patch-paths.ts';

/**
 * How SWE-bench itself runs the tests of its own repositories, for rows that carry no command
 * (the v4 rows of SWE-bench, Lite, Verified and Multimodal). Facts read from SWE-bench's
 * per-repository, per-version specifications and its repository-to-parser map, written here as
 * a table of our own: a test command per version range, the parser that reads its output, and
 * the test directives taken from the test patch.
 */
type RepoSpec = {
  /** SWE-bench's parser for the repository (its registry key). */
  swebenchParser: string;
  /** Ours for the same output; absent when bench has none that reads it the same way. */
  parser?: string;
  /** The command for a version; `'*'` stands for every version not listed before it. */
  commands: [versions: readonly string[] | '*', command: string][];
  /** Whether the command takes the test directives after it (every Python repository does). */
  directives: boolean;
  /** Django's runner takes dotted module names. */
  dottedModules?: boolean;
};

const PYTEST = 'pytest -rA';
const pytestRepo = (swebenchParser: string): RepoSpec => ({ swebenchParser, parser: 'pytest', commands: [['*', PYTEST]], directives: true });

const SPECS: Record<string, RepoSpec> = {
  'astropy/astropy': {
    swebenchParser: 'parse_log_astropy',
    parser: 'pytest',
    commands: [
      [['0.1', '0.2', '0.3', '0.4', '1.1', '1.2', '1.3'], 'pytest -rA -vv -o console_output_style=classic --tb=no'],
      ['*', PYTEST],
    ],
    directives: true,
  },
  'django/django': {
    swebenchParser: 'parse_log_django',
    parser: 'django',
    commands: [
      [['1.9'], './tests/runtests.py --verbosity 2'],
      ['*', './tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1'],
    ],
    directives: true,
    dottedModules: true,
  },
  'sympy/sympy': {
    swebenchParser: 'parse_log_sympy',
    parser: 'sympy',
    commands: [['*', "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"]],
    directives: true,
  },
  'sphinx-doc/sphinx': { swebenchParser: 'parse_log_sphinx', parser: 'pytest', commands: [['*', 'tox --current-env -epy39 -v --']], directives: true },
  'mwaskom/seaborn': { swebenchParser: 'parse_log_seaborn', parser: 'pytest', commands: [['*', 'pytest --no-header -rA']], directives: true },
  'matplotlib/matplotlib': pytestRepo('parse_log_matplotlib'),
  'scikit-learn/scikit-learn': pytestRepo('parse_log_scikit'),
  'pytest-dev/pytest': pytestRepo('parse_log_pytest'),
  'pydata/xarray': pytestRepo('parse_log_xarray'),
  'pallets/flask': pytestRepo('parse_log_flask'),
  'psf/requests': pytestRepo('parse_log_requests'),
  'pylint-dev/pylint': pytestRepo('parse_log_pylint'),
  'pylint-dev/astroid': pytestRepo('parse_log_astroid'),
  'marshmallow-code/marshmallow': pytestRepo('parse_log_marshmallow'),
  'pvlib/pvlib-python': pytestRepo('parse_log_pvlib'),
  'pydicom/pydicom': pytestRepo('parse_log_pydicom'),
  'pyvista/pyvista': pytestRepo('parse_log_pyvista'),
  'sqlfluff/sqlfluff': pytestRepo('parse_log_sqlfluff'),
  // SWE-bench Multimodal's JavaScript repositories run their whole suite, without directives.
  'diegomura/react-pdf': { swebenchParser: 'parse_log_react_pdf', commands: [[['1.0', '1.1', '1.2'], './node_modules/.bin/jest --no-color'], ['*', 'NODE_OPTIONS="--experimental-vm-modules" ./node_modules/.bin/jest --no-color']], directives: false },
  'markedjs/marked': { swebenchParser: 'parse_log_marked', commands: [['*', './node_modules/.bin/jasmine --no-color --config=jasmine.json']], directives: false },
  'chartjs/Chart.js': { swebenchParser: 'parse_log_chart_js', commands: [['*', './node_modules/.bin/cross-env NODE_ENV=test ./node_modules/.bin/karma start ./karma.conf.js --single-run --coverage --grep --auto-watch false']], directives: false },
  'processing/p5.js': { swebenchParser: 'parse_log_p5js', commands: [['*', 'stdbuf -o 1M ./node_modules/.bin/grunt test --quiet --force']], directives: false },
  'Automattic/wp-calypso': { swebenchParser: 'parse_log_calypso', commands: [['*', 'npm run test-client']], directives: false },
};

/**
 * SWE-bench's parser registry keys (what v5 rows name in `log_parser`) and ours for the same
 * output. Keys missing here have no parser of ours yet.
 */
const PARSER_EQUIVALENTS: Record<string, string> = {
  parse_log_pytest: 'pytest',
  parse_log_pytest_options: 'pytest',
  parse_log_pytest_v2: 'pytest',
  parse_log_astropy: 'pytest',
  parse_log_scikit: 'pytest',
  parse_log_sphinx: 'pytest',
  parse_log_seaborn: 'pytest',
  parse_log_matplotlib: 'pytest',
  parse_log_astroid: 'pytest',
  parse_log_flask: 'pytest',
  parse_log_marshmallow: 'pytest',
  parse_log_pvlib: 'pytest',
  parse_log_pyvista: 'pytest',
  parse_log_sqlfluff: 'pytest',
  parse_log_xarray: 'pytest',
  parse_log_pydicom: 'pytest',
  parse_log_requests: 'pytest',
  parse_log_pylint: 'pytest',
  parse_log_django: 'django',
  parse_log_sympy: 'sympy',
  parse_log_jest: 'jest-verbose',
  parse_log_vitest: 'vitest-verbose',
  parse_log_karma: 'karma',
  parse_log_tap: 'tap',
};

/** Paths SWE-bench leaves out of the test directives (its list; `csv` has no dot there). */
const NON_TEST_ENDINGS = ['.json', '.png', 'csv', '.txt', '.md', '.jpg', '.jpeg', '.pkl', '.yml', '.yaml', '.toml'];

export type SwebenchCommand = { test_cmd: string; log_parser?: string; swebenchParser: string; rule: string };

export function isSwebenchRepo(repo: string): boolean {
  return Object.hasOwn(SPECS, repo);
}

/** SWE-bench's own command for a row of one of its repositories, or undefined for any other repository. */
export function swebenchCommand(row: { repo: string; version: string; test_patch: string }): SwebenchCommand | undefined {
  const spec = SPECS[row.repo];
  if (!spec) return undefined;
  const chosen = spec.commands.find(([versions]) => versions === '*' || versions.includes(row.version))!;
  const directives = spec.directives ? testDirectives(row.test_patch, { dotted: spec.dottedModules === true }) : [];
  return {
    test_cmd: [chosen[1], ...directives.map(shellWord)].join(' '),
    log_parser: spec.parser,
    swebenchParser: spec.swebenchParser,
    rule: `SWE-bench's command for ${row.repo}${row.version ? ` ${row.version}` : ''}${spec.directives ? ' with the test patch\'s files as directives' : ''}`,
  };
}

/**
 * The test patch's files, as SWE-bench passes them to the test command: the new side of each
 * diff, data and documentation files left out; for Django, `tests/a/b.py` becomes `a.b`.
 */
export function testDirectives(testPatch: string, options: { dotted: boolean }): string[] {
  const paths = patchPaths(testPatch).filter((path) => !NON_TEST_ENDINGS.some((ending) => path.endsWith(ending)));
  if (!options.dotted) return paths;
  return paths.map((path) => path.replace(/\.py$/, '').replace(/^tests\//, '').replaceAll('/', '.'));
}

/** Our parser for a SWE-bench parser registry key, or undefined when bench has none. */
export function parserForSwebenchKey(key: string): string | undefined {
  return PARSER_EQUIVALENTS[key];
}

