import type { NativeConnection } from '@temporalio/worker';
import { BATCH_SEARCH_ATTRIBUTES } from './shared/searchAttributes';

/** proto `temporal.api.enums.v1.IndexedValueType` values of the types our attributes use. */
const INDEXED: Record<string, number> = { Keyword: 2, Int: 3 };

/** gRPC status codes meaning "not allowed here" (Temporal Cloud's data plane, a restricted API key). */
const PERMISSION_DENIED = 7;
const UNIMPLEMENTED = 12;
const notAllowed = (err: unknown) => [PERMISSION_DENIED, UNIMPLEMENTED].includes((err as { code?: number }).code ?? -1);

type OperatorService = Pick<NativeConnection['operatorService'], 'listSearchAttributes' | 'addSearchAttributes'>;

export class SearchAttributeSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchAttributeSetupError';
  }
}

/** The commands that register what is missing, for an operator to run where the worker may not. */
export function registerCommands(namespace: string, names: string[]): string {
  const attrs = BATCH_SEARCH_ATTRIBUTES as Record<string, string>;
  const flags = names.map((n) => `--name ${n} --type ${attrs[n]}`).join(' ');
  return (
    `temporal operator search-attribute create --namespace ${namespace} ${flags}` +
    ` (Temporal Cloud: tcld namespace search-attributes add -n ${namespace} ${names.map((n) => `--sa '${n}=${attrs[n]}'`).join(' ')}, or the Cloud UI)`
  );
}

/**
 * A run whose workflow upserts a search attribute the namespace lacks fails its workflow task
 * (and retries it forever), so the worker checks before it polls: it registers missing ones
 * through the operator service where it may (a dev server, a self-hosted cluster), and otherwise
 * stops with the command an operator must run.
 */
export async function ensureBatchSearchAttributes(operator: OperatorService, namespace: string, log: (line: string) => void = console.log): Promise<void> {
  let missing: string[];
  try {
    missing = await missingAttributes(operator, namespace);
  } catch (err) {
    if (!notAllowed(err)) throw err;
    // Cannot even look: start anyway (they may well be there), but say what a failing run would need.
    log(`could not list the search attributes of namespace ${namespace} (${(err as Error).message}); if runs fail their workflow tasks naming one, run: ${registerCommands(namespace, Object.keys(BATCH_SEARCH_ATTRIBUTES))}`);
    return;
  }
  if (missing.length === 0) return;
  const searchAttributes = Object.fromEntries(missing.map((n) => [n, INDEXED[(BATCH_SEARCH_ATTRIBUTES as Record<string, string>)[n]]]));
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    const why = notAllowed(err) ? 'this worker may not register them' : `registering them failed (${(err as Error).message})`;
    throw new SearchAttributeSetupError(
      `namespace ${namespace} lacks the search attributes ${missing.join(', ')} that batch runs set, and ${why}. Register them, then start the worker again: ${registerCommands(namespace, missing)}`,
    );
  }
  // Registration is asynchronous on some servers: wait until they are listed.
  for (let i = 0; i < 60; i++) {
    if ((await missingAttributes(operator, namespace)).length === 0) {
      log(`registered search attributes ${missing.join(', ')} in namespace ${namespace}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new SearchAttributeSetupError(`registered ${missing.join(', ')} in namespace ${namespace}, but they are still not listed after 30 s`);
}

async function missingAttributes(operator: OperatorService, namespace: string): Promise<string[]> {
  const res = await operator.listSearchAttributes({ namespace });
  const have = res.customAttributes ?? {};
  const missing: string[] = [];
  for (const [name, type] of Object.entries(BATCH_SEARCH_ATTRIBUTES)) {
    const existing = have[name];
    if (existing === undefined || existing === null) missing.push(name);
    else if (Number(existing) !== INDEXED[type]) {
      throw new SearchAttributeSetupError(
        `search attribute ${name} exists in namespace ${namespace} with indexed type ${existing}, but batch runs set it as ${type}; ` +
          `remove it (temporal operator search-attribute remove --namespace ${namespace} --name ${name}) and register it again: ${registerCommands(namespace, [name])}`,
      );
    }
  }
  return missing;
}
