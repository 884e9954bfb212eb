// Everything the benchmark knows about processes comes from /proc, so it sees what the kernel
// sees (orphans reparented away from a tool, zombies nobody reaped) rather than what a tool reports.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond;
/** utime/stime are in clock ticks; almost always 100, but asked rather than assumed. */
export function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** One /proc/<pid>/stat row, or undefined once the pid is gone. */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses; the fields after the last ')' are fixed.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  return {
    pid,
    comm,
    state: f[0],
    ppid: Number(f[1]),
    pgid: Number(f[2]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    start: f[19],
  };
}

/** Zombies and dead entries have released everything: they count as gone. */
export function isLive(stat) {
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** True while the very process identified by pid and start time still runs (a reused pid does not count). */
export function aliveId(id) {
  const s = readStat(id.pid);
  return isLive(s) && s.start === id.start;
}

export function allPids() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    const n = Number(name);
    if (Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

export function procTable() {
  const rows = [];
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (s) rows.push(s);
  }
  return rows;
}

/** The root and every live descendant by parent pid. */
export function treeOf(rootPid, table = procTable()) {
  const kids = new Map();
  for (const r of table) {
    if (!isLive(r)) continue;
    const list = kids.get(r.ppid);
    if (list) list.push(r);
    else kids.set(r.ppid, [r]);
  }
  const root = table.find((r) => r.pid === rootPid && isLive(r));
  if (!root) return [];
  const out = [];
  const todo = [root];
  while (todo.length > 0) {
    const r = todo.pop();
    out.push(r);
    todo.push(...(kids.get(r.pid) ?? []));
  }
  return out;
}

/**
 * CPU time used so far by each thread of `pids`, in seconds, keyed by pid/tid. The scheduler's own
 * nanosecond count (task/TID/schedstat) where the kernel keeps one: utime and stime are sampled at
 * clock ticks, and a process that wakes for a millisecond now and then is charged a whole tick or
 * nothing, which over 20 s of idling is noise of about the size of what is measured.
 */
export function cpuSample(pids) {
  const out = new Map();
  for (const pid of pids) {
    if (!existsSync(`/proc/${pid}/schedstat`)) {
      const st = readStat(pid);
      if (st) out.set(`${pid}`, (st.utime + st.stime) / clockTicks());
      continue;
    }
    let tids;
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tids) {
      try {
        out.set(`${pid}/${tid}`, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9);
      } catch {
        // the thread ended since the listing
      }
    }
  }
  return out;
}

/** Seconds of CPU between two samples. A thread that ended in between takes its share with it. */
export function cpuBetween(before, after) {
  let s = 0;
  for (const [k, v] of after) s += v - (before.get(k) ?? 0);
  return s;
}

/** VmRSS and VmHWM (peak) in kB. */
export function memoryKb(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(text);
    const hwm = /VmHWM:\s+(\d+)/.exec(text);
    return { rss: rss ? Number(rss[1]) : 0, hwm: hwm ? Number(hwm[1]) : 0 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

export function identify(pid) {
  const s = readStat(pid);
  return s && isLive(s) ? { pid, start: s.start } : undefined;
}

/** Signals only the process that was recorded, never whoever holds its pid now. */
export function signalId(id, sig) {
  if (!aliveId(id)) return false;
  try {
    process.kill(id.pid, sig);
    return true;
  } catch {
    return false;
  }
}

export function signalGroup(pgid, sig) {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

export function cpuInfo() {
  let model = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    // not Linux: the benchmark refuses to run anyway
  }
  return model;
}
