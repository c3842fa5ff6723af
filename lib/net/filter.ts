// filter.ts — which layers a net state keeps: Caffe's include/exclude rules (Net::FilterNet, Net::StateMeetsRule).
import type { LayerParameter, NetStateRule } from '../caffe/index.js';
import { CudnetError } from '../errors.js';
import type { Phase } from './contract.js';

/** The state a net is built for: phase, level and stages. */
export interface NetStateOf {
  phase: Phase;
  level: number;
  stages: readonly string[];
}

/**
 * Caffe's StateMeetsRule: a rule is met when its phase (if given) equals the state's, the level
 * lies within [min_level, max_level] (each if given), the state has ALL of the rule's stages
 * and NONE of its not_stages.
 */
export function stateMeetsRule(state: NetStateOf, rule: NetStateRule): boolean {
  if (rule.phase !== undefined && rule.phase !== state.phase) return false;
  if (rule.min_level !== undefined && state.level < rule.min_level) return false;
  if (rule.max_level !== undefined && state.level > rule.max_level) return false;
  if (!rule.stage.every((stage) => state.stages.includes(stage))) return false;
  return !rule.not_stage.some((stage) => state.stages.includes(stage));
}

/**
 * Caffe's FilterNet for one layer: with no include rules the layer is kept unless an exclude rule
 * is met; with include rules it is kept only if one of them is met. Giving both kinds is an error.
 */
export function layerIncluded(state: NetStateOf, layer: LayerParameter): boolean {
  if (layer.include.length > 0 && layer.exclude.length > 0)
    throw new CudnetError('INVALID_NET',
      `layer '${layer.name}' gives both include and exclude rules; specify either include rules or exclude rules, not both`);
  if (layer.include.length > 0) return layer.include.some((rule) => stateMeetsRule(state, rule));
  return !layer.exclude.some((rule) => stateMeetsRule(state, rule));
}
