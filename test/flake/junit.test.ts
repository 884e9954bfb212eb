import { describe, expect, it } from 'vitest';
import { JunitError, parseJunit } from '../../src/flake/junit.js';
import { planJunit, runsNodeTest, runsPytest } from '../../src/flake/junit-plan.js';

describe('parseJunit', () => {
  it('vitest shape: file as suite and classname, describe path in the name', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="2" failures="1" errors="0">
  <testsuite name="test/a.test.ts" tests="2" failures="1">
    <testcase classname="test/a.test.ts" name="cart &gt; adds items" time="0.01"/>
    <testcase classname="test/a.test.ts" name="cart &gt; totals" time="0.01">
      <failure message="expected 3 to be 4" type="AssertionError">AssertionError: expected 3 to be 4
 ❯ test/a.test.ts:9:20</failure>
    </testcase>
  </testsuite>
</testsuites>`;
    expect(parseJunit(xml)).toEqual([
      { id: 'test/a.test.ts > cart > adds items', outcome: 'passed' },
      { id: 'test/a.test.ts > cart > totals', outcome: 'failed', message: 'expected 3 to be 4' },
    ]);
  });

  it('jest-junit shape, an <error>, a message only in the text, and a skip', () => {
    const xml = `<testsuites name="jest tests"><testsuite name="api" tests="3">
  <testcase classname="api retries" name="api retries" time="0.2"><error>
    TypeError: fetch failed
      at x.js:1</error></testcase>
  <testcase classname="api parses" name="api parses"><failure/></testcase>
  <testcase classname="api later" name="api later"><skipped/></testcase>
</testsuite></testsuites>`;
    expect(parseJunit(xml)).toEqual([
      { id: 'api > api retries', outcome: 'failed', message: 'TypeError: fetch failed' },
      { id: 'api > api parses', outcome: 'failed' },
      { id: 'api > api later', outcome: 'skipped' },
    ]);
  });

  it('a single <testsuite> root, numeric entities, and a message bounded to one line', () => {
    const long = 'x'.repeat(400);
    const xml = `<testsuite name="pytest"><testcase classname="t" name="a"><failure message="first&#10;second"/></testcase><testcase classname="t" name="b"><failure message="${long}"/></testcase></testsuite>`;
    const [a, b] = parseJunit(xml);
    expect(a).toEqual({ id: 't::a', outcome: 'failed', message: 'first' });
    expect(b!.message).toHaveLength(300);
  });

  it('refuses what is not a report: cut short, not XML, another document', () => {
    expect(() => parseJunit('<testsuites><testcase name="a">')).toThrow(JunitError);
    expect(() => parseJunit('not xml at all')).toThrow(JunitError);
    expect(() => parseJunit('<html><body/></html>')).toThrow(/no <testsuites>/);
    expect(parseJunit('<testsuites/>')).toEqual([]);
  });
});

describe('planJunit', () => {
  const base = { cwd: '/p', dir: '/p/.devsup/flake/s/junit', env: {} };

  it('recognises pytest in its usual spellings, and node --test only as node options', () => {
    for (const c of [['pytest'], ['/venv/bin/pytest', '-x'], ['python3', '-m', 'pytest'], ['python3.11', '-m', 'pytest', 'tests']]) {
      expect(runsPytest(c), c.join(' ')).toBe(true);
    }
    expect(runsPytest('cd api && pytest -q')).toBe(true);
    expect(runsPytest(['python3', 'pytest.py'])).toBe(false);
    expect(runsPytest(['echo', 'pytest'])).toBe(false);
    expect(runsNodeTest(['node', '--test'])).toBe(true);
    expect(runsNodeTest(['node', '--enable-source-maps', '--test', 'a.test.js'])).toBe(true);
    // After the script, --test is the script's argument.
    expect(runsNodeTest(['node', 'script.js', '--test'])).toBe(false);
    expect(runsNodeTest('node --test')).toBe(false);
  });

  it('pytest: --junitxml through PYTEST_ADDOPTS, added to what the user had, quoted for shlex', () => {
    const r = planJunit({ ...base, dir: "/p/it's here", command: ['pytest', '--', 'x'], env: { PYTEST_ADDOPTS: '-p no:cacheprovider' } });
    expect(r.plan?.kind).toBe('pytest');
    expect(r.plan!.commandFor(4)).toEqual({
      command: ['pytest', '--', 'x'],
      env: { PYTEST_ADDOPTS: `-p no:cacheprovider --junitxml='/p/it'"'"'s here/run-4.xml'` },
    });
    expect(r.plan!.pathFor(4)).toBe("/p/it's here/run-4.xml");
  });

  it('node --test: junit and spec reporters inserted before the node options', () => {
    const r = planJunit({ ...base, command: ['node', '--test', 'a.test.mjs'] });
    expect(r.plan!.commandFor(2).command).toEqual([
      'node',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=junit',
      '--test-reporter-destination=/p/.devsup/flake/s/junit/run-2.xml',
      '--test',
      'a.test.mjs',
    ]);
  });

  it('leaves a command alone that writes its own report, and ignores other commands', () => {
    expect(planJunit({ ...base, command: ['pytest', '--junitxml=r.xml'] })).toEqual({ plan: null, note: expect.stringContaining('--junit PATH') });
    expect(planJunit({ ...base, command: ['npm', 'test'] })).toEqual({ plan: null });
  });

  it('--junit PATH: {run} makes one file per run; without it the runs share one', () => {
    const per = planJunit({ ...base, command: ['npx', 'vitest', 'run'], given: 'out/r-{run}.xml' }).plan!;
    expect([per.pathFor(7), per.sharedPath]).toEqual(['/p/out/r-7.xml', false]);
    const shared = planJunit({ ...base, command: ['npx', 'vitest', 'run'], given: 'r.xml' }).plan!;
    expect([shared.pathFor(7), shared.sharedPath, shared.kind]).toEqual(['/p/r.xml', true, 'given']);
  });
});
