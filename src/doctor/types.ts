export type CheckName =
  | 'stale-bytecode'
  | 'orphan-bytecode'
  | 'future-mtime'
  | 'clock-skew'
  | 'unreliable-fs'
  | 'watch-limit'
  | 'state-link';

/**
 * `hazard`: the evidence shows code running stale (or about to). `info`: a risk that cannot be
 * proven from here, or litter; worth reading, not worth failing over.
 */
export type Severity = 'hazard' | 'info';

export interface Finding {
  check: CheckName;
  severity: Severity;
  file?: string;
  evidence: string;
  fix: string;
}
