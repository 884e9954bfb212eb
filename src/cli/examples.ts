import type { Command } from './commander.js';

/** Two or three real uses per command, shown at the end of its --help. */
const EXAMPLES: Record<string, string[]> = {
  run: [
    'devsup run -- node server.js',
    'devsup run --ext py --env-file .env -- python3 app.py',
    "devsup run --shell --grace 10s -- 'npm run build && node dist/main.js'",
  ],
  up: ['devsup up', 'devsup up --no-tui --config dev.config.json', 'devsup up --json > events.jsonl'],
  init: ['devsup init', 'devsup init --config dev.config.json --force'],
  status: ['devsup status', 'devsup status --json | jq .workers'],
  'wait-fresh': ['devsup wait-fresh && curl localhost:3000', 'devsup wait-fresh api --timeout 1m'],
  restart: ['devsup restart', 'devsup restart api worker'],
  stop: ['devsup stop worker', 'devsup stop api --name e2e'],
  start: ['devsup start worker', 'devsup start api --name e2e'],
  logs: ['devsup logs api', 'devsup logs -f -n 50 worker'],
  hold: ['devsup hold -- npx prettier --write .', "devsup hold -- sh -c 'git checkout feature && npm install'"],
  events: ['devsup events', "devsup events | grep '\"type\":\"stale\"'"],
  ps: ['devsup ps', 'devsup ps --kill'],
  doctor: ['devsup doctor', 'devsup doctor ~/src/app --json'],
  clean: ['devsup clean --dry-run', 'devsup clean --clear python'],
  flake: ['devsup flake -n 100 -- pytest -x tests/test_api.py', 'devsup flake --until-fail -j 4 -- npm test'],
  history: ['devsup history', 'devsup history tests -n 5'],
  completion: ['devsup completion bash >> ~/.bashrc', 'devsup completion fish > ~/.config/fish/completions/devsup.fish'],
};

export function addExamples(program: Command): void {
  for (const cmd of program.commands) {
    const list = EXAMPLES[cmd.name()];
    if (list) cmd.addHelpText('after', `\nExamples:\n${list.map((e) => `  $ ${e}`).join('\n')}`);
  }
}

/** Commands that have examples, for the test that keeps the list complete. */
export const EXAMPLE_COMMANDS = Object.keys(EXAMPLES);
