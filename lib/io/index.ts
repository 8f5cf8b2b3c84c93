export * from './nifti';
export * from './npy';
