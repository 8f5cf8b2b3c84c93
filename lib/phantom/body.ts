/**
 * What a brain PET-MR field of view holds besides the brain: meninges/CSF, skull (bone), scalp,
 * face, neck and the upper shoulders, with FDG uptake relative to white matter and 511 keV
 * attenuation. The cranial layers follow the distance to the brain; the rest are simple shapes in
 * template (MNI) millimetres, so they move with the patient's transform.
 */

/** One shape of the body model: an ellipsoid, or an elliptic cylinder along z between zMin and zMax. */
export interface BodyShape {
  name: string;
  kind: 'ellipsoid' | 'cylinder';
  /** Centre (MNI mm); a cylinder uses x and y. */
  centre: [number, number, number];
  /** Semi-axes (mm); a cylinder uses x and y. */
  semi: [number, number, number];
  /** Cylinder extent along z (mm). */
  zRange?: [number, number];
  /** Uptake relative to white matter. */
  uptake: number;
  /** Linear attenuation coefficient, 1/cm (0 with uptake 0: air inside the body). */
  muPerCm: number;
  /** Part of the body outline: fills only where no cranial layer is (organs and air paint over everything). */
  outline?: boolean;
}

/** The tissues around the brain. */
export interface BodyModelConfig {
  /** CSF and meninges between brain and skull, mm from the brain mask. Default 2. */
  csfMm?: number;
  /** Outer surface of the skull, mm from the brain mask (the skull is csfMm..skullMm). Default 8. */
  skullMm?: number;
  /** Outer surface of the scalp, mm from the brain mask. Default 13. */
  scalpMm?: number;
  /** Skull uptake relative to WM (cortical bone, little marrow). Default 0.15. */
  boneUptake?: number;
  /** Skull attenuation at 511 keV, 1/cm (cortical/diploe mix). Default 0.151. */
  boneMuPerCm?: number;
  /** Soft tissue (scalp, muscle, fat, skin) uptake relative to WM. Default 0.35 (SUV ~0.6 with WM SUV 1.7). */
  softUptake?: number;
  /** Water-equivalent soft tissue attenuation, 1/cm. Default 0.096. */
  softMuPerCm?: number;
  /**
   * Body outline shapes (soft tissue unless they carry their own uptake), then organs painted over
   * it in order (later wins). Default DEFAULT_BODY_SHAPES.
   */
  shapes?: BodyShape[];
}

const SOFT = 0.35;
const WATER = 0.096;
const BONE = 0.151;

/**
 * Outline first (face, neck, shoulders), then organs painted over it. Positions follow the ICBM
 * 2009c head (brain centre near (0, -18, 6)); uptakes relative to WM (SUV 1.7): tonsils and
 * pharyngeal lymphoid tissue SUV ~2.4, parotids ~1.5, spine marrow ~1, eyes (vitreous) ~0.25.
 */
export const DEFAULT_BODY_SHAPES: BodyShape[] = [
  { name: 'face', outline: true, kind: 'ellipsoid', centre: [0, 42, -38], semi: [60, 58, 58], uptake: SOFT, muPerCm: WATER },
  { name: 'skull base and jaw', outline: true, kind: 'ellipsoid', centre: [0, -10, -35], semi: [66, 70, 45], uptake: SOFT, muPerCm: WATER },
  { name: 'neck', outline: true, kind: 'cylinder', centre: [0, -12, 0], semi: [58, 62, 0], zRange: [-400, -40], uptake: SOFT, muPerCm: WATER },
  { name: 'shoulders', outline: true, kind: 'ellipsoid', centre: [0, -30, -210], semi: [225, 130, 105], uptake: SOFT, muPerCm: WATER },
  { name: 'upper chest', outline: true, kind: 'cylinder', centre: [0, -30, 0], semi: [170, 125, 0], zRange: [-400, -150], uptake: SOFT, muPerCm: WATER },
  { name: 'nasal cavity and sinuses', kind: 'ellipsoid', centre: [0, 68, -18], semi: [15, 26, 22], uptake: 0, muPerCm: 0 },
  { name: 'airway', kind: 'cylinder', centre: [0, 8, 0], semi: [9, 9, 0], zRange: [-400, -42], uptake: 0, muPerCm: 0 },
  { name: 'eye left', kind: 'ellipsoid', centre: [-32, 56, -10], semi: [12, 12, 12], uptake: 0.15, muPerCm: WATER },
  { name: 'eye right', kind: 'ellipsoid', centre: [32, 56, -10], semi: [12, 12, 12], uptake: 0.15, muPerCm: WATER },
  { name: 'parotid left', kind: 'ellipsoid', centre: [-50, 2, -38], semi: [11, 18, 22], uptake: 0.9, muPerCm: WATER },
  { name: 'parotid right', kind: 'ellipsoid', centre: [50, 2, -38], semi: [11, 18, 22], uptake: 0.9, muPerCm: WATER },
  { name: 'tonsil left', kind: 'ellipsoid', centre: [-14, 14, -55], semi: [7, 9, 11], uptake: 1.4, muPerCm: WATER },
  { name: 'tonsil right', kind: 'ellipsoid', centre: [14, 14, -55], semi: [7, 9, 11], uptake: 1.4, muPerCm: WATER },
  { name: 'cervical spine', kind: 'cylinder', centre: [0, -30, 0], semi: [11, 10, 0], zRange: [-400, -55], uptake: 0.6, muPerCm: BONE },
];

export const DEFAULT_BODY: Required<BodyModelConfig> = {
  csfMm: 2,
  skullMm: 8,
  scalpMm: 13,
  boneUptake: 0.15,
  boneMuPerCm: BONE,
  softUptake: SOFT,
  softMuPerCm: WATER,
  shapes: DEFAULT_BODY_SHAPES,
};

/** True when the template point q lies in the shape. */
export function insideShape(s: BodyShape, q: readonly number[]): boolean {
  const dx = (q[0] - s.centre[0]) / s.semi[0];
  const dy = (q[1] - s.centre[1]) / s.semi[1];
  if (s.kind === 'cylinder') {
    const [z0, z1] = s.zRange ?? [-Infinity, Infinity];
    return q[2] >= z0 && q[2] <= z1 && dx * dx + dy * dy <= 1;
  }
  const dz = (q[2] - s.centre[2]) / s.semi[2];
  return dx * dx + dy * dy + dz * dz <= 1;
}

/**
 * Tissue outside the brain at template point q, `distMm` from the brain mask: uptake (relative to
 * WM) and mu (1/cm), or undefined outside the body. The cranial layers (CSF, skull, scalp) come
 * from the distance; the outline shapes fill the rest, organs and air cavities (uptake and mu 0)
 * paint over both.
 */
export function bodyTissue(q: readonly number[], distMm: number, cfg: Required<BodyModelConfig>): { uptake: number; muPerCm: number } | undefined {
  let t: { uptake: number; muPerCm: number } | undefined;
  if (distMm <= cfg.csfMm) t = { uptake: 0.15, muPerCm: cfg.softMuPerCm };
  else if (distMm <= cfg.skullMm) t = { uptake: cfg.boneUptake, muPerCm: cfg.boneMuPerCm };
  else if (distMm <= cfg.scalpMm) t = { uptake: cfg.softUptake, muPerCm: cfg.softMuPerCm };
  for (const s of cfg.shapes) {
    if (!insideShape(s, q)) continue;
    if (s.outline && t) continue;
    t = { uptake: s.uptake, muPerCm: s.muPerCm };
  }
  return t;
}
