// model-cache.ts — loaded models for classify-one, kept by job and snapshot so repeated requests do not reload weights.
import { loadModel, type Model } from '../index.js';
import { modelSource } from './snapshots.js';

const KEEP = 4;

export class ModelCache {
  private readonly loaded = new Map<string, Promise<Model>>();

  /** The model of `folder` at snapshot `iter` (the newest when undefined), on the CPU so trainings keep their GPU. */
  async get(folder: string, iter: number): Promise<Model> {
    const key = `${folder}@${iter}`;
    let model = this.loaded.get(key);
    if (!model) {
      model = modelSource(folder, iter).then((source) => loadModel(source, { device: 'cpu' }));
      model.catch(() => this.loaded.delete(key));
      this.loaded.set(key, model);
      await this.evict();
    }
    return model;
  }

  private async evict(): Promise<void> {
    while (this.loaded.size > KEEP) {
      const [key, oldest] = this.loaded.entries().next().value!;
      this.loaded.delete(key);
      await oldest.then((model) => model.dispose(), () => undefined);
    }
  }

  /** Forgets a deleted job's models. */
  async forget(folder: string): Promise<void> {
    for (const [key, model] of [...this.loaded]) {
      if (!key.startsWith(`${folder}@`)) continue;
      this.loaded.delete(key);
      await model.then((loaded) => loaded.dispose(), () => undefined);
    }
  }

  async clear(): Promise<void> {
    for (const model of this.loaded.values()) await model.then((loaded) => loaded.dispose(), () => undefined);
    this.loaded.clear();
  }
}
