/**
 * Arguments shared by every backbone builder (one builder per variant, tfjs-models style).
 */
export interface BackboneArgs {
  /** Height and width of the square input, channels last with 3 channels. Default 80 (the paper's patch size). */
  inputSize?: number;
  /** Seed of the kernel initialisers, so a "random init" model is reproducible. Default 0. */
  seed?: number;
}

/** Defaults applied by every builder. */
export const DEFAULT_BACKBONE_ARGS: Required<BackboneArgs> = { inputSize: 80, seed: 0 };
