import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export class UnknownPromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownPromptError';
  }
}

/** Reads `templates/<promptId>.txt`; the id pattern is checked before, so no path escapes the folder. */
export async function loadPromptTemplate(templatesDir: string, promptId: string): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(promptId)) throw new UnknownPromptError(`bad prompt id "${promptId}"`);
  try {
    return (await readFile(join(templatesDir, `${promptId}.txt`), 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const known = (await readdir(templatesDir)).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4));
    throw new UnknownPromptError(`no template for prompt id "${promptId}" in ${templatesDir} (known: ${known.sort().join(', ')})`);
  }
}
