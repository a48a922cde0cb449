/**
 * The connector's layers, checked in `npm test` (npm run lint:layers):
 *   core      pure logic — pipeline, mapping, delivery planning, acknowledgements, Target's API rules
 *   adapters  one edge each (kafka, target-http, registry, avro, mapping-file, config, airbyte)
 *   apps      the entry points wired from core and adapters (run, write, preview, check, ...)
 *   observe   metrics and logs;  cli  commander only;  tools  sandbox and demo
 *   system    the process's real clock and randomness, which the core only gets injected
 * Beside these, ESLint (eslint.config.js) bans the wall clock, timers, Math.random and Buffer in core.
 */

/**
 * The npm packages the core may import, and why each is there. All are pure computation in what
 * the core calls; anything that does I/O (kafkajs, undici, ioredis, pino...) belongs to an adapter
 * or to observe.
 */
const CORE_PACKAGES = [
  // The Avro type model: mappings are compiled and type-checked against avsc Types, and the core's
  // logical types (avro-types.ts) define the decoded values. Only Type is used, never its file I/O.
  'avsc',
  // Mapping files and mapping tests are YAML; the core parses the text with line positions, so its
  // messages point at the line (reading the file is adapters/mapping-file's job).
  'yaml',
  // The mapping's shape is checked against its JSON schema (mapping/shape.ts).
  'ajv',
  // Caps the requests in flight in the delivery lanes.
  'p-limit',
];
const CORE_PACKAGE_PATHS = `node_modules/(${CORE_PACKAGES.join('|')})/`;

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
      name: 'core-npm-allow-list',
      comment: 'The core stays pure: it imports no npm package but those of CORE_PACKAGES above (kafkajs, undici and the like belong to the adapters).',
      severity: 'error',
      from: { path: '^connector/core/' },
      to: { path: 'node_modules/', pathNot: CORE_PACKAGE_PATHS },
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
      name: 'system-only-core',
      comment: "The process's clock and randomness implement core ports and need nothing else, so every layer but the core may use them.",
      severity: 'error',
      from: { path: '^connector/system/' },
      to: { path: '^connector/|node_modules/', pathNot: '^connector/(core|system)/' },
    },
    {
      name: 'observe-below-apps',
      comment: 'Observers report on every layer and are wired in by the apps; they never reach back into an app (nor cli or tools, by their own rules).',
      severity: 'error',
      from: { path: '^connector/observe/' },
      to: { path: '^connector/apps/' },
    },
    {
      name: 'observe-no-io-clients',
      comment: 'Observers report what the others do; they never talk to Kafka, Target or Redis themselves.',
      severity: 'error',
      from: { path: '^connector/observe/' },
      to: { path: 'node_modules/(kafkajs|undici|ioredis)/' },
    },
    {
      name: 'observe-adapters-types-only',
      comment:
        "Observers name the adapters' observer interfaces but never run adapter code, so observing cannot act on a peer. " +
        'adapters/config is the exception: the logger redacts the secrets that spec.json names.',
      severity: 'error',
      from: { path: '^connector/observe/' },
      to: { path: '^connector/adapters/', pathNot: '^connector/adapters/config/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'tools-not-in-product',
      comment: 'The sandbox and the demo are tools: nothing of the product imports them.',
      severity: 'error',
      from: { path: '^connector/(core|adapters|apps|observe|system)/' },
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
