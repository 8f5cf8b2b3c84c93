/**
 * The 18 Keras Applications backbones of the study (tf.keras 2.7, include_top=False), the transfer
 * model, the freezing regimes and the parameter table.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { parameterTableWith, type ParameterRow, type ParameterTableArgs } from './param_table';
import { getBackboneSpec, type BackboneName } from './registry';
import { buildDenseNet121, buildDenseNet169, buildDenseNet201 } from './densenet';
import { buildInceptionResNetV2 } from './inception_resnet_v2';
import { buildInceptionV3 } from './inception_v3';
import { buildMobileNet } from './mobilenet';
import { buildMobileNetV2 } from './mobilenet_v2';
import { buildMobileNetV3Large, buildMobileNetV3Small } from './mobilenet_v3';
import { buildResNet101, buildResNet152, buildResNet50 } from './resnet';
import { buildResNet101V2, buildResNet152V2, buildResNet50V2 } from './resnet_v2';
import { buildVGG16, buildVGG19 } from './vgg';
import { buildXception } from './xception';

export * from './registry';
export * from './common';
export * from './batch_norm';
export * from './layers';
export * from './transfer';
export * from './param_table';
export * from './calibrate';
export { buildDenseNet121, buildDenseNet169, buildDenseNet201 } from './densenet';
export { buildInceptionResNetV2 } from './inception_resnet_v2';
export { buildInceptionV3 } from './inception_v3';
export { buildMobileNet } from './mobilenet';
export { buildMobileNetV2 } from './mobilenet_v2';
export { buildMobileNetV3Large, buildMobileNetV3Small } from './mobilenet_v3';
export { buildResNet50, buildResNet101, buildResNet152 } from './resnet';
export { buildResNet50V2, buildResNet101V2, buildResNet152V2 } from './resnet_v2';
export { buildVGG16, buildVGG19 } from './vgg';
export { buildXception } from './xception';

/** One builder per backbone name. */
export const BACKBONE_BUILDERS: Record<BackboneName, (args?: BackboneArgs) => tf.LayersModel> = {
  DenseNet121: buildDenseNet121,
  DenseNet169: buildDenseNet169,
  DenseNet201: buildDenseNet201,
  InceptionResNetV2: buildInceptionResNetV2,
  InceptionV3: buildInceptionV3,
  MobileNet: buildMobileNet,
  MobileNetV2: buildMobileNetV2,
  MobileNetV3Large: buildMobileNetV3Large,
  MobileNetV3Small: buildMobileNetV3Small,
  ResNet101: buildResNet101,
  ResNet101V2: buildResNet101V2,
  ResNet152: buildResNet152,
  ResNet152V2: buildResNet152V2,
  ResNet50: buildResNet50,
  ResNet50V2: buildResNet50V2,
  VGG16: buildVGG16,
  VGG19: buildVGG19,
  Xception: buildXception,
};

/**
 * Builds a backbone by name with random (seeded) weights, exactly as tf.keras 2.7 lays it out with
 * include_top=False; load ImageNet weights with lib/weights. Throws, listing the valid names, for
 * an unknown name.
 */
export function buildBackbone(name: BackboneName | string, args?: BackboneArgs): tf.LayersModel {
  const spec = getBackboneSpec(name);
  return BACKBONE_BUILDERS[spec.name](args);
}

/**
 * The parameter table (Tables II and III) for the given backbones (default all 18, paper order):
 * builds each one at 80 x 80 unless `args.inputSize` says otherwise.
 */
export function parameterTable(names?: readonly string[], args?: ParameterTableArgs): ParameterRow[] {
  return parameterTableWith(buildBackbone, names, args);
}
