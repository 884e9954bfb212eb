import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rig, dashboardModule } from './rig.js';

let module: string;
const rigs: Rig[] = [];

beforeAll(() => {
  module = dashboardModule();
}, 120_000);

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function open(opts: ConstructorParameters<typeof Rig>[1] = {}): Promise<Rig> {
  const rig = new Rig(module, opts);
  rigs.push(rig);
  await rig.ready();
  await rig.waitScreen('unit', 'the worker list');
  return rig;
}

async function quit(rig: Rig): Promise<number> {
  rig.press('q');
  const { exitCode } = await rig.exit;
  await rig.flush();
  return exitCode;
}

describe('dashboard: everyday cases', () => {
  it('says when a child loops on its own files, with the --ignore that fixes it', async () => {
    const rig = await open({ cols: 160 });
    await rig.send({ op: 'event', event: { type: 'loop', worker: 'api', files: ['logs/app.log'], generations: 5, ignore: ['logs/app.log'] } });
    await rig.waitScreen(/api: restart loop on logs\/app\.log: no longer watched; fix: --ignore logs\/app\.log/, 'the loop on the status line');
    // The log pane keeps it after the status line has moved on.
    await rig.waitScreen(/── restart loop: logs\/app\.log changed right after each of 5 starts/, 'the loop in the log');
    expect(await quit(rig)).toBe(0);
  });

  it('falls back to ASCII symbols without a UTF-8 locale, so pass and fail stay apart', async () => {
    const rig = await open({ env: { LC_ALL: '', LC_CTYPE: '', LANG: 'C' } });
    await rig.waitScreen(/^\^v select {2}Enter log {2}r restart/m, 'the key help in ASCII');
    const text = rig.text();
    expect(text).toMatch(/unit\s+passed 1\.2s\s+fresh.*\+x\+-\+/);
    expect(text).not.toMatch(/[✔✘⊘↻⏎↑↓›·…]/);
    await rig.send({ op: 'event', event: { type: 'loop', worker: 'api', files: ['app.log'], generations: 5, ignore: ['app.log'] } });
    await rig.waitScreen(/-- restart loop: app\.log changed/, 'the log note in ASCII');
    rig.press('?');
    await rig.waitScreen(/\^ v {2}j k {5}select a worker/, 'the help in ASCII');
    rig.press('x');
    await rig.waitScreen((t) => !t.includes('select a worker'), 'the help closed');
    expect(await quit(rig)).toBe(0);
  });

  it('keeps an invalid config edit on screen as a banner until the file is valid again', async () => {
    const rig = await open({ cols: 120, rows: 30 });
    const problems = ['workers[0].grace (line 4, column 7): expected a duration (500, 500ms, 2s, 1m), got "soon"', 'workers[1].cmd (line 9, column 5): required'];
    await rig.send({ op: 'event', event: { type: 'config-check', file: '/p/devsup.config.json', problems } });
    await rig.waitScreen(/devsup\.config\.json: not applied, the running set differs from the file/, 'the banner');
    expect(rig.text()).toContain(problems[0]);
    expect(rig.text()).toContain(problems[1]);
    // Other messages come and go on the status line; the banner stays.
    await rig.send({ op: 'event', event: { type: 'warning', message: 'something else' } });
    await rig.waitScreen('something else');
    expect(rig.text()).toContain('not applied');
    // The log pane gave up the rows and the boxes still fit the screen.
    expect(rig.lines().filter((l) => l.startsWith('┌')).length).toBe(3);
    await rig.send({ op: 'event', event: { type: 'config-check', file: '/p/devsup.config.json', problems: [] } });
    await rig.waitScreen((t) => !t.includes('not applied') && t.includes('config valid again'), 'the banner gone');
    expect(rig.lines().filter((l) => l.startsWith('┌')).length).toBe(2);
    expect(await quit(rig)).toBe(0);
  });

  it('wraps long log lines on w and cuts them again', async () => {
    const rig = await open({ cols: 80, rows: 24 });
    await rig.send({ op: 'lines', worker: 'api', lines: [`start of a long line ${'x'.repeat(150)} END`, 'the last line'] });
    await rig.waitScreen('the last line');
    expect(rig.text()).not.toContain('END');
    rig.press('\t');
    rig.press('w');
    await rig.waitScreen((t) => t.includes('x END') && t.includes('wrap (w cuts)'), 'the line wrapped');
    // Every row of the wrapped line stays inside the box.
    expect(rig.lines().every((l) => l.length <= 80)).toBe(true);
    rig.press('w');
    await rig.waitScreen((t) => !t.includes('END') && t.includes('cut at the edge'), 'cut again');
    expect(await quit(rig)).toBe(0);
  });

  it('releases the mouse on m so text can be selected, and takes it back', async () => {
    const rig = await open();
    await rig.waitScreen(() => rig.mouseReporting === true, 'mouse reporting on at start');
    rig.press('m');
    await rig.waitScreen((t) => t.includes('mouse released: select text to copy it') && rig.mouseReporting === false, 'the mouse released');
    rig.press('m');
    await rig.waitScreen((t) => t.includes('mouse taken back') && rig.mouseReporting === true, 'the mouse taken back');
    expect(await quit(rig)).toBe(0);
  });
});
