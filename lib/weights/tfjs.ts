/**
 * TensorFlow.js layers-format weights (model.json + binary shards) from and to the local file
 * system. Plain @tensorflow/tfjs has no file:// handler in Node (that lives in tfjs-node), so the
 * manifest is read here and decoded with tf.io.decodeWeights.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../util/files';

/** What loadTfjsWeights did. */
export interface TfjsLoadReport {
  file: string;
  weights: number;
  values: number;
}

/**
 * Loads the weights of a TensorFlow.js model.json (its weightsManifest and shards) into a built
 * model, matching weights by name (`layer/weight`) as tf.LayersModel.loadWeights does, strictly.
 */
export async function loadTfjsWeights(model: tf.LayersModel, modelJsonPath: string): Promise<TfjsLoadReport> {
  let json: { weightsManifest?: tf.io.WeightsManifestConfig };
  try {
    json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
  } catch (err) {
    throw new Error(`TensorFlow.js model file ${modelJsonPath} cannot be read as JSON: ${(err as Error).message}`);
  }
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw new Error(`TensorFlow.js model file ${modelJsonPath} has no 'weightsManifest' array`);
  const dir = path.dirname(modelJsonPath);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  manifest.forEach((group, gi) => {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new Error(`TensorFlow.js model file ${modelJsonPath}: weightsManifest[${gi}] needs 'paths' and 'weights' arrays`);
    }
    for (const p of group.paths) {
      const shard = path.join(dir, p);
      try {
        buffers.push(fs.readFileSync(shard));
      } catch (err) {
        throw new Error(`TensorFlow.js model file ${modelJsonPath}: weight shard '${p}' cannot be read: ${(err as Error).message}`);
      }
    }
    specs.push(...group.weights);
  });
  const all = Buffer.concat(buffers);
  const needed = specs.reduce((acc, s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const bytesPer = s.quantization ? (s.quantization.dtype === 'uint8' ? 1 : 2) : s.dtype === 'bool' ? 1 : 4;
    return acc + n * bytesPer;
  }, 0);
  if (all.length !== needed) {
    throw new Error(`TensorFlow.js model file ${modelJsonPath}: the shards hold ${all.length} bytes but the manifest describes ${needed}`);
  }
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const named = tf.io.decodeWeights(ab, specs);
  try {
    // Shape checks first, naming both sides, so that a bad file leaves the model unchanged.
    const byName = new Map<string, tf.LayerVariable>();
    for (const layer of model.layers) for (const w of layer.weights) byName.set(w.originalName, w);
    const missing = [...byName.keys()].filter((n) => !(n in named));
    const extra = Object.keys(named).filter((n) => !byName.has(n));
    if (missing.length || extra.length) {
      throw new Error(
        `TensorFlow.js weights ${modelJsonPath} do not match model '${model.name}': ` +
          (missing.length ? `${missing.length} model weights missing in the file (first: ${missing.slice(0, 3).join(', ')})` : '') +
          (missing.length && extra.length ? '; ' : '') +
          (extra.length ? `${extra.length} file weights unknown to the model (first: ${extra.slice(0, 3).join(', ')})` : ''),
      );
    }
    for (const [n, v] of byName) {
      const t = named[n];
      if (t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k])) {
        throw new Error(`TensorFlow.js weights ${modelJsonPath}: weight '${n}' has shape [${t.shape.join(', ')}] but the model expects [${v.shape.join(', ')}]`);
      }
    }
    model.loadWeights(named, true);
  } finally {
    Object.values(named).forEach((t) => t.dispose());
  }
  return { file: modelJsonPath, weights: specs.length, values: specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0) };
}

/**
 * Saves a model as TensorFlow.js layers format in `dir`: model.json and one weights shard
 * (`weights.bin`), each written atomically. The topology is included so tf.loadLayersModel can read it.
 */
export async function saveTfjsModel(model: tf.LayersModel, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const modelJson = path.join(dir, 'model.json');
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const bytes = data === undefined ? new Uint8Array(0) : new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
      writeFileAtomic(path.join(dir, 'weights.bin'), bytes);
      writeJsonAtomic(modelJson, {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return modelJson;
}
