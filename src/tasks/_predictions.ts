import { existsSync, readFileSync, statSync } from 'node:fs';
import { UserError, didYouMean } from '../errors.ts';
import { parseJsonText } from './_errors.ts';
import type { Instance } from './_schema.ts';

export type Prediction = { instance_id: string; model_name_or_path: string; model_patch: string | null };

/**
 * SWE-bench predictions: `.jsonl` (one a line), `.json` holding a list, or `.json` holding a
 * dict keyed by instance id (mini-swe-agent's preds.json). `gold` means each instance's own patch.
 */
export function loadPredictions(source: string, instances: Instance[]): Prediction[] {
  if (source === 'gold') return instances.map((i) => ({ instance_id: i.instance_id, model_name_or_path: 'gold', model_patch: i.patch }));
  if (!existsSync(source) || !statSync(source).isFile()) {
    throw new UserError(`Predictions file ${source} ${existsSync(source) ? 'is not a file' : 'does not exist'}. Pass a .jsonl or .json file of SWE-bench predictions, or \`gold\`.`);
  }
  const text = readFileSync(source, 'utf8');
  const entries: { value: unknown; where: string }[] = [];
  if (source.endsWith('.jsonl')) {
    text.split('\n').forEach((line, index) => {
      if (line.trim()) entries.push({ value: parseJsonText(line, source, index + 1), where: `${source}:${index + 1}` });
    });
  } else {
    const value = parseJsonText(text, source);
    if (Array.isArray(value)) value.forEach((v, index) => entries.push({ value: v, where: `${source} item ${index + 1}` }));
    else if (value && typeof value === 'object') {
      for (const [id, v] of Object.entries(value)) {
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UserError(`${source} key "${id}": expected a prediction object ({"model_name_or_path": ..., "model_patch": ...}), got ${JSON.stringify(v)?.slice(0, 40)}.`);
        entries.push({ value: { instance_id: id, ...v }, where: `${source} key "${id}"` });
      }
    } else throw new UserError(`${source}: expected a list of predictions or an object keyed by instance id.`);
  }
  const known = new Map(instances.map((i) => [i.instance_id, i]));
  const problems: string[] = [];
  const predictions: Prediction[] = [];
  const seen = new Set<string>();
  for (const { value, where } of entries) {
    const p = value as Partial<Prediction>;
    if (!p || typeof p !== 'object' || typeof p.instance_id !== 'string') {
      problems.push(`${where}: no instance_id.`);
      continue;
    }
    if (!known.has(p.instance_id)) {
      problems.push(`${where}: prediction for unknown instance \`${p.instance_id}\`.${didYouMean(p.instance_id, known.keys())}`);
      continue;
    }
    if (p.model_patch !== undefined && p.model_patch !== null && typeof p.model_patch !== 'string') {
      problems.push(`${where}: model_patch must be a string (a unified diff) or null.`);
      continue;
    }
    if (seen.has(p.instance_id)) {
      problems.push(`${where}: a second prediction for ${p.instance_id}.`);
      continue;
    }
    seen.add(p.instance_id);
    predictions.push({ instance_id: p.instance_id, model_name_or_path: String(p.model_name_or_path ?? 'unknown'), model_patch: p.model_patch ?? null });
  }
  if (problems.length) throw new UserError(`${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was graded:`, { details: problems });
  return predictions;
}
