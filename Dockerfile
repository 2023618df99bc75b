# Tollgate in a container: a build stage that compiles the TypeScript (npm pack's own build), and a runtime stage with
# only the production dependencies, running as an unprivileged user on a read-only root filesystem (everything it
# writes goes to /data, a volume). Build: docker build -t tollgate .   Run: see compose.yaml.

# --- build: the dev dependencies, the compiled dist/ and the package tarball
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The pinned Node (an optional dependency) is left out: the image has Node 24.
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY docs ./docs
COPY README.md ./
RUN npm pack --pack-destination /tmp && mkdir /app && tar -xzf /tmp/tollgate-*.tgz -C /app --strip-components=1

# --- runtime: the package and its production dependencies only
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TOLLGATE_HOST=0.0.0.0 \
    TOLLGATE_PORT=8787 \
    TOLLGATE_DATA_DIR=/data \
    TOLLGATE_SHUTDOWN_READINESS_DELAY_MS=5000 \
    NODE_COMPILE_CACHE=/tmp/node-compile-cache
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /src/package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
# The node user (uid 1000) owns only /data; the application files stay root's and read-only to it.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 8787
# Readiness, not liveness: 503 while draining on SIGTERM, or when the database is unreachable.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.TOLLGATE_PORT||8787)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node itself is PID 1 and gets the SIGTERM (it handles it: readiness false, drain, exit).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/tollgate.js"]
CMD ["serve"]
