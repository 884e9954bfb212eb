// The one walk up to a project's state directory lives in state/.
export { findStateDir, stateDirFor } from '../../state/paths.js';
