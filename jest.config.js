// One jest run, two projects: unit specs beside the code, e2e specs that boot real apps.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  // jose 6 is ESM-only: Node 20.20 loads it through require(esm), jest cannot, so compile it.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@app/providers/testing$': '<rootDir>/libs/providers/src/testing',
    '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src',
  },
  setupFiles: ['<rootDir>/libs/testing/src/jest-setup.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/libs/testing/src/global-setup.js',
  testTimeout: 30_000,
  // The e2e suites mostly wait on sockets and child processes: two workers on two cores.
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: [
        '<rootDir>/apps/*/test/**/*.e2e-spec.ts',
        '<rootDir>/test/**/*.e2e-spec.ts',
        '<rootDir>/test/**/*.spec.ts',
      ],
    },
  ],
};
