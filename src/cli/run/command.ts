import { Command, Option } from '../commander.js';
import { collect, parseDuration, parseExtList, parsePort, parseRegex, parseSignal } from '../parse.js';

export interface RunOptions {
  watch?: string[];
  ext?: string[];
  ignore?: string[];
  envFile?: string[];
  settle: number;
  grace: number;
  signal: NodeJS.Signals;
  clear: string[] | false | undefined;
  clearCmd?: string;
  clearSources?: boolean;
  onExit: 'wait' | 'restart' | 'quit';
  poll?: boolean;
  shell?: boolean;
  json?: boolean;
  verbose?: boolean;
  backend: 'auto' | 'inotify' | 'parcel' | 'chokidar';
  name: string;
  ready?: RegExp;
  readyPort?: number;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one command, restart its whole process tree when watched files change')
    .usage('[options] -- <command> [args...]')
    .argument('[command...]', 'the command and its arguments')
    .option('-w, --watch <path>', 'a file or directory to watch (repeatable; default: the current directory)', collect)
    .option('-e, --ext <list>', 'only files with these extensions count, e.g. py,ts (repeatable)', parseExtList)
    .option('-i, --ignore <glob>', 'ignore paths matching this glob (repeatable)', collect)
    .option('--env-file <path>', 'read variables from this .env file before every start; its edit restarts (repeatable; later files win)', collect)
    .addOption(new Option('--settle <duration>', 'quiet time before a burst of changes counts as one').argParser(parseDuration).default(100, '100ms'))
    .addOption(new Option('--grace <duration>', 'time between the stop signal and SIGKILL').argParser(parseDuration).default(3000, '3s'))
    .option('--signal <name>', 'signal that asks the tree to stop', parseSignal, 'SIGTERM' as NodeJS.Signals)
    .option('--clear <list>', 'caches to clear before each start: presets (python, pytest, node, vite, tsbuildinfo) or globs (repeatable)', collect)
    .option('--no-clear', 'clear no caches')
    .option('--clear-sources', 'let a --clear glob delete files that are also watched sources (refused otherwise)')
    .option('--clear-cmd <command>', 'a shell command that clears a cache kept elsewhere (e.g. "npx jest --clearCache")')
    .addOption(new Option('--on-exit <mode>', 'when the command exits by itself').choices(['wait', 'restart', 'quit']).default('wait'))
    .option('--ready <regex>', 'the child is ready once a line of its output matches (for wait-fresh)', parseRegex)
    .option('--ready-port <port>', 'the child is ready once it accepts TCP connections on this port of 127.0.0.1', parsePort)
    .option('--poll', 'poll for changes (for filesystems without change events)')
    .option('--shell', 'run the command through the shell (give it as one string)')
    .option('--json', 'print events as JSON lines instead of human output')
    .option('-v, --verbose', 'explain every step')
    .option('--name <name>', 'name of this supervisor, to run several in one project', 'default')
    .addOption(new Option('--backend <name>', 'watcher backend').choices(['auto', 'inotify', 'parcel', 'chokidar']).default('auto').hideHelp())
    .passThroughOptions()
    .action(async (command: string[], opts: RunOptions) => {
      // Loaded only when used, so `--version` and other commands start fast.
      const { runCommand } = await import('./action.js');
      process.exitCode = await runCommand(command, opts);
    });
}

