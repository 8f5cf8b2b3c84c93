// madge 8 ships no type declarations; the part of its API the import test uses.
declare module 'madge' {
  interface MadgeConfig {
    fileExtensions?: string[];
    tsConfig?: string;
    detectiveOptions?: Record<string, unknown>;
  }
  interface MadgeResult {
    circular(): string[][];
    obj(): Record<string, string[]>;
  }
  function madge(path: string | string[], config?: MadgeConfig): Promise<MadgeResult>;
  export = madge;
}
