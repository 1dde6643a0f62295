import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ModelIdentifier, parseModelIdentifier } from './modelIdentifier';
import type { InvocationType } from './types';

/** One row of config/batch-models.json (see its `about`). */
export interface CatalogModel {
  modelId: string;
  name: string;
  provider: string;
  inputModalities: string[];
  outputModalities: string[];
  streaming: boolean;
  /** The InvokeModel request body the model takes, e.g. `mistral-chat-completion`. */
  requestFormat: string;
  /** The family in registry.ts whose adapter writes that body; null when none does. */
  adapter: string | null;
  /** The model takes Converse requests, so a Converse batch job can serve it. */
  converse: boolean;
  /** Geography prefixes of the system-defined cross-Region profiles that exist for it (`us`, `eu`, …). */
  profiles: string[];
  lifecycle: 'ACTIVE' | 'LEGACY' | 'RETIRED';
  batch: BatchSupport;
  /** The most one record may carry, per AWS's docs; absent where we found no figure (then nothing is checked). */
  inputLimit?: InputLimitSpec;
  note?: string;
}

export interface InputLimitSpec {
  maxTokens?: number;
  maxChars?: number;
  /** The request can ask the model to cut over-long input (Cohere `truncate` START/END): then it is no error. */
  truncatable?: boolean;
  source: string;
  note?: string;
}

export interface BatchSupport {
  /** supported: AWS lists it; unverified: not in the copies of AWS's table we read; unsupported: no batch. */
  status: 'supported' | 'unverified' | 'unsupported';
  /** Regions where a job may name the model id or its foundation-model ARN. */
  regions?: string[];
  /** Regions where a job may name one of its cross-Region inference profiles. */
  profileRegions?: string[];
  source: string;
  note?: string;
}

export interface BatchCatalogData {
  compiledOn: string;
  sources: Record<string, { title: string; url: string; read?: string }>;
  /** Profile prefix → pattern of the Regions a profile of that geography is called from. */
  profileGeographies: Record<string, string>;
  models: CatalogModel[];
}

export type BatchVerdict =
  | { ok: true; model: CatalogModel; identifier: ModelIdentifier; warning?: string }
  | { ok: false; reason: string; identifier: ModelIdentifier; model?: CatalogModel };

export const DEFAULT_BATCH_CATALOG_FILE = resolve(__dirname, '../../config/batch-models.json');

/** Answers "may a batch job in Region R name this model, and which of our adapters writes its records?" from the dated catalog. */
export class BatchCatalog {
  private readonly byId: Map<string, CatalogModel>;
  private readonly geographies: Map<string, RegExp>;

  constructor(
    readonly data: BatchCatalogData,
    private readonly fileName = 'config/batch-models.json',
  ) {
    this.byId = new Map(data.models.map((m) => [m.modelId, m]));
    this.geographies = new Map(Object.entries(data.profileGeographies).map(([geo, pattern]) => [geo, new RegExp(pattern)]));
  }

  model(baseId: string): CatalogModel | undefined {
    return this.byId.get(baseId);
  }

  /**
   * The input limit a record of `modelId` (any id form) is held to, or undefined when none applies:
   * no documented figure, or `truncate` START/END asks the model to cut what is over.
   */
  inputLimit(modelId: string, truncate?: string): InputLimitSpec | undefined {
    const identifier = parseModelIdentifier(modelId);
    if (identifier.form === 'other-arn') return undefined;
    const limit = this.byId.get(identifier.baseId)?.inputLimit;
    if (!limit || (limit.truncatable && truncate !== undefined && truncate !== 'NONE')) return undefined;
    return limit;
  }

  /** A profile of `geography` may be called from `region` (a `eu.` profile from EU Regions only). */
  geographyServes(geography: string, region: string): boolean {
    return this.geographies.get(geography)?.test(region) ?? false;
  }

  /**
   * Whether a batch job in `region` may name `modelId` (bare id, `us.`/`eu.`/`apac.`/`global.`…
   * profile id, or ARN) with that invocation type. A refusal's reason names the model, the
   * Region and where batch does run it, or close matches when the id is unknown.
   */
  check(modelId: string, region: string, invocationType: InvocationType = 'InvokeModel'): BatchVerdict {
    const identifier = parseModelIdentifier(modelId);
    const refuse = (reason: string, model?: CatalogModel): BatchVerdict => ({ ok: false, reason, identifier, model });
    if (identifier.form === 'other-arn') {
      return refuse(`model "${modelId}" is a ${identifier.resourceType} ARN; batch jobs here take a model id, a cross-Region inference profile or their ARNs`);
    }
    const model = this.byId.get(identifier.baseId);
    if (!model) {
      const near = this.closeMatches(identifier.baseId, region);
      const hint = near.length ? `; close matches that run in batch in ${region}: ${near.join(', ')}` : '';
      return refuse(`model "${modelId}" is not a Bedrock model id that ${this.fileName} (compiled ${this.data.compiledOn}) knows${hint}`);
    }
    const named = `model "${modelId}" (${model.provider} ${model.name})`;
    const why = model.batch.note ? ` (${model.batch.note})` : '';
    const alternatives = () => {
      const near = this.closeMatches(identifier.baseId, region);
      return near.length ? `; models that do run in batch in ${region}: ${near.join(', ')}` : '';
    };
    if (model.lifecycle === 'RETIRED') return refuse(`${named} is retired on Amazon Bedrock${why}${alternatives()}`, model);
    if (model.batch.status === 'unsupported') return refuse(`${named} does not support batch inference${why}${alternatives()}`, model);
    const where = `; batch runs it ${this.whereBatch(model)}`;
    if (identifier.form === 'model-id' || identifier.form === 'foundation-model-arn') {
      if (identifier.form === 'foundation-model-arn' && identifier.region !== region) {
        return refuse(`${named} is an ARN in ${identifier.region || 'no Region'}, but the job runs in ${region}; name the model in ${region}`, model);
      }
      if (!(model.batch.regions ?? []).includes(region)) {
        const profile = this.profileFor(model, region);
        const fix = profile ? `: use the cross-Region inference profile "${profile}"` : '';
        return refuse(`${named} does not run in batch in ${region} with its model id${where}${fix}`, model);
      }
    } else {
      const { geography, profileId } = identifier;
      if (!model.profiles.includes(geography)) {
        const existing = model.profiles.length ? `its profiles are ${model.profiles.map((g) => `${g}.`).join(', ')}` : 'it has none';
        return refuse(`${named}: there is no cross-Region inference profile "${profileId}" (${existing})${where}`, model);
      }
      if (!this.geographyServes(geography, region)) {
        return refuse(`${named}: the ${geography}. profile is called from Regions of its geography, not from ${region}${where}`, model);
      }
      if (!(model.batch.profileRegions ?? []).includes(region)) {
        const fix = (model.batch.regions ?? []).includes(region) ? `: use the model id "${model.modelId}"` : '';
        return refuse(`${named} does not run in batch through a cross-Region profile from ${region}${where}${fix}`, model);
      }
    }
    const format = this.formatProblem(model, invocationType);
    if (format) return refuse(`${named} ${format}`, model);
    const warning =
      model.batch.status === 'unverified'
        ? `${named}: batch support is unverified (${model.batch.note ?? 'not in the AWS table we read'}); Bedrock may refuse the job`
        : undefined;
    return { ok: true, model, identifier, warning };
  }

  /** Where batch runs a model, e.g. `with its model id in us-west-2, and through us. profiles from us-east-1, us-west-2`. */
  whereBatch(model: CatalogModel): string {
    const parts: string[] = [];
    const regions = model.batch.regions ?? [];
    const profileRegions = model.batch.profileRegions ?? [];
    if (regions.length) parts.push(`with its model id in ${regions.join(', ')}`);
    if (profileRegions.length && model.profiles.length) {
      parts.push(`through ${model.profiles.map((g) => `${g}.`).join('/')} profiles from ${profileRegions.join(', ')}`);
    }
    return parts.length ? parts.join(', and ') : 'nowhere';
  }

  /** Up to `n` batch-capable identifiers usable in `region`, nearest in spelling to `baseId` first. */
  closeMatches(baseId: string, region: string, n = 3): string[] {
    // Legacy models are not worth suggesting; unverified ones only after verified ones about as close.
    const usable = this.data.models
      .filter((m) => m.lifecycle === 'ACTIVE' && m.batch.status !== 'unsupported')
      .map((m) => ({ m, id: (m.batch.regions ?? []).includes(region) ? m.modelId : this.profileFor(m, region) }))
      .filter((x): x is { m: CatalogModel; id: string } => x.id !== undefined);
    return usable
      .map((x) => ({ id: x.id, d: editDistance(baseId, x.m.modelId) + (x.m.batch.status === 'unverified' ? 3 : 0) }))
      .sort((a, b) => a.d - b.d || a.id.localeCompare(b.id))
      .slice(0, n)
      .map((x) => x.id);
  }

  /** A profile id of `model` that a batch job in `region` may name, if there is one. */
  profileFor(model: CatalogModel, region: string): string | undefined {
    if (!(model.batch.profileRegions ?? []).includes(region)) return undefined;
    const geography = model.profiles.find((g) => g !== 'global' && this.geographyServes(g, region)) ?? model.profiles.find((g) => this.geographyServes(g, region));
    return geography ? `${geography}.${model.modelId}` : undefined;
  }

  private formatProblem(model: CatalogModel, invocationType: InvocationType): string | undefined {
    if (invocationType === 'Converse') {
      return model.converse ? undefined : `does not take Converse requests; run it with invocationType InvokeModel`;
    }
    if (model.adapter) return undefined;
    const fix = model.converse ? `; run it with "invocationType": "Converse"` : '';
    return `takes the ${model.requestFormat} request body through InvokeModel, which none of our adapters writes${fix}`;
  }
}

/** Levenshtein distance, for suggesting ids close to a mistyped one. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

const loaded = new Map<string, BatchCatalog>();

/** The catalog in `file` (default config/batch-models.json), read once per process. */
export function loadBatchCatalog(file = DEFAULT_BATCH_CATALOG_FILE): BatchCatalog {
  let catalog = loaded.get(file);
  if (!catalog) {
    const data = JSON.parse(readFileSync(file, 'utf8')) as BatchCatalogData;
    if (!Array.isArray(data.models) || typeof data.profileGeographies !== 'object') throw new Error(`${file} is not a batch model catalog`);
    catalog = new BatchCatalog(data, file === DEFAULT_BATCH_CATALOG_FILE ? 'config/batch-models.json' : basename(file));
    loaded.set(file, catalog);
  }
  return catalog;
}
