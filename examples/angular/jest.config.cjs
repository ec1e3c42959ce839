// TestBed under jest: jest-preset-angular compiles the components (templates included) with ts-jest.
// The environment is named explicitly: the preset's jsdom environment, not jest's default (node).
/** @type {import('jest').Config} */
module.exports = {
  preset: 'jest-preset-angular',
  testEnvironment: 'jest-preset-angular/environments/jest-jsdom-env',
  setupFilesAfterEnv: ['<rootDir>/src/setup-jest.ts'],
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.spec.ts'],
};
