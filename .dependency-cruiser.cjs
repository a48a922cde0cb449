/**
 * The connector's layers, checked in `npm test` (npm run lint:layers):
 *   core      pure logic — pipeline, mapping, delivery planning, acknowledgements, Target's API rules
 *   adapters  one edge each (kafka, target-http, registry, avro, mapping-file, config, airbyte)
 *   apps      the entry points wired from core and adapters (run, write, preview, check, ...)
 *   observe   metrics and logs;  cli  commander only;  tools  sandbox and demo
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-no-io',
      comment: 'The core stays pure: no Node built-in module, no Kafka client, no HTTP client.',
      severity: 'error',
      from: { path: '^connector/core/' },
      to: {
        dependencyTypes: ['core'],
      },
    },
    {
      name: 'core-no-io-libraries',
      comment: 'The core stays pure: kafkajs and undici belong to the adapters.',
      severity: 'error',
      from: { path: '^connector/core/' },
      to: { path: 'node_modules/(kafkajs|undici)/' },
    },
    {
      name: 'core-only-core',
      comment: 'The core depends on nothing of the connector outside the core.',
      severity: 'error',
      from: { path: '^connector/core/' },
      to: { path: '^connector/', pathNot: '^connector/core/' },
    },
    {
      name: 'adapters-independent',
      comment: 'An adapter never imports another adapter: apps wire them together.',
      severity: 'error',
      from: { path: '^connector/adapters/([^/]+)/' },
      to: { path: '^connector/adapters/', pathNot: '^connector/adapters/$1/' },
    },
    {
      name: 'adapters-below-apps',
      comment: 'Adapters serve the apps, never the other way round.',
      severity: 'error',
      from: { path: '^connector/adapters/' },
      to: { path: '^connector/(apps|cli|tools|observe)/' },
    },
    {
      name: 'apps-independent',
      comment: 'One app does not reach into another; what they share lives in apps/common.',
      severity: 'error',
      from: { path: '^connector/apps/([^/]+)/' },
      to: { path: '^connector/apps/', pathNot: '^connector/apps/($1|common)/' },
    },
    {
      name: 'tools-not-in-product',
      comment: 'The sandbox and the demo are tools: nothing of the product imports them.',
      severity: 'error',
      from: { path: '^connector/(core|adapters|apps|observe)/' },
      to: { path: '^connector/tools/' },
    },
    {
      name: 'cli-on-top',
      comment: 'Nothing imports the command line; it only parses arguments and calls apps and tools.',
      severity: 'error',
      from: { path: '^connector/', pathNot: '^connector/cli/' },
      to: { path: '^connector/cli/' },
    },
    {
      name: 'commander-only-in-cli',
      comment: 'Argument parsing belongs to the command line.',
      severity: 'error',
      from: { path: '^connector/', pathNot: '^connector/cli/' },
      to: { path: 'node_modules/commander/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules form layers, not loops.',
      severity: 'error',
      from: { path: '^connector/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
