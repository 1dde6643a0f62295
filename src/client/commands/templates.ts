import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPromptTemplate } from '../../activities/templateStore';
import { createS3Client } from '../../io/s3';
import { compileTemplate, templateKeys } from '../../core/template';
import { recordIdForRow } from '../../core/recordId';
import { resolveModelAdapter } from '../../models/registry';
import type { InvocationType, ModelParams } from '../../models/types';
import { table } from '../format';
import { type PreviewSource, datasetRow } from '../previewRows';
import { EXIT } from '../runResult';
import { type CliContext, intOption } from './context';
import { readRunInput } from './run';

async function listTemplates(ctx: CliContext): Promise<number> {
  const dir = ctx.config().templatesDir;
  const ids = (await readdir(dir)).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4)).sort();
  const rows = [['PROMPT ID', 'COLUMNS', 'FIRST LINE']];
  for (const id of ids) {
    const text = await loadPromptTemplate(dir, id);
    const firstLine = text.split('\n')[0];
    rows.push([id, templateKeys(text).join(', ') || '-', firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine]);
  }
  for (const line of table(rows)) ctx.out(line);
  return EXIT.complete;
}

async function showTemplate(ctx: CliContext, id: string): Promise<number> {
  const dir = ctx.config().templatesDir;
  const text = await loadPromptTemplate(dir, id);
  ctx.out(`${id} (${join(dir, `${id}.txt`)}); columns: ${templateKeys(text).join(', ') || 'none'}`);
  ctx.out(text);
  return EXIT.complete;
}

interface PreviewPlan {
  source: PreviewSource;
  promptId?: string;
  modelId?: string;
  invocationType?: InvocationType;
  modelParams: ModelParams;
}

/** `--input`: a local CSV/Parquet file, an s3:// object, or a run input (file or JSON) whose dataset, prompt and model are used. */
function previewPlan(input: string, promptId: string | undefined, model: string | undefined): PreviewPlan {
  if (/^s3:\/\//.test(input)) return { source: { s3Uri: input }, promptId, modelId: model, modelParams: {} };
  if (/\.(csv|parquet)$/i.test(input)) return { source: { file: input }, promptId, modelId: model, modelParams: {} };
  const run = readRunInput(input);
  return { source: run.input, promptId: promptId ?? run.promptId, modelId: model ?? run.modelId, invocationType: run.invocationType, modelParams: run.modelParams ?? {} };
}

/** Renders one row through the template code a run uses, and the model's request body; submits and writes nothing. */
async function previewTemplate(ctx: CliContext, promptIdArg: string | undefined): Promise<number> {
  if (!ctx.options.input) throw new Error('templates preview needs --input (a .csv or .parquet file, an s3:// URI, or a run input)');
  const plan = previewPlan(ctx.options.input, promptIdArg, ctx.options.model);
  if (!plan.promptId) throw new Error('templates preview needs a prompt id (or a run input that names one)');
  const n = intOption(ctx, 'row', 0, 0);
  const config = ctx.config();
  const template = await loadPromptTemplate(config.templatesDir, plan.promptId);
  const s3 = createS3Client(config.s3);
  const { columns, row } = await datasetRow({ s3, hub: config.hub }, plan.source, n).finally(() => s3.destroy());
  const prompt = compileTemplate(template, columns)(row);
  ctx.out(`# ${plan.promptId}, row ${n} (record ${recordIdForRow(n)})`);
  ctx.out(prompt);
  if (plan.modelId) {
    const body = resolveModelAdapter(plan.modelId, plan.invocationType).buildRequest(prompt, plan.modelParams);
    ctx.out(`# request body for ${plan.modelId} (${plan.invocationType ?? 'InvokeModel'})`);
    ctx.out(JSON.stringify({ recordId: recordIdForRow(n), modelInput: body }, null, 2));
  }
  return EXIT.complete;
}

/** `templates list | show <promptId> | preview <promptId> --input … [--row N] [--model M]`. */
export async function templates(ctx: CliContext): Promise<number> {
  const [sub, id] = ctx.positionals;
  if (sub === 'list' || sub === undefined) return listTemplates(ctx);
  if (sub === 'show') {
    if (!id) throw new Error('templates show needs a prompt id (see: batch templates list)');
    return showTemplate(ctx, id);
  }
  if (sub === 'preview') return previewTemplate(ctx, id);
  throw new Error(`templates takes list, show or preview, not "${sub}"`);
}
