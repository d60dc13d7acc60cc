// @vnic/core/testing: fixtures for specs and fuzz targets in every package (explicit barrel).
export { testNetConfig } from './testNetConfig.ts';
export { mmioNetConfig } from './mmioNetConfig.ts';
export { thrownBy } from './thrownBy.ts';
export { RecordingNetDevice } from './RecordingNetDevice.ts';
export { hexBytes } from './hexBytes.ts';
