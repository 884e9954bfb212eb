/**
 * Files editors write next to the file being edited: swap files, backups, locks and the temps of an
 * atomic save. None of them is code, and counting them restarts a server the moment a file is opened
 * in vim. They are left out by default; naming such a file as a root still watches it.
 */
const PATTERNS: readonly RegExp[] = [
  // vim swap files (.x.swp, then .swo, .swn … when one exists; .swx is the probe for a writable dir).
  /\.sw[a-px]$/,
  // vim/emacs backups and vim undo files (x~, .x.un~).
  /~$/,
  // emacs autosave (#x#) and lock links (.#x).
  /^#.*#$/,
  /^\.#/,
  // JetBrains "safe write": the new content goes to x___jb_tmp___, the old is kept as x___jb_old___.
  /___jb_(tmp|old|bak)___$/,
  // kate swap, gedit/GIO atomic save, LibreOffice locks, Chrome's file-system-access swap.
  /\.kate-swp$/,
  /^\.goutputstream-/,
  /^\.~lock\..*#$/,
  /\.crswap$/,
];

/** vim checks a directory is writable by creating the file 4913 (then 5036, 5159 … if that exists). */
function isVimProbe(name: string): boolean {
  if (!/^\d{4,5}$/.test(name)) return false;
  const n = Number(name);
  return n >= 4913 && (n - 4913) % 123 === 0 && n < 4913 + 123 * 100;
}

/** Whether a file's base name is an editor's swap, backup, lock or atomic-save temp. */
export function isEditorTemp(name: string): boolean {
  return isVimProbe(name) || PATTERNS.some((p) => p.test(name));
}
