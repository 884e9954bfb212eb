import type { Command, Option } from './commander.js';

/**
 * Shell completion scripts written from commander's own command tree, so they never drift from
 * the real options: command names, each command's long options (with whether they take a value),
 * files for arguments. Static scripts, because a completion that starts node on every Tab press
 * costs a tenth of a second each time; the libraries that fit commander do exactly that.
 */
export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

interface Cmd {
  name: string;
  summary: string;
  options: Array<{ flag: string; short?: string; summary: string; takesValue: boolean }>;
}

function model(program: Command): Cmd[] {
  return program.commands
    .filter((c) => c.name() !== 'help')
    .map((c) => ({
      name: c.name(),
      summary: c.description().split('\n')[0] ?? '',
      options: [...c.options.filter((o: Option) => !o.hidden && o.long), helpOption()].map((o) => ({
        flag: o.long!,
        short: o.short ?? undefined,
        summary: o.description,
        takesValue: o.required || o.optional,
      })),
    }));
}

function helpOption(): Pick<Option, 'long' | 'short' | 'description' | 'required' | 'optional' | 'hidden'> {
  return { long: '--help', short: '-h', description: 'display help for command', required: false, optional: false, hidden: false };
}

export function completionScript(program: Command, shell: Shell): string {
  const cmds = model(program);
  const name = program.name();
  if (shell === 'bash') return bash(name, cmds);
  if (shell === 'zsh') return zsh(name, cmds);
  return fish(name, cmds);
}

function bash(name: string, cmds: Cmd[]): string {
  const fn = `_${name.replace(/\W/g, '_')}_complete`;
  const cases = cmds.map((c) => {
    const flags = c.options.flatMap((o) => (o.short ? [o.short, o.flag] : [o.flag])).join(' ');
    const valued = c.options.filter((o) => o.takesValue).flatMap((o) => (o.short ? [o.short, o.flag] : [o.flag]));
    return `    ${c.name}) opts="${flags}"; valued="${valued.join(' ')}" ;;`;
  });
  return `# ${name} completion for bash: eval "$(${name} completion bash)" in ~/.bashrc
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} opts="" valued=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${cmds.map((c) => c.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
  # After an option that takes a value, offer files; otherwise options once a dash is typed.
  case " $valued " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o filenames -F ${fn} ${name}
`;
}

/** Text inside a single-quoted zsh `_arguments` spec: no quotes, no brackets, no colons. */
function zq(s: string): string {
  return s.replace(/'/g, '').replace(/[[\]]/g, '').replace(/:/g, ' -');
}

function zsh(name: string, cmds: Cmd[]): string {
  const fn = `_${name.replace(/\W/g, '_')}`;
  const list = cmds.map((c) => `    '${c.name}:${zq(c.summary)}'`);
  const cases = cmds.map((c) => {
    const specs = c.options.map((o) => `'${o.flag}[${zq(o.summary)}]${o.takesValue ? ':value:_files' : ''}'`);
    return `    ${c.name}) _arguments -s ${specs.join(' ')} '*:file:_files' ;;`;
  });
  return `#compdef ${name}
# ${name} completion for zsh: eval "$(${name} completion zsh)" in ~/.zshrc (after compinit)
${fn}() {
  local -a cmds
  cmds=(
${list.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' cmds
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join('\n')}
  esac
}
compdef ${fn} ${name}
`;
}

function fish(name: string, cmds: Cmd[]): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [`# ${name} completion for fish: ${name} completion fish > ~/.config/fish/completions/${name}.fish`, `complete -c ${name} -f`];
  for (const c of cmds) lines.push(`complete -c ${name} -n __fish_use_subcommand -a ${c.name} -d ${q(c.summary)}`);
  for (const c of cmds) {
    for (const o of c.options) {
      const short = o.short ? ` -s ${o.short.replace(/^-/, '')}` : '';
      lines.push(`complete -c ${name} -n ${q(`__fish_seen_subcommand_from ${c.name}`)} -l ${o.flag.replace(/^--/, '')}${short}${o.takesValue ? ' -r -F' : ''} -d ${q(o.summary)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
