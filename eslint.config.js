import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Module boundaries (docs/architecture.md): which module may import which. A module reaches another only through
// the modules listed here; nothing below the composition root (src/services.ts, src/app.ts, src/server.ts) imports it.
const MODULES = ['util', 'config', 'store', 'http', 'tools', 'accounts', 'oauth', 'mcp', 'credits', 'crm', 'web', 'instance', 'client', 'cli', 'mail', 'identity', 'api', 'webhooks', 'audit', 'gateway'];
const MAY_IMPORT = {
  util: [],
  config: ['util'],
  store: ['util', 'config'],
  http: ['util'],
  tools: ['util'],
  accounts: ['util', 'config', 'store', 'webhooks', 'audit'],
  oauth: ['util', 'config', 'store', 'http', 'accounts', 'webhooks', 'audit'],
  mcp: ['util', 'config', 'store', 'http', 'tools', 'accounts', 'oauth'],
  credits: ['util', 'config', 'store', 'http', 'tools', 'accounts', 'webhooks', 'audit'],
  crm: ['util', 'config', 'store', 'tools'],
  web: ['util', 'config', 'store', 'http', 'accounts', 'oauth', 'credits', 'identity', 'webhooks', 'audit', 'gateway'],
  instance: ['util', 'config', 'store'],
  client: ['util'],
  mail: ['util', 'config'],
  cli: MODULES,
  identity: ['util', 'config', 'store', 'accounts', 'oauth', 'audit'],
  api: ['util', 'config', 'store', 'http', 'accounts', 'oauth', 'credits', 'audit'],
  webhooks: ['util', 'config', 'store', 'audit'],
  audit: ['util', 'config', 'store'],
  gateway: ['util', 'config', 'store', 'tools', 'oauth', 'client', 'audit'],
};
// observability/ (metrics, tracing) sits at the bottom beside util: every module may use it; it uses util only.
MODULES.push('observability');
MAY_IMPORT.observability = ['util'];
for (const [module, allowed] of Object.entries(MAY_IMPORT)) if (module !== 'util' && module !== 'observability' && module !== 'cli') allowed.push('observability');
const ROOT_FILES = ['services', 'app', 'server', 'migrations'];

const boundaries = Object.entries(MAY_IMPORT).map(([module, allowed]) => {
  const forbidden = MODULES.filter((m) => m !== module && !allowed.includes(m));
  const root = module === 'cli' ? [] : ROOT_FILES.map((f) => `**/src/${f}.ts`).concat(ROOT_FILES.map((f) => `../${f}.ts`), ROOT_FILES.map((f) => `../../${f}.ts`));
  return {
    files: [`src/${module}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length ? [{ group: forbidden.flatMap((m) => [`../${m}/*`, `../../${m}/*`, `**/src/${m}/*`]), message: `src/${module} may import only ${allowed.join(', ') || 'no other module'} (docs/architecture.md)` }] : []),
            ...(root.length ? [{ group: root, message: 'modules never import the composition root: declare what you need and let src/services.ts pass it' }] : []),
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.tollgate/**', 'docs/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', fetch: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly', URLSearchParams: 'readonly', crypto: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-console': 'off',
    },
  },
  ...boundaries,
);
