/**
 * The forms a Bedrock model identifier takes in a batch job's `modelId`, told apart so a caller
 * can ask the right question (GetFoundationModel or GetInferenceProfile) and check the Region.
 */
export type ModelIdentifier =
  | { form: 'model-id'; baseId: string }
  | { form: 'foundation-model-arn'; baseId: string; region: string }
  | { form: 'profile-id'; baseId: string; geography: string; profileId: string }
  | { form: 'profile-arn'; baseId: string; geography: string; profileId: string; region: string }
  /** application-inference-profile, custom-model, provisioned-model…: the model behind it is not in the id. */
  | { form: 'other-arn'; resourceType: string };

// us-gov before us, so `us-gov.x` is not read as geography `us` with base `gov.x`.
const PROFILE_ID = /^(us-gov|us|eu|apac|global|ca|jp|au)\.(.+)$/;
const BEDROCK_ARN = /^arn:aws[a-z-]*:bedrock:([^:]*):([^:]*):([a-z-]+)\/(.+)$/;

export function parseModelIdentifier(modelId: string): ModelIdentifier {
  const id = modelId.trim();
  const arn = BEDROCK_ARN.exec(id);
  if (!arn) {
    const profile = PROFILE_ID.exec(id);
    return profile ? { form: 'profile-id', baseId: profile[2], geography: profile[1], profileId: id } : { form: 'model-id', baseId: id };
  }
  const [, region, , resourceType, resource] = arn;
  if (resourceType === 'foundation-model') return { form: 'foundation-model-arn', baseId: resource, region };
  if (resourceType === 'inference-profile' || resourceType === 'system-defined-inference-profile') {
    const profile = PROFILE_ID.exec(resource);
    if (profile) return { form: 'profile-arn', baseId: profile[2], geography: profile[1], profileId: resource, region };
  }
  return { form: 'other-arn', resourceType };
}
