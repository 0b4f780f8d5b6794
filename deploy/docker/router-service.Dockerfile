# syntax=docker/dockerfile:1
# ATP router image for Cloud Run. Build context: the repository root (see /.dockerignore).
#   docker build -f deploy/docker/router-service.Dockerfile -t REGION-docker.pkg.dev/PROJECT/REPO/atp-router:SHA .
# The build stage is identical in both service Dockerfiles, so the second image reuses its cache.
# test/deploy/docker-build.spec.ts runs the RUN steps of the build stage outside Docker.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full install, compile, then drop dev dependencies --------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 downloads a prebuilt binary at install; these are the fallback to compile it.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# webpack.config.js adds the PII worker-thread bundle (dist/apps/<app>/pii.worker.js); the console's
# assets are built by scripts/build-console.mjs (both part of `npm run build`).
COPY nest-cli.json tsconfig.json tsconfig.build.json webpack.config.js ./
COPY scripts/build-console.mjs ./scripts/build-console.mjs
COPY apps ./apps
COPY libs ./libs
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled JS + production node_modules, non-root, nothing writable but /tmp -----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ATP_DATA_DIR=/tmp/atp
WORKDIR /app
# Files stay owned by root and read-only for uid 1000; only /tmp (mode 1777 in the base image) is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/apps/router ./dist/apps/router
# The CLI ships too: the migration Cloud Run Job runs `node dist/apps/cli/main.js migrate` on this image.
COPY --from=build /app/dist/apps/cli ./dist/apps/cli
USER 1000
EXPOSE 8080
# Exec form: node is PID 1 and receives SIGTERM from Cloud Run directly (no shell in between).
CMD ["node", "dist/apps/router/main.js"]
