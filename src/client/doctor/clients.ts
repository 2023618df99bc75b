// The sequences major MCP clients run when they connect to an OAuth-protected server, as `tollgate doctor`
// replays them. Each is what that client was observed to do; where clients differ is where servers break.
import {
  authorizeStep,
  challengeShapeStep,
  challengeStep,
  cimdAdvertisementStep,
  corsGetStep,
  exposedChallengeStep,
  invalidTokenStep,
  issOnErrorStep,
  metadataStep,
  otherMethodsStep,
  preflightStep,
  prmStep,
  randomPort,
  registrationStep,
  repeatRegistrationStep,
  resourceStep,
  tokenErrorStep,
  trailingSlashStep,
  unknownWellKnownStep,
  type Step,
} from './steps.ts';

export interface ClientProfile {
  id: string;
  name: string;
  /** One line on what is particular about this client. */
  about: string;
  steps: () => Step[];
}

const grant = { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };
const INSPECTOR_ORIGIN = 'http://localhost:6274';

export const clientProfiles: ClientProfile[] = [
  {
    id: 'sdk',
    name: 'MCP SDKs (TypeScript, Python) and the spec',
    about: 'challenge → PRM (path-suffixed, root) → RFC 8414 / OpenID discovery; DCR as a native public client; GET stream and session DELETE',
    steps: () => {
      const port = randomPort();
      const redirect = `http://localhost:${port}/callback`;
      return [
        challengeStep,
        otherMethodsStep,
        invalidTokenStep,
        prmStep('challenge-first'),
        resourceStep(false),
        metadataStep('spec'),
        registrationStep('an SDK client', () => ({
          body: { client_name: 'MCP SDK client (tollgate doctor)', redirect_uris: [redirect], token_endpoint_auth_method: 'none', application_type: 'native', ...grant },
          authorizeRedirectUri: redirect,
        })),
        authorizeStep('with the challenge/PRM scope and resource', { resource: true }),
        issOnErrorStep,
        tokenErrorStep(),
      ];
    },
  },
  {
    id: 'claude-code',
    name: 'Claude Code',
    about: 'authorization-server metadata only at the root /.well-known/oauth-authorization-server; metadata document only with "none"; loopback on localhost',
    steps: () => {
      const redirect = `http://localhost:${randomPort()}/callback`;
      return [
        challengeStep,
        prmStep('challenge-first'),
        resourceStep(false),
        metadataStep('root-only'),
        cimdAdvertisementStep,
        registrationStep('Claude Code', () => ({
          body: { client_name: 'Claude Code (tollgate doctor)', redirect_uris: [redirect], token_endpoint_auth_method: 'none', ...grant },
          authorizeRedirectUri: redirect,
        })),
        authorizeStep('with PRM scopes (+offline_access) and resource', { resource: true }),
      ];
    },
  },
  {
    id: 'claude-ai',
    name: 'claude.ai and Claude Desktop connectors',
    about: 'register on every connection (client_secret_post, hosted callback); scope "claudeai"; no resource parameter',
    steps: () => {
      const redirect = 'https://claude.ai/api/mcp/auth_callback';
      const shape = () => ({
        body: { client_name: 'claudeai (tollgate doctor)', redirect_uris: [redirect], token_endpoint_auth_method: 'client_secret_post', ...grant },
        authorizeRedirectUri: redirect,
      });
      return [
        challengeStep,
        prmStep('challenge-first'),
        resourceStep(false),
        metadataStep('path-aware-then-root'),
        registrationStep('claude.ai', shape),
        repeatRegistrationStep('claude.ai', shape),
        authorizeStep('with scope "claudeai" and no resource', { scope: 'claudeai', resource: false }),
      ];
    },
  },
  {
    id: 'chatgpt',
    name: 'ChatGPT connectors (developer mode, apps)',
    about: 'root PRM and root AS metadata; registers its hosted callback; PRM scopes and resource; a reconnect authorizes again with no scope',
    steps: () => {
      const redirect = 'https://chatgpt.com/connector_platform_oauth_redirect';
      return [
        challengeStep,
        prmStep('challenge-first'),
        resourceStep(false),
        metadataStep('path-aware-then-root'),
        registrationStep('ChatGPT', () => ({
          body: { client_name: 'ChatGPT (tollgate doctor)', redirect_uris: [redirect], token_endpoint_auth_method: 'client_secret_post', ...grant },
          authorizeRedirectUri: redirect,
        })),
        authorizeStep('with the PRM scopes and resource', { resource: true }),
        // Observed: after "Disconnect" then "Connect", ChatGPT authorizes the same client again without `scope`.
        authorizeStep('again on reconnect, with resource and no scope', { scope: null, resource: true }),
        tokenErrorStep(),
      ];
    },
  },
  {
    id: 'vscode',
    name: 'VS Code',
    about: 'PRM resource compared byte for byte; registers four redirect URIs, then authorizes on a random loopback port',
    steps: () => {
      const port = randomPort();
      return [
        challengeStep,
        prmStep('challenge-first'),
        resourceStep(true),
        metadataStep('spec'),
        registrationStep('VS Code (four redirect URIs)', () => ({
          body: {
            client_name: 'Visual Studio Code (tollgate doctor)',
            redirect_uris: ['https://insiders.vscode.dev/redirect', 'https://vscode.dev/redirect', 'http://127.0.0.1/', 'http://127.0.0.1:33418/'],
            token_endpoint_auth_method: 'none',
            ...grant,
          },
          authorizeRedirectUri: 'http://127.0.0.1:33418/',
        })),
        // RFC 8252 §7.3: any port on a loopback redirect; VS Code uses another when 33418 is taken.
        authorizeStep(`on another loopback port (http://127.0.0.1:${port}/)`, { redirectUri: `http://127.0.0.1:${port}/`, resource: true }),
      ];
    },
  },
  {
    id: 'cursor',
    name: 'Cursor',
    about: 'registers three redirect URIs including the private-use cursor:// scheme and authorizes with it',
    steps: () => [
      challengeStep,
      prmStep('challenge-first'),
      resourceStep(false),
      metadataStep('spec'),
      registrationStep('Cursor (three redirect URIs)', () => ({
        body: {
          client_name: 'Cursor (tollgate doctor)',
          redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback', 'https://www.cursor.com/agents/mcp/oauth/callback', `http://localhost:${randomPort()}/callback`],
          token_endpoint_auth_method: 'none',
          ...grant,
        },
        authorizeRedirectUri: 'cursor://anysphere.cursor-mcp/oauth/callback',
      })),
      authorizeStep('with redirect_uri cursor://anysphere.cursor-mcp/oauth/callback', { resource: true }),
    ],
  },
  {
    id: 'mcp-remote',
    name: 'mcp-remote',
    about: 'SDK discovery; registers http://localhost:<port>/oauth/callback with software_id; no challenge needed for PRM',
    steps: () => {
      const redirect = `http://localhost:${randomPort()}/oauth/callback`;
      return [
        challengeStep,
        prmStep('well-known-only'),
        resourceStep(false),
        metadataStep('spec'),
        registrationStep('mcp-remote', () => ({
          body: {
            client_name: 'MCP CLI Proxy (tollgate doctor)',
            client_uri: 'https://github.com/modelcontextprotocol/mcp-cli',
            software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
            software_version: '0.1.0',
            redirect_uris: [redirect],
            token_endpoint_auth_method: 'none',
            application_type: 'native',
            ...grant,
          },
          authorizeRedirectUri: redirect,
        })),
        authorizeStep('with the PRM scope and resource', { resource: true }),
      ];
    },
  },
  {
    id: 'inspector',
    name: 'MCP Inspector (browser)',
    about: `runs OAuth in the browser at ${INSPECTOR_ORIGIN}: metadata, registration and token need CORS`,
    steps: () => {
      const redirect = `${INSPECTOR_ORIGIN}/oauth/callback`;
      return [
        challengeStep,
        prmStep('challenge-first'),
        corsGetStep('protected-resource metadata readable cross-origin', (_c, s) => s.prm!.url, INSPECTOR_ORIGIN),
        metadataStep('spec'),
        corsGetStep('authorization-server metadata readable cross-origin', (_c, s) => s.metadataUrl!, INSPECTOR_ORIGIN),
        preflightStep('preflight for registration (POST, Content-Type)', (_c, s) => String(s.metadata!.registration_endpoint ?? ''), 'POST', ['content-type'], INSPECTOR_ORIGIN),
        registrationStep('the Inspector', () => ({
          body: { client_name: 'MCP Inspector (tollgate doctor)', redirect_uris: [redirect, `${INSPECTOR_ORIGIN}/oauth/callback/debug`], token_endpoint_auth_method: 'none', ...grant },
          authorizeRedirectUri: redirect,
          origin: INSPECTOR_ORIGIN,
        })),
        preflightStep('preflight for the token endpoint (POST, Content-Type)', (_c, s) => String(s.metadata!.token_endpoint), 'POST', ['content-type'], INSPECTOR_ORIGIN),
        tokenErrorStep(INSPECTOR_ORIGIN),
        authorizeStep('with the PRM scope and resource', { resource: true }),
      ];
    },
  },
  {
    id: 'hygiene',
    name: 'Every client: endpoint hygiene',
    about: "what any client may hit: a trailing slash, unknown well-known URLs, a browser (of the server's own origin) reading the 401",
    steps: () => [challengeStep, challengeShapeStep, trailingSlashStep, unknownWellKnownStep, exposedChallengeStep()],
  },
];
