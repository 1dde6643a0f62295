import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The emulator's view of config/batch-models.json (read as data: the emulator imports nothing
 * from the app): which model ids and system-defined inference profiles exist in its Region, how
 * GetFoundationModel and GetInferenceProfile describe them, and whether Create may run them in batch.
 */

export const DEFAULT_MODEL_CATALOG_FILE = resolve(__dirname, '../../config/batch-models.json');

interface Row {
  modelId: string;
  name: string;
  provider: string;
  inputModalities: string[];
  outputModalities: string[];
  streaming: boolean;
  profiles: string[];
  lifecycle: 'ACTIVE' | 'LEGACY' | 'RETIRED';
  batch: { status: 'supported' | 'unverified' | 'unsupported'; regions?: string[]; profileRegions?: string[] };
}

interface CatalogFile {
  compiledOn: string;
  profileGeographies: Record<string, string>;
  models: Row[];
}

type Identifier =
  | { kind: 'model'; baseId: string; arnRegion?: string }
  | { kind: 'profile'; baseId: string; geography: string; profileId: string; arnRegion?: string }
  | { kind: 'other' };

// The service model's modalities (ModelModality); the docs also name VIDEO, AUDIO and SPEECH, which it has no value for.
const MODALITIES = ['TEXT', 'IMAGE', 'EMBEDDING'];
// InferenceProfileModels holds at most 5 models in the service model.
const MAX_PROFILE_MODELS = 5;
const PROFILE_ID = /^(us-gov|us|eu|apac|global|ca|jp|au)\.(.+)$/;
const ARN = /^arn:aws[a-z-]*:bedrock:([^:]*):([^:]*):([a-z-]+)\/(.+)$/;
const GEOGRAPHY_LABEL: Record<string, string> = { us: 'US', 'us-gov': 'US-GOV', eu: 'EU', apac: 'APAC', global: 'Global', ca: 'CA', jp: 'JP', au: 'AU' };

function parse(identifier: string): Identifier {
  const arn = ARN.exec(identifier);
  const [arnRegion, type, resource] = arn ? [arn[1], arn[3], arn[4]] : [undefined, undefined, identifier];
  if (arn && type === 'foundation-model') return { kind: 'model', baseId: resource, arnRegion };
  if (arn && type !== 'inference-profile') return { kind: 'other' };
  const profile = PROFILE_ID.exec(resource);
  if (profile) return { kind: 'profile', baseId: profile[2], geography: profile[1], profileId: resource, arnRegion };
  return arn ? { kind: 'other' } : { kind: 'model', baseId: resource };
}

/** What Create should answer for a model id: nothing (go on), or the ValidationException message AWS gives. */
export type BatchRefusal = undefined | 'invalid-model' | 'not-batch';

export class ModelCatalog {
  private readonly rows: Map<string, Row>;
  private readonly geographies: Map<string, RegExp>;

  constructor(
    private readonly data: CatalogFile,
    private readonly region: string,
    private readonly accountId: string,
  ) {
    this.rows = new Map(data.models.map((m) => [m.modelId, m]));
    this.geographies = new Map(Object.entries(data.profileGeographies).map(([g, p]) => [g, new RegExp(p)]));
  }

  static load(file: string, region: string, accountId: string): ModelCatalog {
    return new ModelCatalog(JSON.parse(readFileSync(file, 'utf8')) as CatalogFile, region, accountId);
  }

  /** GetFoundationModel's modelDetails, or undefined where Bedrock answers ResourceNotFound. */
  foundationModel(identifier: string): Record<string, unknown> | undefined {
    const id = parse(identifier);
    if (id.kind !== 'model' || (id.arnRegion !== undefined && id.arnRegion !== this.region)) return undefined;
    const row = this.offered(id.baseId);
    if (!row) return undefined;
    return {
      modelArn: `arn:aws:bedrock:${this.region}::foundation-model/${row.modelId}`,
      modelId: row.modelId,
      modelName: row.name,
      providerName: row.provider,
      inputModalities: row.inputModalities.filter((m) => MODALITIES.includes(m)),
      outputModalities: row.outputModalities.filter((m) => MODALITIES.includes(m)),
      responseStreamingSupported: row.streaming,
      customizationsSupported: [],
      // AWS also answers INFERENCE_PROFILE for profile-only models; the service model's enum has only these two.
      inferenceTypesSupported: (row.batch.regions ?? []).includes(this.region) ? ['ON_DEMAND'] : [],
      modelLifecycle: { status: row.lifecycle === 'LEGACY' ? 'LEGACY' : 'ACTIVE' },
    };
  }

  /** GetInferenceProfile's answer for a system-defined profile callable from this Region, or undefined (ResourceNotFound). */
  inferenceProfile(identifier: string): Record<string, unknown> | undefined {
    const id = parse(identifier);
    if (id.kind !== 'profile' || (id.arnRegion !== undefined && id.arnRegion !== this.region)) return undefined;
    const row = this.offered(id.baseId);
    if (!row?.profiles.includes(id.geography) || !this.geographyServes(id.geography, this.region)) return undefined;
    const destinations = this.destinations(row, id.geography);
    const created = `${this.data.compiledOn}T00:00:00.000Z`;
    return {
      inferenceProfileName: `${GEOGRAPHY_LABEL[id.geography] ?? id.geography.toUpperCase()} ${row.provider} ${row.name}`,
      description: `Routes requests to ${row.provider} ${row.name} in ${listed(destinations)}.`,
      createdAt: created,
      updatedAt: created,
      inferenceProfileArn: `arn:aws:bedrock:${this.region}:${this.accountId}:inference-profile/${id.profileId}`,
      models: destinations.slice(0, MAX_PROFILE_MODELS).map((r) => ({ modelArn: `arn:aws:bedrock:${r}::foundation-model/${row.modelId}` })),
      inferenceProfileId: id.profileId,
      status: 'ACTIVE',
      type: 'SYSTEM_DEFINED',
    };
  }

  /**
   * InvokeModel/Converse's check: does the id name a model or system-defined profile offered in this
   * Region? ARNs of other kinds (application profiles, custom models) are taken as given.
   */
  offersForInference(modelId: string): boolean {
    const id = parse(modelId);
    if (id.kind === 'other') return true;
    return Boolean(id.kind === 'model' ? this.foundationModel(modelId) : this.inferenceProfile(modelId));
  }

  /**
   * Create's check: an id that names nothing in this Region is an invalid model identifier; a real
   * model that batch does not run here (in that form) gets AWS's opaque "request is not valid".
   * ARNs of other kinds (application profiles, custom models) are left to the caller.
   */
  batchRefusal(modelId: string): BatchRefusal {
    const id = parse(modelId);
    if (id.kind === 'other') return undefined;
    const exists = id.kind === 'model' ? this.foundationModel(modelId) : this.inferenceProfile(modelId);
    if (!exists) return 'invalid-model';
    const row = this.rows.get(id.baseId)!;
    if (row.batch.status === 'unsupported') return 'not-batch';
    const regions = (id.kind === 'model' ? row.batch.regions : row.batch.profileRegions) ?? [];
    return regions.includes(this.region) ? undefined : 'not-batch';
  }

  /** A model Bedrock offers in this Region: known, not retired, and listed here (models without batch Regions are taken to be offered everywhere). */
  private offered(baseId: string): Row | undefined {
    const row = this.rows.get(baseId);
    if (!row || row.lifecycle === 'RETIRED') return undefined;
    const regions = [...(row.batch.regions ?? []), ...(row.batch.profileRegions ?? [])];
    return regions.length === 0 || regions.includes(this.region) ? row : undefined;
  }

  private geographyServes(geography: string, region: string): boolean {
    return this.geographies.get(geography)?.test(region) ?? false;
  }

  /** The Regions a profile routes to: the model's Regions in the profile's geography, this Region first. */
  private destinations(row: Row, geography: string): string[] {
    const all = [this.region, ...(row.batch.regions ?? []), ...(row.batch.profileRegions ?? [])];
    return [...new Set(all)].filter((r) => this.geographyServes(geography, r));
  }
}

function listed(regions: string[]): string {
  return regions.length <= 1 ? regions.join('') : `${regions.slice(0, -1).join(', ')} and ${regions[regions.length - 1]}`;
}
