/** What a key can ask for; the dashboard implements these by calling the api or moving views. */
export interface KeyActions {
  select(delta: number): void;
  focus(panel: 'list' | 'log'): void;
  restart(): void;
  restartAll(): void;
  toggleStop(): void;
  clearCaches(): void;
  scroll(how: 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'end'): void;
  /** Shows the prompt text, or hides the prompt with null. */
  prompt(text: string | null): void;
  search(query: string): void;
  searchNext(dir: 'older' | 'newer'): void;
  clearSearch(): void;
  help(show: boolean): void;
  /** Long log lines: wrapped onto more rows, or cut at the pane's edge. */
  toggleWrap(): void;
  /** Hands the mouse back to the terminal, so text can be selected and copied, and takes it again. */
  toggleMouse(): void;
  quit(): void;
}

/** The parts of blessed's key object that matter here. */
export interface KeyInfo {
  name?: string;
  full?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

/**
 * Turns key presses into actions. Modes stack simply: the help overlay swallows the next key, the
 * search prompt takes text until Enter or Esc, and otherwise the focused panel decides what the
 * arrows mean.
 */
export class KeyHandler {
  panel: 'list' | 'log' = 'list';
  query: string | null = null;
  helpShown = false;

  constructor(private readonly act: KeyActions) {}

  handle(ch: string | undefined, key: KeyInfo): void {
    const name = key.name ?? '';
    // blessed reports a carriage return twice, as `enter` and then as `return`.
    if (name === 'return') return;
    if (key.full === 'C-c') return this.act.quit();
    if (this.helpShown) {
      this.helpShown = false;
      return this.act.help(false);
    }
    if (this.query !== null) return this.promptKey(ch, key);

    switch (ch) {
      case 'q':
        return this.act.quit();
      case '?':
        this.helpShown = true;
        return this.act.help(true);
      case 'r':
        return this.act.restart();
      case 'a':
        return this.act.restartAll();
      case 's':
        return this.act.toggleStop();
      case 'c':
        return this.act.clearCaches();
      case '/':
        this.query = '';
        return this.act.prompt('');
      case 'n':
        return this.act.searchNext('older');
      case 'N':
        return this.act.searchNext('newer');
      case 'w':
        return this.act.toggleWrap();
      case 'm':
        return this.act.toggleMouse();
      case 'G':
        return this.act.scroll('end');
      case 'g':
        return this.act.scroll('top');
      default:
        break;
    }
    switch (name) {
      case 'pageup':
        return this.act.scroll('pageUp');
      case 'pagedown':
        return this.act.scroll('pageDown');
      case 'end':
        return this.act.scroll('end');
      case 'home':
        return this.act.scroll('top');
      case 'tab':
        return this.setPanel(this.panel === 'list' ? 'log' : 'list');
      default:
        break;
    }
    return this.panel === 'list' ? this.listKey(ch, name) : this.logKey(ch, name);
  }

  private setPanel(panel: 'list' | 'log'): void {
    this.panel = panel;
    this.act.focus(panel);
  }

  private listKey(ch: string | undefined, name: string): void {
    if (name === 'up' || ch === 'k') return this.act.select(-1);
    if (name === 'down' || ch === 'j') return this.act.select(1);
    if (name === 'enter' || name === 'linefeed' || name === 'right') return this.setPanel('log');
  }

  private logKey(ch: string | undefined, name: string): void {
    if (name === 'up' || ch === 'k') return this.act.scroll('up');
    if (name === 'down' || ch === 'j') return this.act.scroll('down');
    if (name === 'escape' || name === 'left') {
      this.act.clearSearch();
      return this.setPanel('list');
    }
  }

  private promptKey(ch: string | undefined, key: KeyInfo): void {
    const name = key.name ?? '';
    const q = this.query ?? '';
    if (name === 'escape') {
      this.query = null;
      return this.act.prompt(null);
    }
    if (name === 'enter' || name === 'linefeed') {
      this.query = null;
      this.act.prompt(null);
      if (q === '') return;
      // Matches are shown in the log, so n/N and the arrows should move through it next.
      if (this.panel !== 'log') this.setPanel('log');
      return this.act.search(q);
    }
    if (name === 'backspace') {
      this.query = q.slice(0, -1);
      return this.act.prompt(this.query);
    }
    if (key.full === 'C-u') {
      this.query = '';
      return this.act.prompt('');
    }
    if (ch && !key.ctrl && !key.meta && ch >= ' ' && ch !== '\x7f') {
      this.query = q + ch;
      return this.act.prompt(this.query);
    }
  }
}
