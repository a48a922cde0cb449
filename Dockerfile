# syntax=docker/dockerfile:1
# target-profile-sink: build with the full toolchain, ship only the compiled CLI and its runtime deps.
#   docker build -t target-profile-sink .
#   docker run --rm target-profile-sink spec

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so editing the sources does not reinstall them. --ignore-scripts defers the
# `prepare` build (it needs the sources, copied below); no runtime dependency has an install script.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
# tsc reads tsconfig.build.json (which extends tsconfig.json) and bundles the mapping JSON Schema
# that connector/mapping imports from schemas/.
COPY tsconfig.json tsconfig.build.json ./
COPY connector ./connector
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# Airbyte platforms launch destinations through this variable rather than the image entrypoint.
ENV AIRBYTE_ENTRYPOINT="node /app/dist/connector/cli/main.js"
WORKDIR /app
# Files stay owned by root: the connector never writes to its own folder, so the node user
# cannot alter the code it runs. spec.json and package.json must sit at /app, where the CLI
# looks for its package root.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY spec.json ./spec.json
COPY schemas ./schemas
COPY examples ./examples
USER node
# Prometheus /metrics, /healthz and /readyz (config: metrics.port).
EXPOSE 9464
# Exec form keeps node as PID 1, so SIGTERM reaches the connector's drain-and-commit handler.
ENTRYPOINT ["node", "/app/dist/connector/cli/main.js"]
CMD ["run", "--config", "/config/config.yaml"]
