import type { PreprocessingMode } from '../types';

/** The 18 backbones of the study, in the paper's (alphabetical) order. */
export const BACKBONE_NAMES = [
  'DenseNet121',
  'DenseNet169',
  'DenseNet201',
  'InceptionResNetV2',
  'InceptionV3',
  'MobileNet',
  'MobileNetV2',
  'MobileNetV3Large',
  'MobileNetV3Small',
  'ResNet101',
  'ResNet101V2',
  'ResNet152',
  'ResNet152V2',
  'ResNet50',
  'ResNet50V2',
  'VGG16',
  'VGG19',
  'Xception',
] as const;
export type BackboneName = (typeof BACKBONE_NAMES)[number];

/** Static facts about one backbone (from ../shared/spec/backbones.md and the paper's Table II). */
export interface BackboneSpec {
  name: BackboneName;
  /** Notop weight file, relative to the Keras applications storage root (and to the Keras cache folder). */
  weightsFile: string;
  /** md5 that Keras's get_file checks; undefined where Keras has none. */
  md5?: string;
  /** Keras preprocess_input mode applied to 0-255 RGB input. */
  preprocessing: PreprocessingMode;
  /** len(base.layers) in tf.keras 2.7 (InputLayer included); MobileNetV3's follows the v2.7.0 source. */
  layers: number;
  /** Table II: trainable parameters of the frozen regime, Flatten size x 3 + 3. */
  tableIITrainable: number;
  /**
   * Table III: trainable parameters of the partial regime (first round(0.6 N) layers frozen), as
   * printed. MobileNetV3's two values do not follow from tf.keras 2.7 (see PAPER_MOBILENET_V3_NOTE).
   */
  tableIIITrainable: number;
}

/** Default root of Keras's application weight files; override with PET_IQA_WEIGHTS_BASE_URL or --base-url. */
export const KERAS_WEIGHTS_BASE_URL = 'https://storage.googleapis.com/tensorflow/keras-applications/';

const spec = (
  name: BackboneName,
  weightsFile: string,
  md5: string | undefined,
  preprocessing: PreprocessingMode,
  layers: number,
  tableIITrainable: number,
  tableIIITrainable: number,
): BackboneSpec => ({ name, weightsFile, md5, preprocessing, layers, tableIITrainable, tableIIITrainable });

/**
 * Layer counts N: from backbones.md for 16 backbones. MobileNetV3Large/Small: counted from the
 * Keras v2.7.0 source by the backbone builders (see mobilenet_v3.ts), where every `+ 3` and `* (1/6)`
 * of hard-sigmoid is a TFOpLambda layer of its own.
 */
export const BACKBONES: Record<BackboneName, BackboneSpec> = {
  DenseNet121: spec('DenseNet121', 'densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5', '30ee3e1110167f948a6b9946edeeb738', 'torch', 427, 12291, 3811075),
  DenseNet169: spec('DenseNet169', 'densenet/densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5', 'b8c4d4c20dd625c148057b9ff1c1176b', 'torch', 595, 19971, 6958019),
  DenseNet201: spec('DenseNet201', 'densenet/densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5', 'c13680b51ded0fb44dff2d8f86ac8bb1', 'torch', 707, 23043, 10425859),
  InceptionResNetV2: spec('InceptionResNetV2', 'inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5', 'd19885ff4a710c122648d3b5c3b684e4', 'tf', 780, 4611, 36295171),
  InceptionV3: spec('InceptionV3', 'inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5', 'bcbd6486424b2319ff4ef7d526e38f63', 'tf', 311, 6147, 15106307),
  MobileNet: spec('MobileNet', 'mobilenet/mobilenet_1_0_224_tf_no_top.h5', undefined, 'tf', 86, 12291, 2675715),
  MobileNetV2: spec('MobileNetV2', 'mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5', undefined, 'tf', 154, 34563, 1993731),
  // layers: filled in from the v2.7.0 source by the MobileNetV3 builder's tests (-1 = not stated by the spec).
  MobileNetV3Large: spec('MobileNetV3Large', 'mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float_no_top.h5', '037116398e07f018c0005ffcb0406831', 'none', 269, 3843, 2645491),
  MobileNetV3Small: spec('MobileNetV3Small', 'mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top.h5', 'be7100780f875c06bcab93d76641aa26', 'none', 235, 3075, 770755),
  ResNet101: spec('ResNet101', 'resnet/resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5', '88cf7a10940856eca736dc7b7e228a21', 'caffe', 345, 55299, 26484227),
  ResNet101V2: spec('ResNet101V2', 'resnet/resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5', 'c0ed64b8031c3730f411d2eb4eea35b5', 'tf', 377, 55299, 26471939),
  ResNet152: spec('ResNet152', 'resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5', 'ee4c566cf9a93f14d82f913c2dc6dd0c', 'caffe', 515, 55299, 34314755),
  ResNet152V2: spec('ResNet152V2', 'resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5', 'ed17cf2e0169df9d443503ef94b23b33', 'tf', 564, 55299, 34298883),
  ResNet50: spec('ResNet50', 'resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5', '4d473c1dd8becc155b73f8504c6f6626', 'caffe', 175, 55299, 19243267),
  ResNet50V2: spec('ResNet50V2', 'resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5', 'fac2f116257151a9d068a22e544a4917', 'tf', 190, 55299, 19234307),
  VGG16: spec('VGG16', 'vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', '6d6bbae143d832006294945121d1f1fc', 'caffe', 19, 6147, 12985347),
  VGG19: spec('VGG19', 'vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5', '253f8cb515780f3b799900260a226db6', 'caffe', 22, 6147, 16524803),
  Xception: spec('Xception', 'xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5', 'b0042744bf5b25fce3cb969f33bebb97', 'tf', 132, 55299, 12761595),
};

/**
 * Why our Table III differs from the paper's for MobileNetV3 (shown under Tables II and III).
 */
export const PAPER_MOBILENET_V3_NOTE =
  "MobileNetV3: the paper's Table III values (Large 2,645,491; Small 770,755) fit only the tf.keras 2.8+ MobileNetV3 layout " +
  '(960/576-channel output) frozen over the full model\'s layer list, which contradicts its own Table II (3,843 and 3,075, ' +
  'the tf.keras 2.7 Flatten sizes). Ours follow tf.keras 2.7, as Table II does.';

/** The spec of a backbone by name, with a clear error listing the valid names. */
export function getBackboneSpec(name: string): BackboneSpec {
  const found = (BACKBONES as Record<string, BackboneSpec>)[name];
  if (!found) {
    throw new Error(`Unknown backbone '${name}'. Valid names: ${BACKBONE_NAMES.join(', ')}`);
  }
  return found;
}
