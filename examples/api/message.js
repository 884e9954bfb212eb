/** Edit this text while `devsup up` runs: the api restarts and answers with the new text. */
export const message = 'hello from the devsup example api';

/** The response body; `codeId` tells which build of the code answered. */
export function reply(codeId) {
  return `${message} (code ${codeId || 'unknown'})\n`;
}
