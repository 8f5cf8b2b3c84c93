/**
 * The `--weights` command-line option, one for every command that takes weights (reproduce, score,
 * features): parsed into a WeightsSource while the arguments are parsed, so that a bad value stops
 * the command with the list of valid values before it writes anything.
 */
import { InvalidArgumentError, Option } from 'commander';
import { IMAGENET, WEIGHTS_SOURCE_SYNTAX, parseWeightsSource, type WeightsSource } from './source';

/** `--weights <source>`; default ImageNet unless `defaultSource` says otherwise (null: no default). */
export function weightsOption(description = 'where the backbone weights come from', defaultSource: WeightsSource | null = IMAGENET): Option {
  const option = new Option('--weights <source>', `${description}: ${WEIGHTS_SOURCE_SYNTAX}`).argParser((value: string) => {
    try {
      return parseWeightsSource(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  });
  return defaultSource ? option.default(defaultSource, 'imagenet') : option;
}
