/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^rxjs-backpressure$': '<rootDir>/src/index.ts',
    '^rxjs-backpressure/testing$': '<rootDir>/src/testing/index.ts',
    '^rxjs-backpressure/simulation$': '<rootDir>/src/simulation/index.ts',
    '^rxjs-backpressure/opentelemetry$': '<rootDir>/src/opentelemetry/index.ts',
    '^rxjs-backpressure/redis$': '<rootDir>/src/redis/index.ts',
  },
};
