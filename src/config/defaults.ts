// Every setting Tollgate reads, with its default. The README's configuration reference is generated from this
// file (`npm run docs:config`), and test/config-docs.test.ts fails when the two drift.

export type SettingType = 'string' | 'integer' | 'boolean' | 'url' | 'enum';

export interface Setting {
  readonly env: string;
  readonly type: SettingType;
  /** `null` means "unset" (optional) or, where the description says so, derived from other settings. */
  readonly default: string | number | boolean | null;
  readonly description: string;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Never printed back (errors name the key, not the value). */
  readonly secret?: boolean;
}

const s = <T extends Setting>(setting: T): T => setting;

export const settings = {
  // --- process and HTTP
  host: s({ env: 'TOLLGATE_HOST', type: 'string', default: '127.0.0.1', description: 'Interface the HTTP server listens on.' }),
  port: s({ env: 'TOLLGATE_PORT', type: 'integer', default: 8787, min: 0, max: 65535, description: 'TCP port (0 picks a free one).' }),
  publicUrl: s({ env: 'TOLLGATE_PUBLIC_URL', type: 'url', default: null, description: 'The URL clients use to reach Tollgate; the OAuth issuer and every resource URL derive from it. Default: `http://<host>:<port>`. Never taken from request headers.' }),
  dataDir: s({ env: 'TOLLGATE_DATA_DIR', type: 'string', default: './.tollgate', description: 'Directory for the embedded database and the generated secret (created with mode 0700).' }),
  databaseUrl: s({ env: 'TOLLGATE_DATABASE_URL', type: 'string', default: null, description: '`sqlite:<path>` or `postgres://…`. Default: `sqlite:<dataDir>/tollgate.db`.' }),
  databasePoolSize: s({ env: 'TOLLGATE_DATABASE_POOL_SIZE', type: 'integer', default: 10, min: 1, max: 200, description: 'PostgreSQL connections per process.' }),
  databasePreparedStatements: s({ env: 'TOLLGATE_DATABASE_PREPARED_STATEMENTS', type: 'boolean', default: true, description: 'PostgreSQL: name repeated statements so each connection parses them once. Turn off behind a pooler in transaction mode without prepared-statement support (PgBouncer before 1.21).' }),
  secret: s({ env: 'TOLLGATE_SECRET', type: 'string', default: null, secret: true, description: 'Key material that encrypts signing keys at rest. Default: a random secret generated once into `<dataDir>/secret` (mode 0600). Set it when several processes share PostgreSQL.' }),
  logLevel: s({ env: 'TOLLGATE_LOG_LEVEL', type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info', description: 'Minimum level of the JSON log written to stdout.' }),
  bodyLimitBytes: s({ env: 'TOLLGATE_BODY_LIMIT_BYTES', type: 'integer', default: 1048576, min: 1024, max: 104857600, description: 'Largest accepted request body; larger ones get 413.' }),
  shutdownReadinessDelayMs: s({ env: 'TOLLGATE_SHUTDOWN_READINESS_DELAY_MS', type: 'integer', default: 0, min: 0, max: 600000, description: 'On SIGTERM, how long `/readyz` answers 503 while requests are still served, before the listener closes: set it to your load balancer\'s health-check interval × its failure threshold (e.g. 5000) so it stops sending first.' }),
  shutdownTimeoutMs: s({ env: 'TOLLGATE_SHUTDOWN_TIMEOUT_MS', type: 'integer', default: 10000, min: 0, max: 600000, description: 'How long SIGTERM waits for in-flight requests before closing connections.' }),

  // --- operations: metrics
  metricsPort: s({ env: 'TOLLGATE_METRICS_PORT', type: 'integer', default: null, min: 0, max: 65535, description: 'Serve Prometheus metrics at `/metrics` on this separate port (0 picks a free one). Default: no metrics listener.' }),
  metricsHost: s({ env: 'TOLLGATE_METRICS_HOST', type: 'string', default: '127.0.0.1', description: 'Interface of the metrics listener; keep it private (loopback or a scrape-only network).' }),
  metricsToken: s({ env: 'TOLLGATE_METRICS_TOKEN', type: 'string', default: null, secret: true, description: 'Serve `/metrics` on the main port too, to requests carrying `Authorization: Bearer <this token>` (at least 16 characters). Default: `/metrics` is not on the main port.' }),
  metricsTopWorkspaces: s({ env: 'TOLLGATE_METRICS_TOP_WORKSPACES', type: 'integer', default: 20, min: 0, max: 1000, description: 'Workspaces that get their own `workspace` label in the MCP and credits metrics: the N busiest, re-ranked as traffic moves (docs/operations.md); the rest are counted as `other`.' }),

  // --- bootstrap
  adminEmail: s({ env: 'TOLLGATE_ADMIN_EMAIL', type: 'string', default: 'admin@example.com', description: 'Email of the owner created on first start.' }),
  adminPassword: s({ env: 'TOLLGATE_ADMIN_PASSWORD', type: 'string', default: null, secret: true, description: 'Password of the owner created on first start. Default: a strong password generated and printed once.' }),
  seedDemo: s({ env: 'TOLLGATE_SEED_DEMO', type: 'boolean', default: true, description: 'On first start, create the `demo` workspace with sample data and make the owner its member.' }),

  // --- accounts and web
  sessionTtlSeconds: s({ env: 'TOLLGATE_SESSION_TTL_SECONDS', type: 'integer', default: 604800, min: 60, max: 31536000, description: 'Lifetime of a browser sign-in session.' }),
  loginMaxFailures: s({ env: 'TOLLGATE_LOGIN_MAX_FAILURES', type: 'integer', default: 10, min: 1, max: 1000, description: 'Failed sign-ins per account (and per IP, ×5) within the window before sign-in is throttled.' }),
  loginWindowSeconds: s({ env: 'TOLLGATE_LOGIN_WINDOW_SECONDS', type: 'integer', default: 900, min: 1, max: 86400, description: 'Window of the sign-in throttle.' }),

  // --- mail, invitations, password reset, two-factor
  smtpUrl: s({ env: 'TOLLGATE_SMTP_URL', type: 'string', default: null, secret: true, description: 'Mail server for invitations and password resets: `smtp://user:password@host:587` (STARTTLS when offered) or `smtps://user:password@host:465` (TLS from the start); percent-encode special characters in the user and password. Unset: nothing is mailed (invitation links are shown to the inviter only) and self-service password reset is off.' }),
  mailFrom: s({ env: 'TOLLGATE_MAIL_FROM', type: 'string', default: null, description: 'The From address of mail Tollgate sends, e.g. `Tollgate <tollgate@example.com>`. Default: `Tollgate <tollgate@<public URL host>>`.' }),
  invitationTtlSeconds: s({ env: 'TOLLGATE_INVITATION_TTL_SECONDS', type: 'integer', default: 604800, min: 300, max: 2592000, description: 'How long a workspace invitation link works (single use).' }),
  passwordResetTtlSeconds: s({ env: 'TOLLGATE_PASSWORD_RESET_TTL_SECONDS', type: 'integer', default: 1800, min: 300, max: 86400, description: 'How long a password-reset link works (single use).' }),
  requireAdminTwoFactor: s({ env: 'TOLLGATE_REQUIRE_ADMIN_TWO_FACTOR', type: 'boolean', default: false, description: 'Operators (`--admin` accounts) must use TOTP two-factor: one without it is sent to enrolment at sign-in and gets no session until it is set up.' }),
  // --- sign-in through OpenID Connect providers (identity)
  localPasswords: s({ env: 'TOLLGATE_LOCAL_PASSWORDS', type: 'boolean', default: true, description: 'Offer sign-in with a Tollgate password. Off: the sign-in page shows only the sign-in connections (`tollgate admin sso add`) and password sign-in is refused.' }),
  ssoAllowHttp: s({ env: 'TOLLGATE_SSO_ALLOW_HTTP', type: 'boolean', default: false, description: 'Allow `http` issuer URLs for sign-in connections (tests only).' }),
  ssoAllowPrivateAddresses: s({ env: 'TOLLGATE_SSO_ALLOW_PRIVATE_ADDRESSES', type: 'boolean', default: false, description: 'Allow sign-in connections to providers on loopback or private addresses (a Keycloak on the intranet; tests).' }),
  ssoTimeoutMs: s({ env: 'TOLLGATE_SSO_TIMEOUT_MS', type: 'integer', default: 5000, min: 100, max: 60000, description: 'Timeout of each request to a sign-in provider (discovery, keys, token, userinfo).' }),
  ssoMaxBytes: s({ env: 'TOLLGATE_SSO_MAX_BYTES', type: 'integer', default: 262144, min: 1024, max: 4194304, description: 'Largest answer accepted from a sign-in provider.' }),
  ssoCacheSeconds: s({ env: 'TOLLGATE_SSO_CACHE_SECONDS', type: 'integer', default: 3600, min: 0, max: 86400, description: 'How long a provider\'s discovery document and keys are reused (an unknown key id refetches the keys at once).' }),
  ssoClockSkewSeconds: s({ env: 'TOLLGATE_SSO_CLOCK_SKEW_SECONDS', type: 'integer', default: 60, min: 0, max: 600, description: 'Clock difference tolerated on an id_token\'s `exp` and `iat`.' }),
  ssoStartsPerIp: s({ env: 'TOLLGATE_SSO_STARTS_PER_IP', type: 'integer', default: 300, min: 1, max: 1000000, description: 'Sign-ins through a connection one IP may start within `TOLLGATE_LOGIN_WINDOW_SECONDS` (each stores a pending sign-in); more get 429.' }),
  ssoSignInTtlSeconds: s({ env: 'TOLLGATE_SSO_SIGN_IN_TTL_SECONDS', type: 'integer', default: 600, min: 60, max: 3600, description: 'How long a sign-in started at a provider may take to come back (its state is single use).' }),

  // --- OAuth authorization server
  issuerMode: s({ env: 'TOLLGATE_ISSUER_MODE', type: 'enum', values: ['root', 'workspace'], default: 'root', description: '`root`: one issuer at the public URL. `workspace`: one issuer per workspace at `<publicUrl>/<ws>`, metadata by RFC 8414 path insertion.' }),
  accessTokenTtlSeconds: s({ env: 'TOLLGATE_ACCESS_TOKEN_TTL_SECONDS', type: 'integer', default: 3600, min: 60, max: 86400, description: 'Lifetime of JWT access tokens.' }),
  refreshTokenTtlSeconds: s({ env: 'TOLLGATE_REFRESH_TOKEN_TTL_SECONDS', type: 'integer', default: 2592000, min: 300, max: 31536000, description: 'Lifetime of a refresh token (each rotation starts a new one).' }),
  refreshGraceSeconds: s({ env: 'TOLLGATE_REFRESH_GRACE_SECONDS', type: 'integer', default: 10, min: 0, max: 300, description: 'Window in which a rotated refresh token presented again returns the same successor (later, a fresh one while its successor is unused; a replay once it was used).' }),
  grantCacheMaxAgeMs: s({ env: 'TOLLGATE_GRANT_CACHE_MAX_AGE_MS', type: 'integer', default: 5000, min: 0, max: 60000, description: 'PostgreSQL: how long a process may trust a grant it found active without reading it again. Revocations reach every process at once through LISTEN/NOTIFY; this bounds the delay should a notification be lost. 0 reads the grant on every request.' }),
  codeTtlSeconds: s({ env: 'TOLLGATE_CODE_TTL_SECONDS', type: 'integer', default: 90, min: 60, max: 120, description: 'Lifetime of an authorization code (single use).' }),
  trustedProxyHops: s({ env: 'TOLLGATE_TRUSTED_PROXY_HOPS', type: 'integer', default: 0, min: 0, max: 10, description: 'Reverse proxies in front of Tollgate that append the client address to `X-Forwarded-For`. With 0 the per-IP limits (sign-in, registration) count the TCP peer; behind one proxy set 1, so they count the address that proxy saw instead of the proxy itself. Never set it higher than the proxies that really append: the client writes everything to their left.' }),
  dcrRatePerMinute: s({ env: 'TOLLGATE_DCR_RATE_PER_MINUTE', type: 'integer', default: 30, min: 1, max: 100000, description: 'Dynamic client registrations allowed per IP per minute.' }),
  unusedClientTtlSeconds: s({ env: 'TOLLGATE_UNUSED_CLIENT_TTL_SECONDS', type: 'integer', default: 86400, min: 60, max: 31536000, description: 'Self-registered clients that never completed a grant are deleted after this long.' }),
  secretRotationOverlapSeconds: s({ env: 'TOLLGATE_SECRET_ROTATION_OVERLAP_SECONDS', type: 'integer', default: 86400, min: 0, max: 2592000, description: 'After a client secret is rotated, how long the previous secret keeps working.' }),
  cimdAllowPrivateAddresses: s({ env: 'TOLLGATE_CIMD_ALLOW_PRIVATE_ADDRESSES', type: 'boolean', default: false, description: 'Allow client metadata documents on loopback/private addresses (tests and intranets only).' }),
  cimdAllowHttp: s({ env: 'TOLLGATE_CIMD_ALLOW_HTTP', type: 'boolean', default: false, description: 'Allow `http` client metadata document URLs (tests only).' }),
  cimdTimeoutMs: s({ env: 'TOLLGATE_CIMD_TIMEOUT_MS', type: 'integer', default: 5000, min: 100, max: 60000, description: 'Timeout for fetching a client metadata document.' }),
  cimdMaxBytes: s({ env: 'TOLLGATE_CIMD_MAX_BYTES', type: 'integer', default: 5120, min: 512, max: 1048576, description: 'Largest client metadata document accepted.' }),
  idpJwksAllowPrivateAddresses: s({ env: 'TOLLGATE_IDP_JWKS_ALLOW_PRIVATE_ADDRESSES', type: 'boolean', default: false, description: 'Allow the JWKS URL of a trusted identity provider (`tollgate admin idp add`) to use `http` and loopback/private addresses (tests and intranets only).' }),

  // --- MCP resource server
  sharedEndpoint: s({ env: 'TOLLGATE_SHARED_ENDPOINT', type: 'boolean', default: true, description: 'Serve the shared `/mcp` endpoint, where the workspace is chosen at consent.' }),
  allowedOrigins: s({ env: 'TOLLGATE_ALLOWED_ORIGINS', type: 'string', default: '', description: 'Comma-separated extra browser origins allowed to call MCP endpoints (the public URL\'s origin always is).' }),

  // --- credits and rate limits
  initialCredits: s({ env: 'TOLLGATE_INITIAL_CREDITS', type: 'integer', default: 1000, min: 0, max: 1000000000, description: 'Credits granted to a new workspace.' }),
  refundOnError: s({ env: 'TOLLGATE_REFUND_ON_ERROR', type: 'boolean', default: true, description: 'Refund a tool call\'s credits when its handler fails.' }),
  rateLimitPerMinute: s({ env: 'TOLLGATE_RATE_LIMIT_PER_MINUTE', type: 'integer', default: 60, min: 1, max: 10000000, description: 'Default plan: tool calls per minute, per workspace and per grant.' }),
  ratePlans: s({ env: 'TOLLGATE_RATE_PLANS', type: 'string', default: '', description: 'More plans besides `default`, comma-separated `name:perMinute` or `name:workspacePerMinute/grantPerMinute` (e.g. `pro:600,scale:6000/600`); assign one with `tollgate admin credits plan`.' }),
  rateLimitBackend: s({ env: 'TOLLGATE_RATE_LIMIT_BACKEND', type: 'enum', values: ['auto', 'memory', 'database', 'redis'], default: 'auto', description: '`auto`: in-process on SQLite, shared in the database on PostgreSQL, Redis when `redisUrl` is set.' }),
  redisUrl: s({ env: 'TOLLGATE_REDIS_URL', type: 'string', default: null, description: 'Redis for shared rate-limit counters (optional).' }),
  webhookSecret: s({ env: 'TOLLGATE_WEBHOOK_SECRET', type: 'string', default: null, secret: true, description: 'Shared secret for the payment webhook (`POST /api/webhooks/credits`); unset disables it.' }),
  stripeWebhookSecret: s({ env: 'TOLLGATE_STRIPE_WEBHOOK_SECRET', type: 'string', default: null, secret: true, description: 'Stripe endpoint signing secret (`whsec_…`): the credits webhook then also accepts Stripe\'s own signed events (`Stripe-Signature`), granting credits on `checkout.session.completed`.' }),
  webhookToleranceSeconds: s({ env: 'TOLLGATE_WEBHOOK_TOLERANCE_SECONDS', type: 'integer', default: 300, min: 1, max: 86400, description: 'How old (in seconds) a signed credits-webhook timestamp may be: a Stripe-Signature older than this is refused (Stripe\'s rule: a future one is not); a Tollgate-Signature may be this far off either way.' }),
  pricingCacheMaxAgeMs: s({ env: 'TOLLGATE_PRICING_CACHE_MAX_AGE_MS', type: 'integer', default: 5000, min: 0, max: 300000, description: 'How long a process uses the per-tool prices and plans it read without reading them again (metering never reads them per call). On PostgreSQL a change reaches every process at once through LISTEN/NOTIFY; this bounds the delay should a notification be lost, and is the delay on SQLite for changes made by another process.' }),
  buyCreditsUrl: s({ env: 'TOLLGATE_BUY_CREDITS_URL', type: 'url', default: null, description: 'Where users buy credits; shown when credits run out. Default: the workspace dashboard.' }),
  checkoutUrlTemplate: s({ env: 'TOLLGATE_CHECKOUT_URL_TEMPLATE', type: 'string', default: null, description: 'Checkout link behind the dashboard\'s "Buy credits" button and quoted when credits run out, with `{workspace}` (the slug) and `{external_id}` filled in, URL-encoded; e.g. a Stripe Payment Link `https://buy.stripe.com/…?client_reference_id={workspace}`. Takes precedence over `buyCreditsUrl`.' }),
  lowBalanceCredits: s({ env: 'TOLLGATE_LOW_BALANCE_CREDITS', type: 'integer', default: 100, min: 0, max: 1000000000, description: 'At or below this balance the dashboard warns and the `credits.low` event is sent (0: only when exhausted).' }),

  // --- audit log
  auditRetentionDays: s({ env: 'TOLLGATE_AUDIT_RETENTION_DAYS', type: 'integer', default: 0, min: 0, max: 36500, description: 'Audit log entries are deleted once this many days old; 0 keeps them for ever.' }),

  // --- outbound webhooks
  outboundWebhookAllowHttp: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_HTTP', type: 'boolean', default: false, description: 'Allow `http` webhook endpoint URLs (tests only).' }),
  outboundWebhookAllowPrivateAddresses: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_PRIVATE_ADDRESSES', type: 'boolean', default: false, description: 'Allow webhook endpoints on loopback and private addresses (tests and intranets only); otherwise deliveries reach public addresses only.' }),
  outboundWebhookTimeoutMs: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_TIMEOUT_MS', type: 'integer', default: 10000, min: 100, max: 120000, description: 'How long a delivery waits for the endpoint to answer.' }),
  outboundWebhookPollMs: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_POLL_MS', type: 'integer', default: 1000, min: 50, max: 600000, description: 'How often each `serve` process looks for due deliveries.' }),
  outboundWebhookLeaseSeconds: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_LEASE_SECONDS', type: 'integer', default: 60, min: 1, max: 3600, description: 'How long a process holds a delivery it claimed; a process that dies is replaced by another after this long.' }),
  outboundWebhookMaxAttempts: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_MAX_ATTEMPTS', type: 'integer', default: 10, min: 1, max: 100, description: 'Attempts per delivery before it is marked failed (a redeliver from the admin page starts again).' }),
  outboundWebhookRetentionDays: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_RETENTION_DAYS', type: 'integer', default: 30, min: 1, max: 3650, description: 'Finished deliveries (delivered, or failed for good) and their events are deleted once this many days old; pending ones are kept until delivered.' }),
  outboundWebhookRetryBaseSeconds: s({ env: 'TOLLGATE_OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS', type: 'integer', default: 30, min: 1, max: 86400, description: 'First retry delay; each later one doubles (at most 6 hours, with jitter).' }),

  // --- management API
  apiRateLimitPerMinute: s({ env: 'TOLLGATE_API_RATE_LIMIT_PER_MINUTE', type: 'integer', default: 600, min: 1, max: 1000000, description: 'Management API (`/api/v1/`): requests per minute per API key (shared by every process on PostgreSQL or Redis); more get 429 with `Retry-After`.' }),
  // --- gateway (upstream MCP servers)
  demo: s({ env: 'TOLLGATE_DEMO', type: 'boolean', default: true, description: 'Serve the built-in demo CRM toolset (and fill new demo workspaces with its sample data). `false` leaves only the credits tools and the gateway\'s upstreams.' }),
  gatewayTimeoutMs: s({ env: 'TOLLGATE_GATEWAY_TIMEOUT_MS', type: 'integer', default: 30000, min: 100, max: 3600000, description: 'How long a call to an upstream MCP server may take (per upstream: `tollgate upstream add --timeout`); then it fails as a tool error and is refunded.' }),
  gatewayPollMs: s({ env: 'TOLLGATE_GATEWAY_POLL_MS', type: 'integer', default: 2000, min: 100, max: 60000, description: 'How often a serving process checks whether the upstream configuration changed (on PostgreSQL a change is also heard at once by NOTIFY).' }),
  gatewayForwardedTokenTtlSeconds: s({ env: 'TOLLGATE_GATEWAY_FORWARDED_TOKEN_TTL_SECONDS', type: 'integer', default: 60, min: 10, max: 3600, description: 'Lifetime of the signed JWT forwarded to upstreams in place of the client\'s token (reused for the same caller while more than half of it is left).' }),
  gatewayBreakerFailures: s({ env: 'TOLLGATE_GATEWAY_BREAKER_FAILURES', type: 'integer', default: 5, min: 1, max: 1000, description: 'Failed calls in a row (down, timeout, garbage) after which an upstream\'s circuit breaker opens.' }),
  gatewayBreakerCooldownMs: s({ env: 'TOLLGATE_GATEWAY_BREAKER_COOLDOWN_MS', type: 'integer', default: 10000, min: 100, max: 600000, description: 'How long an open circuit breaker refuses calls before letting one trial call through.' }),
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof settings;
